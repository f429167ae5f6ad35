/**
 * The whole application (startApp) with SFTP, FTP, WebDAV and HTTP on free
 * 127.0.0.1 ports, a sqlite provider in a temp dir, an HTTP receiver in the
 * test process that records every request (method, URL, body) and answers
 * with a status the test chooses, and the clients the event tests drive:
 * OpenSSH sftp/scp/ssh (key auth), lftp, curl, the REST API.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SMTPServer } from 'smtp-server';
import { isFsError } from '../../../src/common/errors';
import { loadConfig } from '../../../src/config';
import type { AppConfig, RuntimeOptions } from '../../../src/config/types';
import { startApp, type App } from '../../../src/service/app';
import { freePort, freePortRange } from '../../support/net';
import { writeKeyPair, type TestKeyPair } from '../../support/sshkeys';
import { keyOpts, run, type ProcResult } from '../sftpd/openssh';
import { lftp, type LftpResult } from '../ftpd/harness';

const exec = promisify(execFile);

export interface Received { method: string; url: URL; body: Buffer; headers: IncomingMessage['headers'] }

export interface Receiver {
  url: string;
  requests: Received[];
  /** the status to answer (default 200) */
  answer: (r: Received) => number;
  /** resolves when the answer may be sent (default at once): lets a test hold a hook call open */
  hold: (r: Received) => Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const requests: Received[] = [];
  const rec: Receiver = { url: '', requests, answer: () => 200, hold: () => Promise.resolve(), close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { method: req.method ?? '', url: new URL(req.url ?? '/', 'http://x'), body: Buffer.concat(chunks), headers: req.headers };
      requests.push(r);
      void rec.hold(r).then(() => {
        res.statusCode = rec.answer(r);
        res.end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  rec.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  rec.close = () => new Promise((resolve) => server.close(() => resolve()));
  return rec;
}

export interface EventsEnv {
  app: App;
  dir: string;
  key: TestKeyPair;
  ports: { sftp: number; ftp: number; dav: number; http: number };
  /** a local scratch dir for client files */
  local: string;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }>;
  sftp(user: string, ...cmds: string[]): Promise<ProcResult>;
  scp(user: string, localFile: string, remote: string): Promise<ProcResult>;
  ssh(user: string, command: string): Promise<ProcResult>;
  ftp(user: string, password: string, script: string[]): Promise<LftpResult>;
  /** curl -T to WebDAV; resolves with the HTTP status */
  davPut(user: string, password: string, localFile: string, remote: string): Promise<number>;
  homeOf(user: string): string;
  stop(): Promise<void>;
}

export async function startEventsEnv(configure: (c: AppConfig, dir: string) => void | Promise<void>, clock?: () => number): Promise<EventsEnv> {
  const dir = await mkdtemp(join(tmpdir(), 'events-e2e-'));
  await exec('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-C', 'host', '-f', join(dir, 'host_ecdsa')]);
  const key = await writeKeyPair(dir, 'client', 'ecdsa');
  const local = join(dir, 'local');
  await mkdir(local);
  const ports = { sftp: await freePort(), ftp: await freePort(), dav: await freePort(), http: await freePort() };
  const config = loadConfig({ configDir: dir, env: {} });
  config.sftpd.bindings = [{ ...config.sftpd.bindings[0]!, port: ports.sftp, address: '127.0.0.1' }];
  config.sftpd.host_keys = [join(dir, 'host_ecdsa')];
  config.sftpd.enabled_ssh_commands = ['md5sum', 'sha1sum', 'sha256sum', 'cd', 'pwd', 'scp', 'sftpgo-copy', 'sftpgo-remove'];
  config.ftpd.bindings = [{ ...config.ftpd.bindings[0]!, port: ports.ftp, address: '127.0.0.1' }];
  config.ftpd.passive_port_range = await freePortRange(10);
  config.webdavd.bindings = [{ ...config.webdavd.bindings[0]!, port: ports.dav, address: '127.0.0.1' }];
  config.httpd.bindings = [{ ...config.httpd.bindings[0]!, port: ports.http, address: '127.0.0.1' }];
  config.data_provider.driver = 'sqlite';
  config.data_provider.name = join(dir, 'sftpgo.db');
  config.data_provider.create_default_admin = false;
  config.data_provider.password_hashing.bcrypt_options.cost = 4;
  config.common.idle_timeout = 0;
  // hook HTTP calls are not retried by default here: a refused call must fail at once
  config.http.retry_max = 0;
  await configure(config, dir);
  const runtime: RuntimeOptions = {
    configDir: dir, configFile: '', logFilePath: join(dir, 'sftpgo.log'), logLevel: 'debug', logMaxSize: 10, logMaxBackups: 0,
    logMaxAge: 0, logCompress: false, logUTCTime: true, graceTime: 0, loadDataFrom: '', loadDataMode: 0,
    loadDataClean: false, loadDataQuotaScan: 0,
  };
  let app: App;
  try {
    app = await startApp({ runtime, config, eventsClock: clock });
    // nodes sharing one database: the first one made the admin
    await app.ctx.provider.addAdmin({ username: 'admin', password: 'password', status: 1, permissions: ['*'] })
      .catch((e: unknown) => { if (!isFsError(e, 'AlreadyExists')) throw e; });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const base = `http://127.0.0.1:${ports.http}`;
  let token = '';
  const ssh = ['-P', String(ports.sftp), ...keyOpts(key.privateKeyPath)];
  return {
    app, dir, key, ports, local,
    async api(method, path, body) {
      if (token === '') {
        const t = await fetch(`${base}/api/v2/token`, { headers: { authorization: `Basic ${Buffer.from('admin:password').toString('base64')}` } });
        token = ((await t.json()) as { access_token: string }).access_token;
      }
      const res = await fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      let json: unknown;
      try { json = JSON.parse(text); } catch { json = undefined; }
      return { status: res.status, json };
    },
    sftp: (user, ...cmds) => run('sftp', [...ssh, '-b', '-', `${user}@127.0.0.1`], { input: cmds.join('\n') + '\n' }),
    // -O: the legacy SCP protocol (recent OpenSSH speaks SFTP by default)
    scp: (user, localFile, remote) => run('scp', ['-O', ...ssh, localFile, `${user}@127.0.0.1:${remote}`]),
    ssh: (user, command) => run('ssh', ['-p', String(ports.sftp), ...keyOpts(key.privateKeyPath), `${user}@127.0.0.1`, command]),
    ftp: (user, password, script) => lftp(`ftp://127.0.0.1:${ports.ftp}`, user, password, script, ['set ftp:ssl-allow no'], local),
    async davPut(user, password, localFile, remote) {
      const r = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-u', `${user}:${password}`, '-T', localFile,
        `http://127.0.0.1:${ports.dav}${remote}`]);
      return Number(r.stdout);
    },
    homeOf: (user) => join(dir, 'homes', user),
    async stop() {
      await app.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface SmtpPeer { port: number; mails: { from: string; to: string[]; raw: string }[]; close(): Promise<void> }

/** A real SMTP server (the smtp-server package) on a free loopback port, recording every delivered message. */
export async function startSmtpPeer(): Promise<SmtpPeer> {
  const mails: SmtpPeer['mails'] = [];
  const smtp = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString() });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  return {
    port: (smtp.server.address() as { port: number }).port, mails,
    close: () => new Promise<void>((resolve) => smtp.close(() => resolve())),
  };
}

/** A REST call that must answer `status` (201 by default); returns the JSON body. */
export async function apiOk(env: EventsEnv, method: string, path: string, body: unknown, status = 201): Promise<unknown> {
  const r = await env.api(method, path, body);
  assert.equal(r.status, status, JSON.stringify(r.json));
  return r.json;
}
