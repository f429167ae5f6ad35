/**
 * `sftpgo portable`: serve one directory over SFTP for one account, memory
 * provider, no HTTP; optionally announced with multicast DNS. Missing username/password are generated and printed on
 * stdout (never logged).
 */
import * as path from 'node:path';
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { RuntimeOptions } from '../config/types';
import type { FilesystemConfig } from '../dataprovider/models';
import { loadConfig } from '../config';
import { loggerFromRuntime, startApp } from '../service/app';
import { installSignals } from './serve';
import { describeStorage } from './portable-fs';
import { advertise, type Advertisement } from './portable-mdns';
import { getVersionInfo } from '../service/version';

export interface PortableOptions {
  directory: string;
  username: string;
  password: string;
  publicKeys: string[];
  permissions: string[];
  sftpdPort: number;
  /** the account's storage (portable-fs.ts); local by default */
  filesystem?: FilesystemConfig;
  /** -S: announce the listeners with multicast DNS (portable-mdns.ts) */
  advertiseService?: boolean;
  /** -C: with -S, the username and password go in the TXT record */
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

export async function portable(o: PortableOptions, out: (s: string) => void): Promise<number> {
  const dir = path.resolve(o.directory || '.');
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`--directory ${dir}: not a directory`);
  if (o.sftpdPort < 0 || o.sftpdPort > 65535) throw new Error(`--sftpd-port ${o.sftpdPort}: must be between 0 and 65535`);
  const username = o.username || `user${randomBytes(4).toString('hex')}`;
  const password = o.password || (o.publicKeys.length === 0 ? randomBytes(12).toString('base64url') : '');
  const permissions = o.permissions.length > 0 ? o.permissions : ['list', 'download'];

  const logger = loggerFromRuntime(o.runtime);
  // Defaults (plus SFTPGO_ env), but no config file: portable mode is self-contained.
  const config = loadConfig({ configDir: o.runtime.configDir, configFile: '', onWarning: () => undefined });
  config.data_provider.driver = 'memory';
  config.data_provider.name = '';
  config.data_provider.create_default_admin = false;
  const sftpPort = o.sftpdPort > 0 ? o.sftpdPort : await pickFreePort();
  config.sftpd.bindings = [{ port: sftpPort, address: '', apply_proxy_config: true }];
  config.ftpd.bindings = config.ftpd.bindings.map((b) => ({ ...b, port: 0 }));
  config.webdavd.bindings = config.webdavd.bindings.map((b) => ({ ...b, port: 0 }));
  config.httpd.bindings = config.httpd.bindings.map((b) => ({ ...b, port: 0 }));
  config.telemetry.bind_port = 0;

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
      filesystem: o.filesystem ?? { provider: 0 },
    }, { username: '__system__', ip: '127.0.0.1' });
  } catch (err) {
    await app.stop();
    throw new Error(`cannot create the portable user: ${(err as Error).message}`);
  }
  const addrs = app.addresses('sftpd');
  const port = addrs[0]?.port ?? sftpPort;
  let advertisement: Advertisement | undefined;
  if (o.advertiseService) {
    advertisement = await advertise({
      listeners: [{ protocol: 'SFTP', port }], version: getVersionInfo().version, logger,
      credentials: o.advertiseCredentials ? { username, password } : undefined,
    }).catch(async (err: Error) => {
      await app.stop();
      throw new Error(`cannot advertise via multicast DNS: ${err.message}`);
    });
  }
  logger.info('service', 'portable mode ready', { username, directory: dir, permissions, sftp_port: port });
  out(`Portable mode ready, SFTP port: ${port}`);
  out(`Username: ${username}`);
  if (password) out(`Password: ${password}`);
  if (o.publicKeys.length > 0) out(`Public keys: ${o.publicKeys.length}`);
  out(`Storage: ${describeStorage(o.filesystem ?? { provider: 0 }, dir)}`);
  if (advertisement) out(`Advertised via multicast DNS: SFTP${o.advertiseCredentials ? ' (with the credentials)' : ''}`);
  out(`Permissions: ${permissions.join(',')}`);
  return new Promise<number>((resolve) => {
    const remove = installSignals(app, (code) => {
      remove();
      void (advertisement?.stop() ?? Promise.resolve()).finally(() => logger.close()).finally(() => resolve(code));
    });
  });
}
