/**
 * `ldap`: the built-in LDAP / Active Directory auth source (no SFTPGo
 * equivalent: SFTPGo needs its sftpgo-plugin-auth, whose option names are kept
 * where they fit). Empty `urls` = off. Checked at start-up by
 * src/auth/ldap/config.ts.
 */
import { bool, int, nat, str, strList, structList, type SchemaTree } from './helpers';

export function ldapSchema(): SchemaTree {
  return {
    urls: strList(),
    start_tls: bool(false),
    ca_certificates: strList(),
    skip_tls_verify: bool(false),
    /** seconds for connecting and for each LDAP operation */
    timeout: int(10, 1, 300),
    bind_dn: str(),
    bind_password: { ...str(), sensitive: true },
    base_dn: str(),
    search_query: str('(&(objectClass=user)(sAMAccountType=805306368)(sAMAccountName=%username%))'),
    username_attribute: str(),
    public_keys_attribute: str(),
    group_attributes: strList(['memberOf']),
    require_groups: bool(false),
    /** bitmask as data_provider.external_auth_scope: 1 password, 2 public key, 4 keyboard-interactive; 0 = all three */
    scope: int(0, 0, 7),
    cache_time: nat(0),
    users_base_dir: str(),
    user_template: {
      permissions: strList(['*']),
      quota_size: nat(0),
      quota_files: nat(0),
      max_sessions: nat(0),
      upload_bandwidth: nat(0),
      download_bandwidth: nat(0),
    },
    group_permissions: structList({ group: str(), path: str('/'), permissions: strList() }),
  };
}
