/**
 * `sftpgo portable`: serve one directory (or one remote storage) for one
 * account, memory provider, no REST API: SFTP always, FTP and WebDAV when
 * given a port, optionally announced with multicast DNS. Missing
 * username/password are generated and printed on stdout (never logged).
 */
import * as path from 'node:path';
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { AppConfig, RuntimeOptions } from '../config/types';
import type { FilePatternFilter, FilesystemConfig } from '../dataprovider/models';
import { loadConfig } from '../config';
import { loggerFromRuntime, startApp, type App } from '../service/app';
import { getVersionInfo } from '../service/version';
import { installSignals } from './serve';
import { describeStorage } from './portable-fs';
import { advertise, type AdvertisedProtocol, type Advertisement } from './portable-mdns';

interface TlsFiles { cert: string; key: string }

export interface PortableOptions {
  directory: string;
  /** "/" by default */
  startDirectory?: string;
  username: string;
  password: string;
  publicKeys: string[];
  permissions: string[];
  filePatterns?: FilePatternFilter[];
  sftpdPort: number;
  /** empty: sftpd's default set; "*": every command */
  sshCommands?: string[];
  /** -1 (default) no listener, 0 a free port */
  ftpdPort?: number;
  ftpTls?: TlsFiles;
  webdavPort?: number;
  webdavTls?: TlsFiles;
  /** the account's storage (portable-fs.ts); local by default */
  filesystem?: FilesystemConfig;
  /** -S: announce the listeners with multicast DNS (portable-mdns.ts) */
  advertiseService?: boolean;
  /** -C: with -S, the username and password go in the TXT records */
  advertiseCredentials?: boolean;
  runtime: RuntimeOptions;
}

/** SFTPGo portable: port 0 means "any free port" (a binding with port 0 would be disabled). */
function pickFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** -1 = off (undefined), 0 = a free port, else the port itself */
async function listenerPort(flag: string, port: number, optional: boolean): Promise<number | undefined> {
  const min = optional ? -1 : 0;
  if (!Number.isInteger(port) || port < min || port > 65535) throw new Error(`--${flag} ${port}: must be between ${min} and 65535`);
  if (port < 0) return undefined;
  return port > 0 ? port : pickFreePort();
}

function checkTls(flag: string, tls: TlsFiles | undefined): void {
  for (const f of tls ? [tls.cert, tls.key] : []) {
    if (!fs.existsSync(f)) throw new Error(`--${flag}-cert/--${flag}-key: ${f} does not exist`);
  }
}

/** The listeners in the defaults (plus SFTPGO_ env): one per enabled protocol, on every address as SFTPGo's portable mode. */
async function configureListeners(config: AppConfig, o: PortableOptions): Promise<{ sftp: number; ftp?: number; dav?: number }> {
  const sftp = await listenerPort('sftpd-port', o.sftpdPort, false) as number;
  const ftp = await listenerPort('ftpd-port', o.ftpdPort ?? -1, true);
  const dav = await listenerPort('webdav-port', o.webdavPort ?? -1, true);
  checkTls('ftpd', o.ftpTls);
  checkTls('webdav', o.webdavTls);
  config.sftpd.bindings = [{ port: sftp, address: '', apply_proxy_config: true }];
  const commands = o.sshCommands ?? [];
  if (commands.length > 0) config.sftpd.enabled_ssh_commands = commands;
  const [ftpBase] = config.ftpd.bindings;
  config.ftpd.bindings = ftp === undefined || !ftpBase ? [] : [{
    ...ftpBase, port: ftp, address: '', certificate_file: o.ftpTls?.cert ?? '', certificate_key_file: o.ftpTls?.key ?? '',
  }];
  const [davBase] = config.webdavd.bindings;
  config.webdavd.bindings = dav === undefined || !davBase ? [] : [{
    ...davBase, port: dav, address: '', enable_https: o.webdavTls !== undefined,
    certificate_file: o.webdavTls?.cert ?? '', certificate_key_file: o.webdavTls?.key ?? '',
  }];
  config.httpd.bindings = [];
  config.telemetry.bind_port = 0;
  return { sftp, ftp, dav };
}

