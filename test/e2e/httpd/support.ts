/**
 * Starts the real HTTP service on 127.0.0.1 (OS-chosen port) with a real
 * sqlite data provider in a temp dir, and offers a small fetch wrapper that
 * records every response body (so tests can assert no hash ever leaks).
 */
import { createKms } from '../../../src/kms';
import { openPerimeter } from '../../../src/common/perimeter';
import { noEventManager, noEvents } from '../../../src/common/events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config';
import type { AppConfig, HttpdBinding, RuntimeOptions } from '../../../src/config/types';
import type { ServerContext } from '../../../src/common/context';
import { createConnectionManager } from '../../../src/common/manager';
import { ProviderService } from '../../../src/dataprovider/service';
import { AccountSecrets } from '../../../src/dataprovider/secrets';
import { TotpValidator } from '../../../src/mfa/totp';
import { openSqliteBackend } from '../../../src/dataprovider/sqlite';
import type { AppLogger, LogFields } from '../../../src/logger/types';
import { createMetrics } from '../../../src/metrics/metrics';
import { createHttpService, type HttpService, type HttpServiceOptions } from '../../../src/httpd/server';
import { getVersionInfo } from '../../../src/service/version';
import { testFilesystems } from '../../support/filesystems';

export interface LogRecord { level: string; sender: string; message: string; fields?: LogFields }

export function recordingLogger(records: LogRecord[]): AppLogger {
  const rec = (level: string) => (sender: string, message: string, fields?: LogFields): void => { records.push({ level, sender, message, fields }); };
  return {
    debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error'),
    isDebugEnabled: () => true,
    transfer: () => undefined,
    command: () => undefined,
    connectionFailed: (e) => { records.push({ level: 'debug', sender: 'connection_failed', message: '', fields: { ...e } }); },
    login: () => undefined,
    http: (fields) => { records.push({ level: 'http', sender: 'httpd', message: '', fields }); },
    rotate: () => undefined,
    flush: async () => undefined,
  };
}

export interface Resp { status: number; headers: Headers; text: string; json: unknown }

export interface StartOptions {
  binding?: Partial<HttpdBinding>;
  configure?: (c: AppConfig) => void;
  service?: Partial<HttpServiceOptions>;
  /** created before start: admin/password with '*' */
  noDefaultAdmin?: boolean;
  /** runs with the config dir before the service starts (certificates, files) */
  prepare?: (dir: string) => Promise<void>;
  /** the TOTP validator's clock (tests step it 30 s at a time to get fresh codes) */
  totpNow?: () => number;
}

export interface TestServer {
  dir: string;
  base: string;
  ctx: ServerContext;
  svc: HttpService;
  logs: LogRecord[];
  /** every response body seen by `call` */
  bodies: string[];
  call(method: string, path: string, o?: { token?: string; apiKey?: string; body?: unknown; raw?: string | Buffer; headers?: Record<string, string>; basic?: [string, string] }): Promise<Resp>;
  token(username?: string, password?: string): Promise<string>;
  close(): Promise<void>;
}

export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'httpd-e2e-'));
  const config = loadConfig({ configDir: dir, env: {} });
  config.httpd.bindings = [{ ...config.httpd.bindings[0], port: 0, address: '127.0.0.1',
    // the web UI (src/httpd/web, another module) has its own tests
    enable_web_admin: false, enable_web_client: false, ...opts.binding }];
  config.data_provider.driver = 'sqlite';
  config.data_provider.name = join(dir, 'sftpgo.db');
  // cheap hashing keeps the suite fast; the algorithm is the same
  config.data_provider.password_hashing.bcrypt_options.cost = 4;
  opts.configure?.(config);
  const logs: LogRecord[] = [];
  const logger = recordingLogger(logs);
  const metrics = createMetrics({ defaultMetrics: false });
  const backend = openSqliteBackend({ file: config.data_provider.name });
  await backend.migrate();
  const kms = createKms(config.kms);
  const secrets = new AccountSecrets(kms, new TotpValidator(config.mfa.totp, opts.totpNow));
  const provider = new ProviderService({ backend, config: config.data_provider, logger, kms, secrets });
  const filesystems = testFilesystems(config.common, logger, metrics, kms);
  const connections = createConnectionManager({ config: config.common, logger, metrics, provider, filesystems });
  const runtime: RuntimeOptions = {
    configDir: dir, configFile: '', logFilePath: '', logLevel: 'debug', logMaxSize: 10, logMaxBackups: 5, logMaxAge: 28,
    logCompress: false, logUTCTime: true, graceTime: 0, loadDataFrom: '', loadDataMode: 0, loadDataClean: false, loadDataQuotaScan: 0,
  };
  const ctx: ServerContext = {
    kms, filesystems, perimeter: openPerimeter(), events: noEvents(), eventManager: noEventManager(), config, runtime, logger, metrics, provider, connections, version: getVersionInfo({}) };
  if (!opts.noDefaultAdmin) await provider.addAdmin({ username: 'admin', password: 'password', status: 1, permissions: ['*'] });
  await opts.prepare?.(dir);
  const svc = createHttpService(ctx, { serviceStatus: () => ({ ssh: { is_active: false } }), ephemeralPorts: true, ...opts.service });
  await svc.start();
  const addr = svc.addresses()[0];
  const scheme = opts.binding?.enable_https ? 'https' : 'http';
  const base = `${scheme}://127.0.0.1:${addr.port}`;
  const bodies: string[] = [];

  const call: TestServer['call'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers['authorization'] = `Bearer ${o.token}`;
    if (o.apiKey) headers['x-sftpgo-api-key'] = o.apiKey;
    if (o.basic) headers['authorization'] = `Basic ${Buffer.from(`${o.basic[0]}:${o.basic[1]}`).toString('base64')}`;
    let body: string | Buffer | undefined;
    if (o.raw !== undefined) body = o.raw;
    else if (o.body !== undefined) body = JSON.stringify(o.body);
    if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
    const res = await fetch(base + path, { method, headers, body });
    const text = await res.text();
    bodies.push(text);
    let json: unknown;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, headers: res.headers, text, json };
  };

  const token = async (username = 'admin', password = 'password'): Promise<string> => {
    const r = await call('GET', '/api/v2/token', { basic: [username, password] });
    if (r.status !== 200) throw new Error(`token request failed: ${r.status} ${r.text}`);
    return (r.json as { access_token: string }).access_token;
  };

  return {
    dir, base, ctx, svc, logs, bodies, call, token,
    async close() {
      await svc.stop();
      await svc.scans.whenIdle();
      await connections.shutdown(0);
      await provider.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** bcrypt / argon2 / other crypt hashes must never appear in API output. */
export const HASH_RE = /\$2[aby]\$|\$argon2|\$pbkdf2|\$[156y]\$/;
