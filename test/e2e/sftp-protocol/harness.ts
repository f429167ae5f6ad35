/**
 * A tiny ssh2 SSH server on 127.0.0.1:0 that serves our SFTP layer on the
 * `sftp` subsystem, for driving it with OpenSSH `sftp` and the ssh2 client
 * before the product's SSH server exists. Public-key auth (a key made with
 * ssh-keygen in a temp dir, signatures verified) and password auth.
 */
import { spawn, spawnSync } from 'node:child_process';
import { timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Client, Server, utils, type ParsedKey, type SFTPWrapper } from 'ssh2';
import type { FileOps } from '../../../src/common/types';
import type { AppLogger, LogFields } from '../../../src/logger/types';
import { newSessionStats, serveSftp, type SftpSessionOptions, type SftpSessionStats } from '../../../src/sftpd/sftp/session';
import { createConnectionManager } from '../../../src/common/manager';
import type { CommonConfig } from '../../../src/config/types';
import { commonConfig, QuotaRecorder, RecordingMetrics } from '../../unit/common/support';
import { generateSshKeyPairSync } from '../../../src/util/sshkeygen';
import { testFilesystems } from '../../support/filesystems';

export const TEST_USER = 'tester';
export const TEST_PASSWORD = 'secret-pass';

export interface LogLine { level: string; sender: string; message: string; fields?: LogFields }

export function captureLogger(lines: LogLine[]): AppLogger {
  const add = (level: string) => (sender: string, message: string, fields?: LogFields): void => {
    lines.push({ level, sender, message, ...(fields ? { fields } : {}) });
  };
  return {
    debug: add('debug'), info: add('info'), warn: add('warn'), error: add('error'),
    isDebugEnabled: () => true,
    transfer: () => undefined, command: () => undefined, connectionFailed: () => undefined,
    login: () => undefined, http: () => undefined, rotate: () => undefined, flush: async () => undefined,
  };
}

export interface Harness {
  port: number;
  /** the directory the test user sees as "/" */
  root: string;
  keyPath: string;
  logs: LogLine[];
  /** one entry per SFTP session, in start order */
  sessions: SftpSessionStats[];
  ops: FileOps[];
  /** how many SFTP sessions have ended so far */
  endedCount(): number;
  /** resolves when `n` SFTP sessions have ended */
  sessionsEnded(n: number): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** common config overrides (defaults: atomic uploads, symlinks allowed, no idle timeout) */
  common?: Partial<CommonConfig>;
  session?: Partial<Pick<SftpSessionOptions, 'maxPacketLength' | 'maxInflightReadBytes' | 'maxPendingWriteBytes' | 'maxOpenHandles' | 'homeDirectory'>>;
}