function listeningPort(app: App, service: string, configured: number): number {
  return app.addresses(service)[0]?.port ?? configured;
}

export async function portable(o: PortableOptions, out: (s: string) => void): Promise<number> {
  const dir = path.resolve(o.directory || '.');
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`--directory ${dir}: not a directory`);
  const username = o.username || `user${randomBytes(4).toString('hex')}`;
  const password = o.password || (o.publicKeys.length === 0 ? randomBytes(12).toString('base64url') : '');
  const permissions = o.permissions.length > 0 ? o.permissions : ['list', 'download'];

  // Defaults (plus SFTPGO_ env), but no config file: portable mode is self-contained.
  const config = loadConfig({ configDir: o.runtime.configDir, configFile: '', onWarning: () => undefined });
  config.data_provider.driver = 'memory';
  config.data_provider.name = '';
  config.data_provider.create_default_admin = false;
  const ports = await configureListeners(config, o);

  const logger = loggerFromRuntime(o.runtime);
  const app = await startApp({ runtime: o.runtime, config, logger }).catch(async (err: Error) => {
    await logger.close();
    throw err;
  });
  try {
    await app.ctx.provider.addUser({
      status: 1,
      username,
      password: password || undefined,
      public_keys: o.publicKeys,
      home_dir: dir,
      permissions: { '/': permissions },
      filters: { start_directory: o.startDirectory && o.startDirectory !== '/' ? o.startDirectory : undefined, file_patterns: o.filePatterns ?? [] },
      filesystem: o.filesystem ?? { provider: 0 },
    }, { username: '__system__', ip: '127.0.0.1' });
  } catch (err) {
    await app.stop();
    throw new Error(`cannot create the portable user: ${(err as Error).message}`);
  }
  const listeners: { protocol: AdvertisedProtocol; port: number }[] = [{ protocol: 'SFTP', port: listeningPort(app, 'sftpd', ports.sftp) }];
  if (ports.ftp !== undefined) listeners.push({ protocol: 'FTP', port: listeningPort(app, 'ftpd', ports.ftp) });
  if (ports.dav !== undefined) listeners.push({ protocol: 'WebDAV', port: listeningPort(app, 'webdavd', ports.dav) });
  let advertisement: Advertisement | undefined;
  if (o.advertiseService) {
    advertisement = await advertise({
      listeners, version: getVersionInfo().version, logger,
      credentials: o.advertiseCredentials ? { username, password } : undefined,
    }).catch(async (err: Error) => {
      await app.stop();
      throw new Error(`cannot advertise via multicast DNS: ${err.message}`);
    });
  }
  logger.info('service', 'portable mode ready', { username, directory: dir, permissions, ports: listeners.map((l) => `${l.protocol}:${l.port}`).join(' ') });
  out(`Portable mode ready, SFTP port: ${listeners[0].port}`);
  for (const l of listeners.slice(1)) {
    out(l.protocol === 'FTP' ? `FTP port: ${l.port}${o.ftpTls ? ' (explicit TLS available)' : ''}`
      : `WebDAV URL: ${o.webdavTls ? 'https' : 'http'}://<your IP>:${l.port}/`);
  }
  out(`Username: ${username}`);
  if (password) out(`Password: ${password}`);
  if (o.publicKeys.length > 0) out(`Public keys: ${o.publicKeys.length}`);
  out(`Storage: ${describeStorage(o.filesystem ?? { provider: 0 }, dir)}`);
  if (advertisement) out(`Advertised via multicast DNS: ${listeners.map((l) => l.protocol).join(', ')}${o.advertiseCredentials ? ' (with the credentials)' : ''}`);
  out(`Permissions: ${permissions.join(',')}`);
  return new Promise<number>((resolve) => {
    const remove = installSignals(app, (code) => {
      remove();
      void (advertisement?.stop() ?? Promise.resolve()).finally(() => logger.close()).finally(() => resolve(code));
    });
  });
}
