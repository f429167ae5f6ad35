/**
 * The whole server started the way `sftpgo serve` does (service/app.ts
 * startApp: the real perimeter, every protocol), on free loopback ports, with
 * a memory provider, a debug JSON log in a temp dir and shared host keys.
 */
import { promises as fsp, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../src/config/load';
import type { AppConfig, RuntimeOptions } from '../../../src/config/types';
import { startApp, type App } from '../../../src/service/app';
import type { PerimeterOptions } from '../../../src/service/perimeter';
import { DEFAULT_HOST_KEY_NAMES, loadHostKeys } from '../../../src/sftpd/hostkeys';
import { freePort } from '../../support/net';

export interface PerimeterEnv {
  app: App;
  dir: string;
  ssh: number;
  ftp: number;
  dav: number;
  http: number;
  /** admin / adminpw, every permission */
  homeOf(user: string): string;
  addUser(username: string, password: string, extra?: Record<string, unknown>): Promise<void>;
  logLines(): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

let keysDir: string | undefined;
async function sharedKeys(): Promise<string> {
  if (!keysDir) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'perimeter-keys-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    await loadHostKeys(dir, []);
    keysDir = dir;
  }
  return keysDir;
}

export async function startPerimeterApp(tune?: (c: AppConfig) => void, perimeter?: PerimeterOptions): Promise<PerimeterEnv> {
  const dir = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), 'perimeter-')));
  const keys = await sharedKeys();
  for (const n of DEFAULT_HOST_KEY_NAMES) await fsp.copyFile(path.join(keys, n), path.join(dir, n));
  const config = loadConfig({ configDir: dir, env: {} });
  const [ssh, ftp, dav, http] = [await freePort(), await freePort(), await freePort(), await freePort()];
  config.sftpd.bindings = [{ port: ssh, address: '127.0.0.1', apply_proxy_config: true }];
  config.ftpd.bindings = [{ ...config.ftpd.bindings[0]!, port: ftp, address: '127.0.0.1' }];
  config.ftpd.passive_port_range = { start: 0, end: 0 };
  config.webdavd.bindings = [{ ...config.webdavd.bindings[0]!, port: dav, address: '127.0.0.1' }];
  config.httpd.bindings = [{ ...config.httpd.bindings[0]!, port: http, address: '127.0.0.1', enable_web_admin: false, enable_web_client: false }];
  config.telemetry.bind_port = 0;
  config.data_provider.driver = 'memory';
  config.data_provider.name = '';
  config.common.idle_timeout = 0;
  tune?.(config);
  const logFile = path.join(dir, 'sftpgo.log');
  const runtime: RuntimeOptions = {
    configDir: dir, configFile: '', logFilePath: logFile, logLevel: 'debug', logMaxSize: 10, logMaxBackups: 0,
    logMaxAge: 0, logCompress: false, logUTCTime: true, graceTime: 0, loadDataFrom: '', loadDataMode: 1,
    loadDataClean: false, loadDataQuotaScan: 0,
  };
  let app: App;
  try {
    app = await startApp({ runtime, config, perimeter });
    await app.ctx.provider.addAdmin({ username: 'admin', password: 'adminpw', status: 1, permissions: ['*'] });
  } catch (e) {
    await fsp.rm(dir, { recursive: true, force: true });
    throw e;
  }
  const homeOf = (u: string): string => path.join(dir, 'homes', u);
  return {
    app, dir, ssh, ftp, dav, http, homeOf,
    async addUser(username, password, extra = {}) {
      await fsp.mkdir(homeOf(username), { recursive: true });
      await app.ctx.provider.addUser({ status: 1, username, password, home_dir: homeOf(username), permissions: { '/': ['*'] }, ...extra });
    },
    async logLines() {
      await app.ctx.logger.flush();
      const text = await fsp.readFile(logFile, 'utf8').catch(() => '');
      return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    async close() {
      await app.stop();
      await fsp.rm(dir, { recursive: true, force: true });
    },
  };
}
