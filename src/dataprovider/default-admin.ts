/**
 * data_provider.create_default_admin: the first admin of an empty provider, from
 * SFTPGO_DEFAULT_ADMIN_USERNAME / SFTPGO_DEFAULT_ADMIN_PASSWORD (SFTPGo's
 * defaults "admin"/"password" otherwise, with a warning to change them).
 */
import { FsError } from '../common/errors';
import type { AppLogger } from '../logger/types';
import type { DataProviderService } from './types';

export async function createDefaultAdmin(provider: DataProviderService, env: NodeJS.ProcessEnv, log: AppLogger): Promise<void> {
  if ((await provider.backend.countAdmins()) > 0) return;
  const username = env.SFTPGO_DEFAULT_ADMIN_USERNAME || 'admin';
  const password = env.SFTPGO_DEFAULT_ADMIN_PASSWORD || 'password';
  if (!env.SFTPGO_DEFAULT_ADMIN_USERNAME || !env.SFTPGO_DEFAULT_ADMIN_PASSWORD) {
    log.warn('dataprovider', 'creating the default admin with built-in credentials: set SFTPGO_DEFAULT_ADMIN_USERNAME ' +
      'and SFTPGO_DEFAULT_ADMIN_PASSWORD, or change the password now', { username });
  }
  try {
    await provider.addAdmin({ username, password, status: 1, permissions: ['*'] }, { username: '__system__', ip: '' });
  } catch (e) {
    // another node (or worker) sharing the database created it first
    if (!(e instanceof FsError && e.kind === 'AlreadyExists')) throw e;
  }
}
