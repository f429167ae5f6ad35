/**
 * The whole application (service/app.ts startApp) with SFTP, FTP, WebDAV,
 * HTTP and telemetry on free 127.0.0.1 ports, a sqlite provider in a temp
 * config dir, plus Prometheus text parsing and small client helpers.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, type SFTPWrapper } from 'ssh2';
import { loadConfig } from '../../../src/config';
import type { RuntimeOptions } from '../../../src/config/types';
import { startApp, type App } from '../../../src/service/app';
import { freePort, freePortRange } from '../../support/net';

const run = promisify(execFile);

export interface FullEnv {
  app: App;
  dir: string;
  ports: { sftp: number; ftp: number; dav: number; http: number; telemetry: number };
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown; text: string }>;
  stop(): Promise<void>;
}

export async function startFullApp(): Promise<FullEnv> {
  const dir = await mkdtemp(join(tmpdir(), 'metrics-e2e-'));
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'host', '-f', join(dir, 'host_ed25519')]);
  const ports = { sftp: await freePort(), ftp: await freePort(), dav: await freePort(), http: await freePort(), telemetry: await freePort() };
  const config = loadConfig({ configDir: dir, env: {} });
  config.sftpd.bindings = [{ ...config.sftpd.bindings[0], port: ports.sftp, address: '127.0.0.1' }];
  config.sftpd.host_keys = [join(dir, 'host_ed25519')];
  config.ftpd.bindings = [{ ...config.ftpd.bindings[0], port: ports.ftp, address: '127.0.0.1' }];
  config.ftpd.passive_port_range = await freePortRange(20);
  config.webdavd.bindings = [{ ...config.webdavd.bindings[0], port: ports.dav, address: '127.0.0.1' }];
  config.httpd.bindings = [{ ...config.httpd.bindings[0], port: ports.http, address: '127.0.0.1' }];
  config.telemetry.bind_port = ports.telemetry;
  config.telemetry.bind_address = '127.0.0.1';
  config.data_provider.driver = 'sqlite';
  config.data_provider.name = join(dir, 'sftpgo.db');
  config.data_provider.create_default_admin = false;
  config.data_provider.password_hashing.bcrypt_options.cost = 4;
  config.common.idle_timeout = 0;
  const runtime: RuntimeOptions = {
    configDir: dir, configFile: '', logFilePath: join(dir, 'sftpgo.log'), logLevel: 'debug', logMaxSize: 10, logMaxBackups: 0,
    logMaxAge: 0, logCompress: false, logUTCTime: true, graceTime: 0, loadDataFrom: '', loadDataMode: 0,
    loadDataClean: false, loadDataQuotaScan: 0,
  };
  let app: App;
  try {
    app = await startApp({ runtime, config });
    await app.ctx.provider.addAdmin({ username: 'admin', password: 'password', status: 1, permissions: ['*'] });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const base = `http://127.0.0.1:${ports.http}`;
  let token = '';
  const api: FullEnv['api'] = async (method, path, body) => {
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
    return { status: res.status, json, text };
  };
  return {
    app, dir, ports, api,
    async stop() {
      await app.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Unlabeled samples of a Prometheus text exposition: name → value. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[2] === undefined) out.set(m[1], Number(m[3]));
  }
  return out;
}

export async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`scrape ${url}: ${res.status}`);
  return parseMetrics(await res.text());
}

export async function sshConnect(port: number, username: string, password: string): Promise<Client> {
  const client = new Client();
  return new Promise((resolve, reject) => {
    client.once('error', reject);
    client.once('ready', () => {
      client.off('error', reject);
      client.on('error', () => undefined);
      resolve(client);
    });
    client.connect({ host: '127.0.0.1', port, username, password, readyTimeout: 30000, tryKeyboard: false });
  });
}

export function sftpOf(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
}

/** Runs a command over an SSH exec channel; resolves with its stdout and exit code. */
export function sshExec(client: Client, command: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, ch) => {
      if (err) { reject(err); return; }
      let stdout = '';
      let code: number | null = null;
      ch.on('data', (d: Buffer) => { stdout += d.toString(); });
      ch.stderr.on('data', () => undefined);
      ch.on('exit', (c: number | null) => { code = c; });
      ch.on('close', () => resolve({ code, stdout }));
    });
  });
}

/** Resolves once the client connection is fully closed. */
export function sshEnd(client: Client): Promise<void> {
  return new Promise((resolve) => {
    client.once('close', () => resolve());
    client.end();
  });
}
