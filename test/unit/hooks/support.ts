/**
 * Hook test helpers: programs written by the test (sh or node scripts, made
 * executable in a temp dir), an HTTP server in the test process that records
 * requests and answers with a per-test handler, a complete default config, a
 * memory provider and the recording logger.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { AppConfig } from '../../../src/config/types';
import { appSchema } from '../../../src/config/schema';
import { defaultsOf } from '../../../src/config/schema/helpers';
import { openDataProvider } from '../../../src/dataprovider/index';
import type { DataProviderService } from '../../../src/dataprovider/types';
import { Hooks } from '../../../src/hooks/index';
import { AccountSecrets } from '../../../src/dataprovider/secrets';
import { createKms } from '../../../src/kms';
import { TotpValidator } from '../../../src/mfa/totp';
import { providerConfig, RecordingLogger } from '../dataprovider/support';

export { RecordingLogger } from '../dataprovider/support';

export interface TestCtx { after(fn: () => void | Promise<void>): void }

export function tempDir(t: TestCtx): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sftpgo-hooks-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes an executable `sh` script. */
export function shScript(dir: string, name: string, body: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

/** Writes an executable node script (absolute interpreter path: hooks get no PATH). */
export function nodeScript(dir: string, name: string, body: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, `#!${process.execPath}\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

export function defaultConfig(edit?: (c: AppConfig) => void): AppConfig {
  const c = defaultsOf(appSchema()) as unknown as AppConfig;
  c.http.retry_wait_min = 0;
  c.http.retry_wait_max = 0;
  edit?.(c);
  return c;
}

export interface Recorded { method: string; url: URL; headers: http.IncomingHttpHeaders; body: string }
export type Handler = (req: Recorded, res: http.ServerResponse) => void;

export interface HookServer { url: string; requests: Recorded[]; setHandler(h: Handler): void }

/** An HTTP server on a free loopback port, closed after the test. */
export async function hookServer(t: TestCtx, handler: Handler): Promise<HookServer> {
  const requests: Recorded[] = [];
  let current = handler;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: Recorded = { method: req.method ?? '', url: new URL(req.url ?? '/', 'http://127.0.0.1'), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(rec);
      current(rec, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, requests, setHandler: (h) => { current = h; } };
}

export function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(text);
}

export async function memoryProvider(t: TestCtx, dir: string): Promise<DataProviderService> {
  const p = await openDataProvider({
    config: providerConfig({ driver: 'memory', name: '' }), configDir: dir, logger: new RecordingLogger(), migrate: true, env: {},
  });
  t.after(() => p.close());
  return p;
}

export interface HooksFixture { hooks: Hooks; logger: RecordingLogger; provider: DataProviderService; dir: string }

export async function makeHooks(t: TestCtx, edit: (c: AppConfig, dir: string) => void): Promise<HooksFixture> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sftpgo-hooks-'));
  const logger = new RecordingLogger();
  // TOTP users are stored the way the daemon stores them (config "Default", secrets sealed by the kms)
  const secrets = new AccountSecrets(createKms({ secrets: { url: '', master_key: '', master_key_path: '' } }), new TotpValidator([{ name: 'Default', issuer: 'test', algo: 'sha1' }]));
  const provider = await openDataProvider({
    config: providerConfig({ driver: 'memory', name: '' }), configDir: dir, logger: new RecordingLogger(), migrate: true, env: {}, secrets,
  });
  let hooks: Hooks | undefined;
  // one cleanup, in order: background hooks finish, provider closes, then the scripts go
  t.after(async () => {
    await hooks?.drain();
    await provider.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const config = defaultConfig((c) => edit(c, dir));
  hooks = new Hooks({ config, configDir: dir, logger, provider });
  return { hooks, logger, provider, dir };
}

/** Every log line as one string, to assert a secret never appears. */
export function allLogText(logger: RecordingLogger): string {
  return JSON.stringify(logger.lines);
}
