/**
 * One in-process server with FTP, WebDAV, SFTP and the REST API on the real core (one
 * provider, one connection manager, one logger), plus the clients the
 * cross-protocol tables use: basic-ftp and lftp for FTP, ssh2 for SFTP, curl for WebDAV
 * (curl --path-as-is sends `..` and encoded paths exactly as written).
 */
import { createKms } from '../../../src/kms';
import { openPerimeter } from '../../../src/common/perimeter';
import { noEventManager, noEvents } from '../../../src/common/events';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../../src/config';
import type { AppConfig } from '../../../src/config/types';
import type { ServerContext, Service } from '../../../src/common/context';
import { createConnectionManager } from '../../../src/common/manager';
import { createLogger } from '../../../src/logger/logger';
import { createMetrics } from '../../../src/metrics/metrics';
import { createFtpService } from '../../../src/ftpd/server';
import { createWebdavService } from '../../../src/webdavd/server';
import { createSftpService } from '../../../src/sftpd/server';
import { createHttpService } from '../../../src/httpd/server';
import { AccountSecrets } from '../../../src/dataprovider/secrets';
import { TotpValidator } from '../../../src/mfa/totp';
import { openDataProvider } from '../../../src/dataprovider/index';
import { freePort } from '../../support/net';
import { testFilesystems } from '../../support/filesystems';

export interface CrossEnv {
  base: string;
  ctx: ServerContext;
  ftpPort: number;
  davUrl: string;
  sftpPort: number;
  /** the REST API (user API driver) */
  httpUrl: string;
  homeOf(user: string): string;
  addUser(json: Record<string, unknown>): Promise<string>;
  /** the JSON log lines written so far (flushed first) */
  logLines(): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export async function startCross(tune?: (c: AppConfig) => void): Promise<CrossEnv> {
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'crossproto-')));
  const config = loadConfig({ configDir: base, env: {} });
  // FTP port 0 means "disabled" (as in SFTPGo): take a free port; passive ports are ephemeral (range 0-0)
  config.ftpd.bindings = [{ ...config.ftpd.bindings[0]!, address: '127.0.0.1', port: await freePort() }];
  config.ftpd.passive_port_range = { start: 0, end: 0 };
  config.webdavd.bindings = [{ ...config.webdavd.bindings[0]!, port: 0, address: '127.0.0.1' }];
  // one ECDSA host key generated in the temp dir (RSA 4096 generation would be slow)
  config.sftpd.bindings = [{ port: 0, address: '127.0.0.1', apply_proxy_config: false }];
  config.sftpd.host_keys = ['id_ecdsa'];
  config.httpd.bindings = [{ ...config.httpd.bindings[0]!, port: 0, address: '127.0.0.1', enable_web_admin: false, enable_web_client: false }];
  config.data_provider.driver = 'memory';
  config.data_provider.name = '';
  config.common.idle_timeout = 0;
  tune?.(config);
  const logFile = path.join(base, 'sftpgo.log');
  const logger = createLogger({ filePath: logFile, level: 'debug', maxSizeMB: 10, maxBackups: 0, maxAgeDays: 0, compress: false, utc: true });
  const metrics = createMetrics({ defaultMetrics: false });
  const kms = createKms(config.kms);
  const provider = await openDataProvider({ config: config.data_provider, configDir: base, logger, migrate: true, env: {}, kms, secrets: new AccountSecrets(kms, new TotpValidator(config.mfa.totp)) });
  const filesystems = testFilesystems(config.common, logger, metrics, kms);
  const connections = createConnectionManager({ config: config.common, logger, metrics, provider, filesystems, trackQuota: config.data_provider.track_quota });
  const ctx: ServerContext = {
    kms, filesystems, perimeter: openPerimeter(), events: noEvents(), eventManager: noEventManager(),
    config, logger, metrics, provider, connections,
    runtime: {
      configDir: base, configFile: '', logFilePath: logFile, logLevel: 'debug', logMaxSize: 10, logMaxBackups: 0, logMaxAge: 0,
      logCompress: false, logUTCTime: true, graceTime: 0, loadDataFrom: '', loadDataMode: 1, loadDataClean: false, loadDataQuotaScan: 0,
    },
    version: { version: '0.0.0-test', commit_hash: '', build_date: '', features: [] },
  };
  const services: Service[] = [
    createFtpService(ctx), createWebdavService(ctx, { ephemeralPorts: true }), createSftpService(ctx, { ephemeralPorts: true }),
    createHttpService(ctx, { serviceStatus: () => ({}), ephemeralPorts: true }),
  ];
  for (const s of services) await s.start();
  const homeOf = (u: string): string => path.join(base, 'homes', u);
  return {
    base, ctx,
    ftpPort: config.ftpd.bindings[0]!.port,
    davUrl: `http://127.0.0.1:${services[1]!.addresses()[0]!.port}`,
    sftpPort: services[2]!.addresses()[0]!.port,
    httpUrl: `http://127.0.0.1:${services[3]!.addresses()[0]!.port}`,
    homeOf,
    async addUser(json) {
      const home = homeOf(String(json.username));
      await provider.addUser({ status: 1, home_dir: home, permissions: { '/': ['*'] }, ...json });
      fs.mkdirSync(home, { recursive: true });
      return home;
    },
    async logLines() {
      await logger.flush();
      return fs.readFileSync(logFile, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    async close() {
      for (const s of services) await s.stop();
      await connections.shutdown(0);
      await provider.close();
      await logger.close();
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}

export interface CurlResult { status: number; body: string; headers: string }

/** One curl request; the status of the last response (100 Continue skipped). */
export function curl(args: string[], input?: Buffer): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    const child = execFile('curl', ['-s', '-D', '-', '--path-as-is', '--max-time', '30', ...args],
      { encoding: 'buffer', maxBuffer: 16 << 20, timeout: 60_000 }, (err, stdout) => {
        if (err && !stdout.length) { reject(err); return; }
        let rest = stdout.toString('latin1');
        let headers = '';
        for (let i = 0; i < 5; i++) {
          const end = rest.indexOf('\r\n\r\n');
          if (end < 0) break;
          headers = rest.slice(0, end);
          rest = rest.slice(end + 4);
          if (!/^HTTP\/\S+ 100/.test(headers)) break;
        }
        resolve({ status: Number(/^HTTP\/\S+ (\d+)/.exec(headers)?.[1] ?? 0), headers, body: Buffer.from(rest, 'latin1').toString('utf8') });
      });
    child.on('error', () => undefined);
    // curl may stop reading stdin once the server has answered (507 mid-upload): EPIPE is expected
    child.stdin?.on('error', () => undefined);
    if (input) child.stdin?.end(input); else child.stdin?.end();
  });
}

export interface LftpResult { code: number | null; stdout: string; stderr: string }

/** An lftp script against the FTP binding (plain text; cmd:fail-exit so a refused command fails the run). */
export function lftp(port: number, user: string, password: string, script: string[], cwd: string): Promise<LftpResult> {
  const all = [
    'set cmd:fail-exit yes', 'set net:max-retries 1', 'set net:timeout 15', 'set net:reconnect-interval-base 1',
    'set ftp:ssl-allow no', 'set cmd:interactive no', 'set xfer:clobber yes',
    `open -u ${user},${password} ftp://127.0.0.1:${port}`,
    ...script,
  ].join('\n');
  return new Promise((resolve) => {
    const child = execFile('lftp', ['-c', all], { timeout: 60_000, cwd, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null) : 0;
      resolve({ code, stdout, stderr });
    });
    child.on('error', () => undefined);
  });
}
