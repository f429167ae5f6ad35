/**
 * The real daemon as users run it: `sftpgo serve` in a child process with a
 * temp config dir, free loopback ports, SFTPGO_* env overrides and a default
 * admin; driven over the REST API and real clients. Used by the product-level
 * end-to-end tests (restart, graceful shutdown, killed clients, concurrency).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, waitForPort } from './net';
import { NODE_FLAGS } from '../../src/cmd/node-flags';

const MAIN = resolve(__dirname, '../../src/cmd/main.js');
const REPO_CONFIG = resolve(__dirname, '../../../sftpgo.json');
export const ADMIN_PASSWORD = 'daemon-test-admin-pw';

export interface Daemon {
  dir: string;
  configDir: string;
  sftpPort: number;
  httpPort: number;
  proc: ChildProcess;
  /** resolves with the exit code (or signal name) */
  exited: Promise<number | string | null>;
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }>;
  logLines(): Record<string, unknown>[];
  /** everything the daemon wrote on stderr so far (start-up errors are one line there) */
  stderr(): string;
}

export interface DaemonOptions {
  env?: Record<string, string>;
  /** reuse a previous daemon's dir and ports (restart) */
  reuse?: { dir: string; sftpPort: number; httpPort: number };
  /** how long the SFTP and HTTP ports may take to answer (default 30 s; several workers start slower on a busy machine) */
  startTimeoutMs?: number;
  /** another built checkout to run the daemon from (bench A/B runs: its dist/src/cmd/main.js and sftpgo.json) */
  root?: string;
}

const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SFTPGO_')));

export async function startDaemon(opts: DaemonOptions = {}): Promise<Daemon> {
  const dir = opts.reuse?.dir ?? mkdtempSync(join(tmpdir(), 'sftpgo-daemon-'));
  const configDir = join(dir, 'config');
  const sftpPort = opts.reuse?.sftpPort ?? await freePort();
  const httpPort = opts.reuse?.httpPort ?? await freePort();
  const logFile = join(dir, 'sftpgo.log');
  const env = {
    ...baseEnv,
    SFTPGO_SFTPD__BINDINGS__0__PORT: String(sftpPort),
    SFTPGO_SFTPD__BINDINGS__0__ADDRESS: '127.0.0.1',
    SFTPGO_HTTPD__BINDINGS__0__PORT: String(httpPort),
    SFTPGO_HTTPD__BINDINGS__0__ADDRESS: '127.0.0.1',
    SFTPGO_DATA_PROVIDER__CREATE_DEFAULT_ADMIN: 'true',
    SFTPGO_DEFAULT_ADMIN_USERNAME: 'admin',
    SFTPGO_DEFAULT_ADMIN_PASSWORD: ADMIN_PASSWORD,
    SFTPGO_HTTPD__SIGNING_PASSPHRASE: 'daemon-test-signing-passphrase',
    SFTPGO_LOG_LEVEL: 'debug',
    ...opts.env,
  };
  // BENCH_DAEMON_NODE_FLAGS (space-separated, bench A/B runs only): the daemon's node flags instead of NODE_FLAGS
  const nodeFlags = process.env.BENCH_DAEMON_NODE_FLAGS?.split(/\s+/).filter((f) => f !== '') ?? NODE_FLAGS;
  const main = opts.root ? join(opts.root, 'dist/src/cmd/main.js') : MAIN;
  const config = opts.root ? join(opts.root, 'sftpgo.json') : REPO_CONFIG;
  const proc = spawn(process.execPath, [...nodeFlags, main, 'serve', '--config-dir', configDir, '--config-file', config,
    '--log-file-path', logFile], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | string | null>((res) => proc.on('exit', (code, sig) => res(code ?? sig)));
  const early = exited.then((c) => { throw new Error(`daemon exited early (${String(c)}): ${stderr}`); });
  early.catch(() => undefined);
  const startTimeout = opts.startTimeoutMs ?? 30_000;
  try {
    await Promise.race([Promise.all([waitForPort(sftpPort, '127.0.0.1', startTimeout), waitForPort(httpPort, '127.0.0.1', startTimeout)]), early]);
  } catch (e) {
    // the caller never gets the daemon to clean up: a process left running would keep the test file alive
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    throw e;
  }
  let token = '';
  const api = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> => {
    if (!token) {
      const basic = Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64');
      const r = await fetch(`http://127.0.0.1:${httpPort}/api/v2/token`, { headers: { authorization: `Basic ${basic}` } });
      token = ((await r.json()) as { access_token: string }).access_token;
    }
    const r = await fetch(`http://127.0.0.1:${httpPort}/api/v2${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, json: (text ? JSON.parse(text) : undefined) as T };
  };
  const logLines = (): Record<string, unknown>[] => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '')
    .split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { dir, configDir, sftpPort, httpPort, proc, exited, api, logLines, stderr: () => stderr };
}

/** SIGTERM and wait for the exit code. */
/**
 * A daemon whose config dir already holds `files` (relative paths in the settings resolve there), started with
 * `env`, and answered once `port` (a listener the SFTP/HTTP readiness check does not cover, e.g. telemetry or
 * WebDAV) accepts connections. A setting refused after the SFTP and HTTP listeners are up shows as an exit:
 * that rejects with the daemon's stderr, and its dir is removed.
 */
export async function startDaemonListening(parent: string, files: Record<string, string>, env: Record<string, string>, port: number): Promise<Daemon> {
  const dir = mkdtempSync(join(parent, 'd-'));
  mkdirSync(join(dir, 'config'), { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, 'config', name), content);
  const d = await startDaemon({ env, reuse: { dir, sftpPort: await freePort(), httpPort: await freePort() } });
  const exitedEarly = d.exited.then((c) => { throw new Error(`daemon exited (${String(c)}): ${d.stderr()}`); });
  try {
    await Promise.race([waitForPort(port), exitedEarly]);
  } catch (e) {
    removeDaemonDir(d);
    throw e;
  }
  exitedEarly.catch(() => undefined);
  return d;
}

export async function stopDaemon(d: Daemon): Promise<number | string | null> {
  if (d.proc.exitCode === null && d.proc.signalCode === null) d.proc.kill('SIGTERM');
  return d.exited;
}

export function removeDaemonDir(d: Daemon): void {
  if (d.proc.exitCode === null && d.proc.signalCode === null) d.proc.kill('SIGKILL');
  rmSync(d.dir, { recursive: true, force: true });
}

/**
 * Polls a condition that only the daemon (another process) can change; bounded
 * in tries and time. Used where no event crosses the process boundary.
 */
export async function until(what: string, cond: () => Promise<boolean>, timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 100000; i++) {
    if (await cond()) return;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
