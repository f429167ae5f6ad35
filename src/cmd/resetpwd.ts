/**
 * `sftpgo resetpwd --admin <name>`: sets a new password for an administrator
 * straight in the data provider (prompted twice, no echo on a terminal) and
 * disables the admin's two-factor authentication, as SFTPGo does. Not for the
 * memory provider; stop a running server on SQLite first.
 */
import type { RuntimeOptions } from '../config/types';
import { createMetrics } from '../metrics/metrics';
import { openProvider } from '../service/app';
import { AccountSecrets } from '../dataprovider/secrets';
import { createKms } from '../kms';
import { TotpValidator } from '../mfa/totp';
import { prepare } from './serve';
import type { SecretReader } from './prompt';

export async function resetAdminPassword(rt: RuntimeOptions, username: string, reader: SecretReader, out: (s: string) => void): Promise<number> {
  if (username === '') throw new Error('required flag "admin" not set');
  const { logger, config } = prepare(rt);
  try {
    if (config.data_provider.driver === 'memory') throw new Error('memory provider is not supported');
    out(`Initializing provider: "${config.data_provider.driver}"`);
    const secrets = new AccountSecrets(createKms(config.kms, rt.configDir || '.'), new TotpValidator(config.mfa.totp));
    const provider = await openProvider(config, rt, logger, createMetrics(), secrets);
    try {
      const admin = await provider.getAdmin(username);
      if (!admin) throw new Error(`unable to get admin "${username}": not found`);
      const password = await reader.read('Enter Password: ');
      const confirm = await reader.read('Confirm Password: ');
      if (password !== confirm) throw new Error('Passwords do not match');
      if (password === '') throw new Error('the password cannot be empty');
      await provider.updateAdmin(username, { ...admin, password }, { username: '__system__', ip: '' });
      // SFTPGo: resetting the password also turns two-factor authentication off (only the
      // second-factor writer changes it: ordinary updates never touch 2FA)
      await provider.saveSecondFactor('admin', username, { totp_config: { enabled: false }, recovery_codes: [] }, { username: '__system__', ip: '' });
      logger.info('cmd', `password reset from the command line for admin "${username}"`);
      out(`Password updated for admin "${username}"`);
      return 0;
    } finally {
      await provider.close();
    }
  } finally {
    reader.close();
    await logger.close();
  }
}
