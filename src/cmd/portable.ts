/**
 * `sftpgo portable`: serve one directory (or one remote storage) for one
 * account, memory provider: SFTP (unless --sftpd-port is negative); FTP,
 * WebDAV and the web client (never the web admin or the REST API, as
 * SFTPGo) when given a port;
 * optionally announced with multicast DNS. The other settings come from the
 * config dir/file like `serve`. Missing username/password are generated and
 * printed on stdout (never logged).
 */
import * as path from 'node:path';
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { createSecureContext } from 'node:tls';
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
  /** the web client for the account: -1 (default) none, 0 a free port */
  httpdPort?: number;
  httpdTls?: TlsFiles;
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

/** negative = off (undefined, SFTPGo's "< 0 disabled"), 0 = a free port, else the port itself */
async function listenerPort(flag: string, port: number): Promise<number | undefined> {
  if (!Number.isInteger(port) || port > 65535) throw new Error(`--${flag} ${port}: must be an integer up to 65535 (0 = a free port, < 0 = off)`);
  if (port < 0) return undefined;
  return port > 0 ? port : pickFreePort();
}

/** the pair must load now (as SFTPGo's portable): a bad certificate is a start-up error, not a failed handshake later */
function checkTls(flag: string, tls: TlsFiles | undefined): void {
  if (!tls) return;
  for (const f of [tls.cert, tls.key]) {
    if (!fs.existsSync(f)) throw new Error(`--${flag}-cert/--${flag}-key: ${f} does not exist`);
  }
  try {
    createSecureContext({ cert: fs.readFileSync(tls.cert), key: fs.readFileSync(tls.key) });
  } catch (e) {
    throw new Error(`--${flag}-cert/--${flag}-key: cannot load the key pair ${tls.cert}, ${tls.key}: ${(e as Error).message}`);
  }
}

/** SFTPGo's portable web client: the config's first binding on the given port, web client only, HTTPS with --httpd-cert/--httpd-key */
function webClientBindings(config: AppConfig, port: number | undefined, tls: TlsFiles | undefined): AppConfig['httpd']['bindings'] {
  if (port === undefined) return [];
  const [base] = config.httpd.bindings;
  if (!base) throw new Error('--httpd-port: the configuration has no httpd binding to base the web client on');
  return [{
    ...base, port, enable_web_admin: false, enable_web_client: true, enable_rest_api: false, render_openapi: false,
    enable_https: tls !== undefined, certificate_file: tls?.cert ?? '', certificate_key_file: tls?.key ?? '',
  }];
}

/** The listeners in the defaults (plus SFTPGO_ env): one per enabled protocol, on every address as SFTPGo's portable mode. */
async function configureListeners(config: AppConfig, o: PortableOptions): Promise<{ sftp?: number; ftp?: number; dav?: number; http?: number }> {
  const sftp = await listenerPort('sftpd-port', o.sftpdPort);
  const ftp = await listenerPort('ftpd-port', o.ftpdPort ?? -1);
  const dav = await listenerPort('webdav-port', o.webdavPort ?? -1);
  const http = await listenerPort('httpd-port', o.httpdPort ?? -1);
  checkTls('ftpd', o.ftpTls);
  checkTls('webdav', o.webdavTls);
  checkTls('httpd', o.httpdTls);
  config.sftpd.bindings = sftp === undefined ? [] : [{ port: sftp, address: '', apply_proxy_config: true }];
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
  config.httpd.bindings = webClientBindings(config, http, o.httpdTls);
  config.telemetry.bind_port = 0;
  return { sftp, ftp, dav, http };
}

/** as SFTPGo: the portable account cannot change itself or share; without upload/overwrite the web client is read-only */
function portableWebClientLimits(permissions: string[]): string[] {
  const limits = ['shares-disabled', 'info-change-disabled', 'publickey-change-disabled', 'password-change-disabled',
    'api-key-auth-change-disabled', 'mfa-disabled', 'password-reset-disabled', 'tls-cert-change-disabled'];
  const canWrite = permissions.some((p) => p === '*' || p === 'upload' || p === 'overwrite');
  return canWrite ? limits : [...limits, 'write-disabled'];
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

  // --config-dir/--config-file (and SFTPGO_ env) for what portable mode does not set; a broken file is refused.
  const config = loadConfig({ configDir: o.runtime.configDir, configFile: o.runtime.configFile, onWarning: () => undefined });
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
      filters: {
        start_directory: o.startDirectory && o.startDirectory !== '/' ? o.startDirectory : undefined,
        file_patterns: o.filePatterns ?? [],
        web_client: portableWebClientLimits(permissions),
      },
      filesystem: o.filesystem ?? { provider: 0 },
    }, { username: '__system__', ip: '127.0.0.1' });
  } catch (err) {
    await app.stop();
    throw new Error(`cannot create the portable user: ${(err as Error).message}`);
  }
  const listeners: { protocol: AdvertisedProtocol; port: number }[] = [];
  if (ports.sftp !== undefined) listeners.push({ protocol: 'SFTP', port: listeningPort(app, 'sftpd', ports.sftp) });
  if (ports.ftp !== undefined) listeners.push({ protocol: 'FTP', port: listeningPort(app, 'ftpd', ports.ftp) });
  if (ports.dav !== undefined) listeners.push({ protocol: 'WebDAV', port: listeningPort(app, 'webdavd', ports.dav) });
  const webClientPort = ports.http === undefined ? undefined : listeningPort(app, 'httpd', ports.http);
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
  const sftp = listeners.find((l) => l.protocol === 'SFTP');
  out(sftp ? `Portable mode ready, SFTP port: ${sftp.port}` : 'Portable mode ready, SFTP disabled');
  for (const l of listeners) {
    if (l.protocol === 'FTP') out(`FTP port: ${l.port}${o.ftpTls ? ' (explicit TLS available)' : ''}`);
    if (l.protocol === 'WebDAV') out(`WebDAV URL: ${o.webdavTls ? 'https' : 'http'}://<your IP>:${l.port}/`);
  }
  if (webClientPort !== undefined) out(`WebClient URL: ${o.httpdTls ? 'https' : 'http'}://<your IP>:${webClientPort}/`);
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
