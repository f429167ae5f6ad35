/**
 * Starts the real application (service/app.ts startApp) with SFTP and HTTP
 * on free 127.0.0.1 ports, a sqlite provider in a temp config dir and an
 * ed25519 host key made with ssh-keygen, plus a headless Debian Chromium.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { loadConfig } from '../../../src/config';
import type { AppConfig, RuntimeOptions } from '../../../src/config/types';
import { startApp, type App } from '../../../src/service/app';
import { freePort } from '../../support/net';

const run = promisify(execFile);

/** repo root/test/artifacts/webadmin (git-ignored) */
export const ARTIFACTS = join(__dirname, '..', '..', '..', '..', 'test', 'artifacts', 'webadmin');

export interface AppEnv {
  app: App;
  dir: string;
  base: string;
  sftpPort: number;
  logLines(): Promise<Record<string, unknown>[]>;
  /** ssh-keygen'd client key pair */
  keygen(name: string, comment: string): Promise<{ privateKey: string; publicKey: string }>;
  stop(): Promise<void>;
}

export interface WebAdminEnv extends AppEnv { browser: Browser }

/** The application alone (tests that drive the web admin over fetch); `configure` adjusts the config before start. */
export async function startAppEnv(configure?: (c: AppConfig) => void): Promise<AppEnv> {
  const dir = await mkdtemp(join(tmpdir(), 'webadmin-e2e-'));
  await mkdir(ARTIFACTS, { recursive: true });
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'host', '-f', join(dir, 'host_ed25519')]);
  const sftpPort = await freePort();
  const httpPort = await freePort();
  const config = loadConfig({ configDir: dir, env: {} });
  config.sftpd.bindings = [{ ...config.sftpd.bindings[0], port: sftpPort, address: '127.0.0.1' }];
  config.sftpd.host_keys = [join(dir, 'host_ed25519')];
  config.httpd.bindings = [{ ...config.httpd.bindings[0], port: httpPort, address: '127.0.0.1', enable_web_admin: true }];
  config.ftpd.bindings = config.ftpd.bindings.map((b) => ({ ...b, port: 0 }));
  config.webdavd.bindings = config.webdavd.bindings.map((b) => ({ ...b, port: 0 }));
  config.telemetry.bind_port = 0;
  config.data_provider.driver = 'sqlite';
  config.data_provider.name = join(dir, 'sftpgo.db');
  config.data_provider.create_default_admin = false;
  config.data_provider.password_hashing.bcrypt_options.cost = 4;
  config.common.idle_timeout = 0;
  configure?.(config);
  const logFile = join(dir, 'sftpgo.log');
  const runtime: RuntimeOptions = {
    configDir: dir, configFile: '', logFilePath: logFile, logLevel: 'debug', logMaxSize: 10, logMaxBackups: 0,
    logMaxAge: 0, logCompress: false, logUTCTime: true, graceTime: 0, loadDataFrom: '', loadDataMode: 0,
    loadDataClean: false, loadDataQuotaScan: 0,
  };
  let app: App;
  try {
    app = await startApp({ runtime, config });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    app, dir, sftpPort,
    base: `http://127.0.0.1:${httpPort}`,
    async logLines() {
      await app.ctx.logger.flush();
      const text = await readFile(logFile, 'utf8').catch(() => '');
      return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    async keygen(name, comment) {
      const file = join(dir, name);
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
      return { privateKey: await readFile(file, 'utf8'), publicKey: (await readFile(`${file}.pub`, 'utf8')).trim() };
    },
    async stop() {
      await app.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The application plus a headless Debian Chromium; `configure` adjusts the config before start (mfa.totp for the 2FA tests). */
export async function startWebAdminEnv(configure?: (c: AppConfig) => void): Promise<WebAdminEnv> {
  const env = await startAppEnv(configure);
  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  } catch (e) {
    await env.stop();
    throw e;
  }
  return {
    ...env, browser,
    async stop() {
      await browser.close().catch(() => undefined);
      await env.stop();
    },
  };
}
