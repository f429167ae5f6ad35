/**
 * Settings SFTPGo has that this server accepts in the file (so an existing
 * sftpgo.json loads) but does not implement yet. Leaving them at their
 * defaults is fine; asking for the feature stops start-up with one clear
 * line, because silently ignoring e.g. a pre-login hook or the defender would
 * be a security surprise. The README lists the same features as not supported.
 */
import type { AppConfig } from './types';
import { ConfigError } from './errors';

interface Check { key: string; active: (c: AppConfig) => boolean; what: string }

const nonEmpty = (s: string): boolean => s.trim() !== '';

const CHECKS: Check[] = [
  { key: 'common.startup_hook', active: (c) => nonEmpty(c.common.startup_hook), what: 'the startup hook' },
  { key: 'common.post_connect_hook', active: (c) => nonEmpty(c.common.post_connect_hook), what: 'the post-connect hook' },
  { key: 'common.post_disconnect_hook', active: (c) => nonEmpty(c.common.post_disconnect_hook), what: 'the post-disconnect hook' },
  { key: 'common.proxy_protocol', active: (c) => c.common.proxy_protocol !== 0, what: 'the PROXY protocol' },
  { key: 'common.defender.enabled', active: (c) => c.common.defender.enabled, what: 'the defender' },
  { key: 'common.rate_limiters', active: (c) => c.common.rate_limiters.some((r) => r.average > 0), what: 'rate limiters' },
  { key: 'common.allowlist_status', active: (c) => c.common.allowlist_status !== 0, what: 'the global IP allow list' },
  { key: 'sftpd.host_certificates', active: (c) => c.sftpd.host_certificates.length > 0, what: 'SSH host certificates' },
  { key: 'sftpd.trusted_user_ca_keys', active: (c) => c.sftpd.trusted_user_ca_keys.length > 0, what: 'SSH user certificates' },
  { key: 'sftpd.revoked_user_certs_file', active: (c) => nonEmpty(c.sftpd.revoked_user_certs_file), what: 'SSH user certificates' },
  { key: 'sftpd.opkssh_path', active: (c) => nonEmpty(c.sftpd.opkssh_path), what: 'OpenPubkey SSH' },
  { key: 'sftpd.keyboard_interactive_auth_hook', active: (c) => nonEmpty(c.sftpd.keyboard_interactive_auth_hook), what: 'the keyboard-interactive hook' },
  { key: 'ftpd.combine_support', active: (c) => c.ftpd.combine_support !== 0, what: 'the FTP COMB command' },
  { key: 'data_provider.external_auth_hook', active: (c) => nonEmpty(c.data_provider.external_auth_hook), what: 'the external authentication hook' },
  { key: 'data_provider.pre_login_hook', active: (c) => nonEmpty(c.data_provider.pre_login_hook), what: 'the pre-login hook' },
  { key: 'data_provider.post_login_hook', active: (c) => nonEmpty(c.data_provider.post_login_hook), what: 'the post-login hook' },
  { key: 'data_provider.check_password_hook', active: (c) => nonEmpty(c.data_provider.check_password_hook), what: 'the check-password hook' },
  { key: 'data_provider.password_validation', active: (c) => c.data_provider.password_validation.admins.min_entropy > 0 || c.data_provider.password_validation.users.min_entropy > 0, what: 'password strength validation' },
  { key: 'data_provider.is_shared', active: (c) => c.data_provider.is_shared !== 0, what: 'shared (multi-node) data providers' },
];

/** Throws a ConfigError naming the first setting that asks for an unimplemented feature. */
export function checkUnsupported(c: AppConfig): void {
  for (const chk of CHECKS) {
    if (chk.active(c)) {
      throw new ConfigError(`${chk.key}: ${chk.what} ${chk.what.endsWith('s') && !chk.what.startsWith('the') ? 'are' : 'is'} not supported yet by this server; leave it at its default (see README, "Not supported yet")`);
    }
  }
}
