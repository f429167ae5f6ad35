/**
 * One cluster node for the multi-node tests: `sftpgo serve` in its own
 * process and dir, data_provider.is_shared 1 on the given database, one
 * worker, its REST port as the node address.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataProviderConfig } from '../../../src/config/types';
import { removeDaemonDir, startDaemon, until, type Daemon } from '../../support/daemon';
import { createDatabase } from '../../support/databases';
import { freePort } from '../../support/net';
import { keyOpts, run } from '../sftpd/openssh';

export interface ClusterConn { username: string; connection_id: string; node: string; protocol: string }

/** The env of a cluster member on this database: data_provider keys with is_shared 1, node on loopback. */
export function sharedProviderEnv(c: Partial<DataProviderConfig>): Record<string, string> {
  return {
    SFTPGO_DATA_PROVIDER__DRIVER: String(c.driver), SFTPGO_DATA_PROVIDER__NAME: String(c.name),
    SFTPGO_DATA_PROVIDER__HOST: String(c.host), SFTPGO_DATA_PROVIDER__PORT: String(c.port),
    SFTPGO_DATA_PROVIDER__USERNAME: String(c.username), SFTPGO_DATA_PROVIDER__PASSWORD: '',
    SFTPGO_DATA_PROVIDER__IS_SHARED: '1', SFTPGO_DATA_PROVIDER__NODE__HOST: '127.0.0.1',
  };
}

/** `httpPort`: when the test must know the node's address before it starts (an OpenID provider's redirect URI) */
export async function startNode(c: Partial<DataProviderConfig>, extra: Record<string, string> = {}, httpPort?: number): Promise<Daemon> {
  const dir = mkdtempSync(join(tmpdir(), 'sftpgo-node-'));
  const sftpPort = await freePort();
  httpPort ??= await freePort();
  return startDaemon({
    reuse: { dir, sftpPort, httpPort },
    // three nodes generating host keys at once on a busy machine start slowly
    startTimeoutMs: 120_000,
    env: {
      ...sharedProviderEnv(c), SFTPGO_DATA_PROVIDER__NODE__PORT: String(httpPort),
      SFTPGO_DATA_PROVIDER__NODE__PROTO: 'http',
      // one process per node here (the default with a shared provider is one worker per core)
      SFTPGO_WORKERS: '1',
      SFTPGO_FTPD__BINDINGS__0__PORT: '0', SFTPGO_WEBDAVD__BINDINGS__0__PORT: '0',
      ...extra,
    },
  });
}

/**
 * `serve --workers N` on a fresh PostgreSQL database; the database, the daemon and its dir go through `cleanups`
 * (the caller runs them in t.after), so a failed start leaves nothing behind.
 */
export async function startWorkers(cleanups: (() => Promise<void> | void)[], count: number, extra: Record<string, string> = {}): Promise<Daemon> {
  const db = await createDatabase('postgresql');
  cleanups.push(() => db.drop());
  const dir = mkdtempSync(join(tmpdir(), 'sftpgo-workers-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const [sftpPort, httpPort] = [await freePort(), await freePort()];
  const d = await startDaemon({
    reuse: { dir, sftpPort, httpPort },
    // several workers generating host keys on a busy machine start slowly
    startTimeoutMs: 120_000,
    env: {
      ...sharedProviderEnv(db.config),
      SFTPGO_FTPD__BINDINGS__0__PORT: '0', SFTPGO_WEBDAVD__BINDINGS__0__PORT: '0',
      SFTPGO_WORKERS: String(count),
      ...extra,
    },
  });
  cleanups.push(() => removeDaemonDir(d));
  return d;
}

/** OpenSSH sftp in batch mode with a key. */
export function sftp(d: Daemon, key: string, user: string, batch: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return run('sftp', [...keyOpts(key), '-P', String(d.sftpPort), '-b', '-', `${user}@127.0.0.1`], { input: batch, timeoutMs: 120_000 });
}

export interface HeldSession {
  /** sends the last command and closes stdin: batch-mode sftp exits after it (non-zero if the server is gone) */
  finish(command: string): Promise<number | null>;
  kill(): void;
}

/** An OpenSSH sftp session kept open on a node (it reads its batch from our pipe); resolves once it is logged in. */
export async function holdSftp(d: Daemon, key: string, user: string): Promise<HeldSession> {
  const held = spawn('sftp', [...keyOpts(key), '-P', String(d.sftpPort), '-b', '-', `${user}@127.0.0.1`], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((res) => held.on('close', (code) => res(code)));
  const session: HeldSession = {
    finish: (command) => { held.stdin.end(`${command}\n`); return exited; },
    kill: () => { if (held.exitCode === null && held.signalCode === null) held.kill('SIGKILL'); },
  };
  let out = '';
  held.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  held.stdin.write('pwd\n');
  try {
    await until(`the sftp session of ${user} on port ${d.sftpPort}`, async () => out.includes('Remote working directory') || held.exitCode !== null, 60_000);
  } catch (e) {
    session.kill();
    throw e;
  }
  if (held.exitCode !== null) throw new Error(`sftp to port ${d.sftpPort} exited with ${held.exitCode} before logging in`);
  return session;
}