export async function startHarness(hopts: HarnessOptions = {}): Promise<Harness> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'sftp-proto-'));
  const root = path.join(base, 'data');
  fs.mkdirSync(root);
  const keyPath = path.join(base, 'id_ed25519');
  const kg = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyPath], { stdio: 'ignore' });
  if (kg.status !== 0) throw new Error('ssh-keygen failed');
  const parsed = utils.parseKey(fs.readFileSync(`${keyPath}.pub`));
  if (parsed instanceof Error) throw parsed;
  const userKey: ParsedKey = Array.isArray(parsed) ? parsed[0]! : parsed;
  const hostKey = generateSshKeyPairSync('ed25519');

  const logs: LogLine[] = [];
  const logger = captureLogger(logs);
  const sessions: SftpSessionStats[] = [];
  const opsList: FileOps[] = [];
  const user = { status: 1, username: TEST_USER, home_dir: root, permissions: { '/': ['*' as const] } };
  // the real common/connection.ts behind every session, with recording seams
  const common = commonConfig({ upload_mode: 1, symlink_mode: 1, idle_timeout: 0, ...hopts.common });
  const metrics = new RecordingMetrics();
  const mgr = createConnectionManager({
    config: common, logger, metrics, provider: new QuotaRecorder([user]), filesystems: testFilesystems(common, logger, metrics),
  });
  let ended = 0;
  const endWaiters: Array<{ n: number; resolve: () => void }> = [];
  const onEnded = (): void => {
    ended++;
    for (const w of endWaiters.filter((x) => x.n <= ended)) {
      endWaiters.splice(endWaiters.indexOf(w), 1);
      w.resolve();
    }
  };
  const clients = new Set<{ end(): void }>();

  const server = new Server({ hostKeys: [hostKey.private] }, (client) => {
    clients.add(client);
    const gone = new AbortController();
    client.on('error', () => undefined);
    client.on('close', () => {
      clients.delete(client);
      gone.abort();
    });
    client.on('authentication', (ctx) => {
      if (ctx.username !== TEST_USER) return ctx.reject();
      if (ctx.method === 'password') {
        const a = Buffer.from(ctx.password);
        const b = Buffer.from(TEST_PASSWORD);
        return a.length === b.length && timingSafeEqual(a, b) ? ctx.accept() : ctx.reject();
      }
      if (ctx.method === 'publickey') {
        const same = ctx.key.algo === userKey.type && ctx.key.data.length === userKey.getPublicSSH().length &&
          timingSafeEqual(ctx.key.data, userKey.getPublicSSH());
        if (!same) return ctx.reject();
        // the first (signature-less) query only asks whether the key is acceptable
        if (!ctx.signature) return ctx.accept();
        return userKey.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true ? ctx.accept() : ctx.reject();
      }
      return ctx.reject(['publickey', 'password']);
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.on('subsystem', (acceptSub, _reject, info) => {
          if (info.name !== 'sftp') return _reject();
          const channel = acceptSub();
          const ops = mgr.add({
            protocol: 'SFTP', user, remoteAddr: '127.0.0.1:1', localAddr: '127.0.0.1:2',
            session: { disconnect: () => client.end() },
          });
          const stats = newSessionStats();
          sessions.push(stats);
          opsList.push(ops);
          void serveSftp(channel, ops, {
            logger, connectionId: `SFTP_test_${sessions.length}`, homeDirectory: '/', stats, signal: gone.signal,
            usersGroupsNames: { user: (uid) => (uid === process.getuid?.() ? 'me' : ''), group: () => '' },
            beforeEnd: (clean) => {
              if (clean) channel.exit(0);
            },
            ...hopts.session,
          }).then(() => mgr.remove(ops.id)).then(onEnded);
        });
      });
    });
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    port, root, keyPath, logs, sessions, ops: opsList,
    endedCount: () => ended,
    sessionsEnded: (n) => (ended >= n ? Promise.resolve() : new Promise((resolve) => endWaiters.push({ n, resolve }))),
    close: async () => {
      for (const c of clients) c.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await mgr.shutdown(0);
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}

export interface RunResult { code: number | null; stdout: string; stderr: string }

/** Runs OpenSSH `sftp -b` with the given batch lines (a leading "-" ignores a line's failure). */
export function runSftp(h: Harness, lines: string[], cwd?: string): Promise<RunResult> {
  const batch = path.join(path.dirname(h.keyPath), `batch-${process.hrtime.bigint()}.txt`);
  fs.writeFileSync(batch, lines.join('\n') + '\n');
  const args = [
    '-b', batch, '-P', String(h.port), '-i', h.keyPath,
    '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', `${TEST_USER}@127.0.0.1`,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('sftp', args, { cwd: cwd ?? path.dirname(h.keyPath), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      fs.rmSync(batch, { force: true });
      resolve({ code, stdout, stderr });
    });
  });
}

/** An ssh2 client connected with the test password. */
export function connectClient(h: Harness): Promise<Client> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.once('ready', () => resolve(c));
    c.once('error', reject);
    c.connect({ host: '127.0.0.1', port: h.port, username: TEST_USER, password: TEST_PASSWORD });
  });
}

export function openSftp(c: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => c.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
}
