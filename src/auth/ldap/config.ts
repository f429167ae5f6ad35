/**
 * Start-up checks of the `ldap` section: a setting the server cannot honour
 * stops start-up with one line naming the key (fail closed), e.g. an LDAP
 * source without a search filter placeholder would let every login name map
 * to the same entry.
 */
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { ConfigError } from '../../config/errors';
import type { AppConfig, LdapConfig } from '../../config/types';
import { ALL_PERMISSIONS } from '../../dataprovider/models';
import { USERNAME_PLACEHOLDER } from './filter';

export function ldapEnabled(cfg: LdapConfig): boolean {
  return cfg.urls.length > 0;
}

function checkPermissions(key: string, perms: readonly string[]): void {
  for (const p of perms) {
    if (!(ALL_PERMISSIONS as readonly string[]).includes(p)) throw new ConfigError(`${key}: unknown permission "${p}"`);
  }
}

/** Throws a ConfigError for the first setting that cannot work; call only when enabled. */
export function checkLdapConfig(config: AppConfig, resolve: (p: string) => string): void {
  const cfg = config.ldap;
  for (const [i, url] of cfg.urls.entries()) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError(`ldap.urls[${i}]: "${url}" is not a URL`);
    }
    if (parsed.protocol !== 'ldap:' && parsed.protocol !== 'ldaps:') throw new ConfigError(`ldap.urls[${i}]: the scheme must be ldap:// or ldaps://`);
    if (cfg.start_tls && parsed.protocol === 'ldaps:') throw new ConfigError(`ldap.urls[${i}]: start_tls needs an ldap:// URL (ldaps:// is TLS already)`);
  }
  if (cfg.base_dn.trim() === '') throw new ConfigError('ldap.base_dn: required');
  if (!cfg.search_query.includes(USERNAME_PLACEHOLDER)) throw new ConfigError(`ldap.search_query: must contain ${USERNAME_PLACEHOLDER}`);
  if (!cfg.search_query.startsWith('(') || !cfg.search_query.endsWith(')')) throw new ConfigError('ldap.search_query: must be an LDAP filter in parentheses');
  if (cfg.bind_dn !== '' && cfg.bind_password === '') {
    // an empty password turns the bind into an unauthenticated one (RFC 4513 5.1.2): never what was meant
    throw new ConfigError('ldap.bind_password: required with ldap.bind_dn');
  }
  if (!isAbsolute(cfg.users_base_dir)) throw new ConfigError('ldap.users_base_dir: required, an absolute path (homes are <users_base_dir>/<username>)');
  for (const [i, ca] of cfg.ca_certificates.entries()) {
    if (!existsSync(resolve(ca))) throw new ConfigError(`ldap.ca_certificates[${i}]: file "${ca}" not found`);
  }
  if (cfg.user_template.permissions.length === 0) throw new ConfigError('ldap.user_template.permissions: at least one permission for "/"');
  checkPermissions('ldap.user_template.permissions', cfg.user_template.permissions);
  for (const [i, g] of cfg.group_permissions.entries()) {
    if (g.group.trim() === '') throw new ConfigError(`ldap.group_permissions[${i}].group: required`);
    if (!g.path.startsWith('/')) throw new ConfigError(`ldap.group_permissions[${i}].path: must be an absolute virtual path`);
    if (g.permissions.length === 0) throw new ConfigError(`ldap.group_permissions[${i}].permissions: required`);
    checkPermissions(`ldap.group_permissions[${i}].permissions`, g.permissions);
  }
  if (config.data_provider.external_auth_hook !== '') {
    throw new ConfigError('ldap: cannot be used together with data_provider.external_auth_hook (both would decide the same logins)');
  }
}
