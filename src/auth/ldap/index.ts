/**
 * The built-in LDAP / Active Directory auth source (README, "LDAP / Active
 * Directory"). service/app.ts calls `checkLdap` before anything starts (a bad
 * section stops start-up) and `installLdap` when the login sequence is built.
 */
import type { LoginService } from '../../common/login';
import { resolveConfigPath } from '../../config/load';
import { ConfigError } from '../../config/errors';
import type { AppConfig } from '../../config/types';
import type { DataProviderService } from '../../dataprovider/types';
import type { AppLogger } from '../../logger/types';
import type { Hooks } from '../../hooks/index';
import { checkLdapConfig, ldapEnabled } from './config';
import { LdapDirectory } from './directory';
import { installLdapChecks } from './login-checks';
import { LDAP_SENDER, LdapSource } from './source';

export { LdapSource } from './source';
export { LdapDirectory, DirectoryError } from './directory';
export { escapeFilterValue, userFilter } from './filter';

export interface LdapDeps {
  config: AppConfig;
  configDir: string;
  logger: AppLogger;
  provider: DataProviderService;
  /** tests: the clock of the cache_time memory */
  now?: () => number;
}

/** Throws a ConfigError when the section is enabled but cannot work. */
export function checkLdap(config: AppConfig, configDir: string): void {
  if (!ldapEnabled(config.ldap)) return;
  checkLdapConfig(config, (p) => resolveConfigPath(configDir, p));
}

/** Builds the source (undefined when `ldap.urls` is empty). */
export function createLdapSource(d: LdapDeps): LdapSource | undefined {
  if (!ldapEnabled(d.config.ldap)) return undefined;
  let directory: LdapDirectory;
  try {
    directory = new LdapDirectory(d.config.ldap, d.configDir, resolveConfigPath);
  } catch (e) {
    throw new ConfigError(`ldap.ca_certificates: ${e instanceof Error ? e.message : String(e)}`);
  }
  return new LdapSource({
    cfg: d.config.ldap, directory, provider: d.provider, logger: d.logger, namingRules: d.config.data_provider.naming_rules, ...(d.now ? { now: d.now } : {}) });
}

/** Adds the LDAP checks to the login sequence when the section is enabled. */
export function installLdap(login: LoginService, d: LdapDeps & { hooks?: Hooks }): void {
  const source = createLdapSource(d);
  if (!source) return;
  installLdapChecks(login, source);
  // the SSH "is this key acceptable?" query answers from stored keys unless told a source brings them at login
  if (d.config.ldap.public_keys_attribute !== '' && source.applies('publickey')) d.hooks?.keysComeFromLoginSource();
  const c = d.config.ldap;
  d.logger.info(LDAP_SENDER, 'LDAP auth source enabled', { urls: c.urls.join(','), base_dn: c.base_dn, scope: c.scope, cache_time: c.cache_time });
}
