/**
 * Starts the real WebDAV service (memory provider, real connection manager,
 * logger and metrics) on 127.0.0.1 with an ephemeral port and a temp dir.
 */
import { createKms } from '../../../src/kms';
import { openPerimeter } from '../../../src/common/perimeter';
import { noEventManager, noEvents } from '../../../src/common/events';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServerContext } from '../../../src/common/context';
import { createConnectionManager } from '../../../src/common/manager';
import { loadConfig } from '../../../src/config/load';
import type { AppConfig } from '../../../src/config/types';
import { AccountSecrets } from '../../../src/dataprovider/secrets';
import { TotpValidator } from '../../../src/mfa/totp';
import { openDataProvider } from '../../../src/dataprovider/index';
import { createLogger } from '../../../src/logger/logger';
import { createMetrics } from '../../../src/metrics/metrics';
import { createWebdavService, type WebdavServiceOptions } from '../../../src/webdavd/server';
import { testFilesystems } from '../../support/filesystems';

export interface DavServer {
  url: string;
  port: number;
  configDir: string;
  ctx: ServerContext;
  createUser(json: Record<string, unknown>): Promise<void>;
  homeOf(u: string): string;
  readLog(): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

export async function startDav(configure?: (c: AppConfig) => void, serviceOptions: WebdavServiceOptions = {}): Promise<DavServer> {
  const configDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'sftpgo-dav-'));
  const logFile = path.join(configDir, 'sftpgo.log');
  const config = loadConfig({ configDir, env: {} });
  config.webdavd.bindings = [{ ...config.webdavd.bindings[0]!, port: 0, address: '127.0.0.1' }];
  config.data_provider.driver = 'memory';
  config.data_provider.name = '';
  config.common.idle_timeout = 0;
  configure?.(config);
  const logger = createLogger({ filePath: logFile, level: 'debug', maxSizeMB: 10, maxBackups: 0, maxAgeDays: 0, compress: false, utc: false });
  const metrics = createMetrics({ defaultMetrics: false });
  const provider = await openDataProvider({ config: config.data_provider, configDir, logger, migrate: true, env: {}, secrets: new AccountSecrets(createKms(config.kms), new TotpValidator(config.mfa.totp)) });
  const kms = createKms(config.kms);
  const filesystems = testFilesystems(config.common, logger, metrics, kms);
  const connections = createConnectionManager({ config: config.common, logger, metrics, provider, filesystems, trackQuota: config.data_provider.track_quota });
  const ctx: ServerContext = {
    kms, filesystems, perimeter: openPerimeter(), events: noEvents(), eventManager: noEventManager(),
    config, logger, metrics, provider, connections,
    runtime: {
      configDir, configFile: '', logFilePath: logFile, logLevel: 'debug', logMaxSize: 10, logMaxBackups: 0, logMaxAge: 0,
      logCompress: false, logUTCTime: false, graceTime: 0, loadDataFrom: '', loadDataMode: 1, loadDataClean: false, loadDataQuotaScan: 0,
    },
    version: { version: '0.0.0-test', commit_hash: '', build_date: '', features: [] },
  };
  const service = createWebdavService(ctx, { ...serviceOptions, ephemeralPorts: true });
  await service.start();
  const port = service.addresses()[0]!.port;
  const homeOf = (u: string): string => path.join(configDir, 'homes', u);
  return {
    url: `http://127.0.0.1:${port}`, port, configDir, ctx, homeOf,
    async createUser(json) {
      await provider.addUser({ status: 1, home_dir: homeOf(String(json.username)), permissions: { '/': ['*'] }, ...json });
    },
    async readLog() {
      await logger.flush();
      const text = await fsp.readFile(logFile, 'utf8').catch(() => '');
      return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    async stop() {
      await service.stop();
      await connections.shutdown(0);
      await provider.close();
      await logger.close();
      await fsp.rm(configDir, { recursive: true, force: true });
    },
  };
}
