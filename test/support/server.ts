/**
 * Starts the real SFTP service for tests: a data provider (memory or sqlite),
 * the connection manager, a debug logger writing to a temp file and metrics,
 * listening on 127.0.0.1 with an ephemeral port and a temp config dir.
 * Reusable by any test that needs an SSH/SFTP endpoint.
 */
import { createKms } from '../../src/kms';
import { openPerimeter } from '../../src/common/perimeter';
import { noEventManager, noEvents, type EventSink } from '../../src/common/events';
import { promises as fsp, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServerContext, Service } from '../../src/common/context';
import { createConnectionManager } from '../../src/common/manager';
import type { AppConfig, RuntimeOptions } from '../../src/config/types';
import { loadConfig } from '../../src/config/load';
import type { User } from '../../src/dataprovider/models';
import { AccountSecrets } from '../../src/dataprovider/secrets';
import { TotpValidator } from '../../src/mfa/totp';
import { openDataProvider } from '../../src/dataprovider/index';
import { createLogger } from '../../src/logger/logger';
import { createMetrics } from '../../src/metrics/metrics';
import { createSftpService } from '../../src/sftpd/server';
import { DEFAULT_HOST_KEY_NAMES, loadHostKeys } from '../../src/sftpd/hostkeys';
import { testFilesystems } from './filesystems';

export interface StartSftpOptions {
  /** edit the defaults (sftpd, common, data_provider ...) before anything starts */
  configure?: (config: AppConfig) => void;
  driver?: 'memory' | 'sqlite';
  /**
   * 'shared' (default): host keys generated once per process and copied in
   * (RSA 4096 generation is slow); 'generate': let the service create them.
   */
  hostKeys?: 'shared' | 'generate';
  /** filesystem events (the `upload` action ...): a test waits on them instead of sleeping */
  events?: EventSink;
}

export interface LogLine { level: string; sender: string; message?: string; [k: string]: unknown }

export interface TestSftpServer {
  host: '127.0.0.1';
  port: number;
  /** temp dir: config dir, log file, users' homes under `homes/` */
  configDir: string;
  logFile: string;
  ctx: ServerContext;
  service: Service;
  /** adds a user; defaults: status 1, home_dir `<configDir>/homes/<username>`, permissions {"/": ["*"]} */
  createUser(json: Record<string, unknown>): Promise<User>;
  homeOf(username: string): string;
  /** every JSON line logged so far */
  readLog(): Promise<LogLine[]>;
  /** stops the service, drains sessions, closes provider and logger, removes the temp dir */
  stop(): Promise<void>;
}

let sharedKeysDir: string | undefined;
async function sharedHostKeys(): Promise<string> {
  if (!sharedKeysDir) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sftpgo-test-hostkeys-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    await loadHostKeys(dir, []);
    sharedKeysDir = dir;
  }
  return sharedKeysDir;
}

export async function startSftpServer(opts: StartSftpOptions = {}): Promise<TestSftpServer> {
  const configDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'sftpgo-test-'));
  const logFile = path.join(configDir, 'sftpgo.log');
  if ((opts.hostKeys ?? 'shared') === 'shared') {
    const src = await sharedHostKeys();
    for (const n of DEFAULT_HOST_KEY_NAMES) await fsp.copyFile(path.join(src, n), path.join(configDir, n));
  }
  const config = loadConfig({ configDir, env: {} });
  config.sftpd.bindings = [{ port: 0, address: '127.0.0.1', apply_proxy_config: false }];
  config.data_provider.driver = opts.driver ?? 'memory';
  // the memory driver loads `name` as a dump file when set
  config.data_provider.name = config.data_provider.driver === 'memory' ? '' : path.join(configDir, 'sftpgo.db');
  config.common.idle_timeout = 0;
  opts.configure?.(config);
  const runtime: RuntimeOptions = {
    configDir, configFile: '', logFilePath: logFile, logLevel: 'debug', logMaxSize: 10, logMaxBackups: 0,
    logMaxAge: 0, logCompress: false, logUTCTime: false, graceTime: 0, loadDataFrom: '', loadDataMode: 1,
    loadDataClean: false, loadDataQuotaScan: 0,
  };
  const logger = createLogger({ filePath: logFile, level: 'debug', maxSizeMB: 10, maxBackups: 0, maxAgeDays: 0, compress: false, utc: false });
  const metrics = createMetrics({ defaultMetrics: false });
  const kms = createKms(config.kms);
  const provider = await openDataProvider({ config: config.data_provider, configDir, logger, migrate: true, env: {}, kms, secrets: new AccountSecrets(kms, new TotpValidator(config.mfa.totp)) });
  const filesystems = testFilesystems(config.common, logger, metrics, kms);
  const connections = createConnectionManager({ config: config.common, logger, metrics, provider, filesystems, trackQuota: config.data_provider.track_quota, events: opts.events });
  const ctx: ServerContext = {
    kms, filesystems, perimeter: openPerimeter(), events: opts.events ?? noEvents(), eventManager: noEventManager(),
    config, runtime, logger, metrics, provider, connections,
    version: { version: '0.0.0-test', commit_hash: '', build_date: '', features: [] },
  };
  const service = createSftpService(ctx, { ephemeralPorts: true });
  try {
    await service.start();
  } catch (e) {
    await connections.shutdown(0);
    await provider.close();
    await logger.close();
    await fsp.rm(configDir, { recursive: true, force: true });
    throw e;
  }
  const port = service.addresses()[0]?.port ?? 0;
  const homeOf = (u: string): string => path.join(configDir, 'homes', u);
  let stopped = false;
  return {
    host: '127.0.0.1', port, configDir, logFile, ctx, service, homeOf,
    async createUser(json) {
      const username = String(json.username);
      return provider.addUser({ status: 1, home_dir: homeOf(username), permissions: { '/': ['*'] }, ...json });
    },
    async readLog() {
      await logger.flush();
      const text = await fsp.readFile(logFile, 'utf8').catch(() => '');
      return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as LogLine);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await service.stop();
      await connections.shutdown(0);
      await provider.close();
      await logger.close();
      await fsp.rm(configDir, { recursive: true, force: true });
    },
  };
}
