/**
 * Starts the real FTP service on the real core (config defaults, provider
 * service, connection manager, file logger, metrics) on 127.0.0.1 with three
 * bindings: plain/explicit (tls_mode 0), explicit required (1), implicit (2).
 * A self-signed certificate is made with openssl in a temp dir.
 */
import { createKms } from '../../../src/kms';
import { openPerimeter } from '../../../src/common/perimeter';
import { noEventManager, noEvents } from '../../../src/common/events';
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../../src/config';
import type { AppConfig, FtpdBinding } from '../../../src/config/types';
import type { ServerContext, Service } from '../../../src/common/context';
import type { DataProviderService } from '../../../src/dataprovider/types';
import { createConnectionManager } from '../../../src/common/manager';
import { createLogger, type ClosableLogger } from '../../../src/logger/logger';
import { createMetrics } from '../../../src/metrics/metrics';
import { createFtpService } from '../../../src/ftpd/server';
import { AccountSecrets } from '../../../src/dataprovider/secrets';
import { TotpValidator } from '../../../src/mfa/totp';
import { openDataProvider } from '../../../src/dataprovider/index';
import { freePort, freePortRange } from '../../support/net';
import { testFilesystems } from '../../support/filesystems';

export interface FtpHarness {
  base: string;
  ctx: ServerContext;
  service: Service;
  plainPort: number;
  explicitPort: number;
  implicitPort: number;
  logFile: string;
  passiveRange: { start: number; end: number };
  sigtermBefore: Function[];
  home(user: string): string;
  logLines(): Promise<Record<string, unknown>[]>;
  /** The first log line matching `pred`, waiting for file changes (bounded: 10 s). */
  waitForLog(pred: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

function makeCert(dir: string): void {
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error('openssl failed to make a test certificate');
}

async function openProvider(config: AppConfig, configDir: string, logger: ClosableLogger): Promise<DataProviderService> {
  config.data_provider.driver = 'memory';
  config.data_provider.name = '';
  return openDataProvider({ config: config.data_provider, configDir, logger, migrate: true, env: {}, secrets: new AccountSecrets(createKms(config.kms), new TotpValidator(config.mfa.totp)) });
}

export async function startFtp(tune?: (c: AppConfig) => void): Promise<FtpHarness> {
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ftpd-e2e-')));
  makeCert(base);
  const config = loadConfig({ configDir: base, env: {} });
  const tmpl: FtpdBinding = { ...config.ftpd.bindings[0]!, address: '127.0.0.1', port: 0 };
  // port 0 means "disabled" in SFTPGo: take real free ports for the three bindings
  const ports = await Promise.all([0, 1, 2].map(() => freePort()));
  config.ftpd.bindings = [
    { ...tmpl, port: ports[0]!, tls_mode: 0 },
    { ...tmpl, port: ports[1]!, tls_mode: 1 },
    { ...tmpl, port: ports[2]!, tls_mode: 2 },
  ];
  config.ftpd.certificate_file = 'cert.pem';
  config.ftpd.certificate_key_file = 'key.pem';
  config.ftpd.passive_port_range = await freePortRange(40);
  config.common.upload_mode = 1; // atomic: an aborted upload leaves no partial file
  tune?.(config);
  const logFile = path.join(base, 'sftpgo.log');
  const logger = createLogger({ filePath: logFile, level: 'debug', maxSizeMB: 10, maxBackups: 1, maxAgeDays: 1, compress: false, utc: true });
  const metrics = createMetrics();
  const provider = await openProvider(config, base, logger);
  const kms = createKms(config.kms);
  const filesystems = testFilesystems(config.common, logger, metrics, kms);
  const connections = createConnectionManager({ config: config.common, logger, metrics, provider, filesystems, trackQuota: 2 });
  const ctx: ServerContext = {
    kms, filesystems, perimeter: openPerimeter(), events: noEvents(), eventManager: noEventManager(),
    config, logger, metrics, provider, connections,
    runtime: { configDir: base, configFile: '', logFilePath: logFile, logLevel: 'debug', logMaxSize: 10, logMaxBackups: 1, logMaxAge: 1, logCompress: false, logUTCTime: true, graceTime: 0, loadDataFrom: '', loadDataMode: 0, loadDataClean: false, loadDataQuotaScan: 0 },
    version: { version: '0.0.0-test', commit_hash: '', build_date: '', features: [] },
  };
  const logLines = async (): Promise<Record<string, unknown>[]> => {
    await logger.flush();
    return fs.readFileSync(logFile, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  };
  const sigtermBefore = process.listeners('SIGTERM');
  const service = createFtpService(ctx);
  await service.start();
  return {
    base, ctx, service, logFile, sigtermBefore,
    plainPort: ports[0]!, explicitPort: ports[1]!, implicitPort: ports[2]!,
    passiveRange: config.ftpd.passive_port_range,
    home: (u) => path.join(base, 'homes', u),
    logLines,
    async waitForLog(pred) {
      // pino writes asynchronously: wait on the file's change events, never on a timer loop
      const watcher = fs.watch(logFile);
      watcher.on('error', () => undefined);
      const deadline = Date.now() + 10_000;
      try {
        for (let i = 0; i < 1000 && Date.now() < deadline; i++) {
          const found = (await logLines()).find(pred);
          if (found) return found;
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, Math.max(0, deadline - Date.now()));
            watcher.once('change', () => { clearTimeout(t); resolve(); });
          });
        }
      } finally {
        watcher.close();
      }
      throw new Error('expected log line not written within 10 s');
    },
    async close() {
      await service.stop();
      await connections.shutdown(0);
      await provider.close();
      await logger.close();
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}

export interface UserSpec { username: string; password: string; permissions?: Record<string, string[]>; filters?: Record<string, unknown>; quota_size?: number; quota_files?: number; upload_bandwidth?: number }

export async function addUser(h: FtpHarness, u: UserSpec): Promise<string> {
  const home = h.home(u.username);
  await h.ctx.provider.addUser({
    status: 1, username: u.username, password: u.password, home_dir: home,
    permissions: u.permissions ?? { '/': ['*'] }, filters: u.filters ?? {},
    quota_size: u.quota_size ?? 0, quota_files: u.quota_files ?? 0, upload_bandwidth: u.upload_bandwidth ?? 0,
  });
  fs.mkdirSync(home, { recursive: true });
  return home;
}

export interface LftpResult { code: number | null; stdout: string; stderr: string }

/** Runs an lftp script (bounded by a timeout; fail-exit so a failed command fails the run). */
export function lftp(url: string, user: string, password: string, script: string[], settings: string[] = [], cwd?: string): Promise<LftpResult> {
  const all = [
    'set cmd:fail-exit yes', 'set net:max-retries 1', 'set net:timeout 15', 'set net:reconnect-interval-base 1',
    'set ssl:verify-certificate no', 'set cmd:interactive no', 'set xfer:clobber yes',
    ...settings,
    `open -u ${user},${password} ${url}`,
    ...script,
  ].join('\n');
  return new Promise((resolve) => {
    const child = execFile('lftp', ['-c', all], { timeout: 60_000, cwd, maxBuffer: 10 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null) : 0;
      resolve({ code, stdout, stderr });
    });
    child.on('error', () => undefined);
  });
}
