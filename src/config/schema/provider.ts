/** `data_provider` section (SFTPGo defaults). */
import { bool, int, nat, oneOf, port, str, strList, type SchemaTree } from './helpers';

/** Every driver SFTPGo knows; openDataProvider refuses the ones this build lacks. */
export const PROVIDER_DRIVERS = ['sqlite', 'mysql', 'postgresql', 'cockroachdb', 'bolt', 'memory'] as const;

export function dataProviderSchema(): SchemaTree {
  return {
    driver: oneOf('sqlite', PROVIDER_DRIVERS),
    name: str('sftpgo.db'),
    host: str(),
    port: port(0),
    username: str(),
    password: { ...str(), sensitive: true },
    password_file: str(),
    sslmode: nat(0),
    disable_sni: bool(false),
    target_session_attrs: str(),
    root_cert: str(),
    client_cert: str(),
    client_key: str(),
    connection_string: { ...str(), sensitive: true },
    sql_tables_prefix: str(),
    track_quota: int(2, 0, 2),
    delayed_quota_update: nat(0),
    pool_size: nat(0),
    users_base_dir: str(),
    actions: { execute_on: strList(), execute_for: strList(), hook: str() },
    external_auth_hook: str(),
    external_auth_scope: int(0, 0, 15),
    pre_login_hook: str(),
    post_login_hook: str(),
    post_login_scope: int(0, 0, 2),
    check_password_hook: str(),
    check_password_scope: int(0, 0, 7),
    password_hashing: {
      bcrypt_options: { cost: int(10, 4, 31) },
      argon2_options: { memory: nat(65536), iterations: nat(1), parallelism: nat(2) },
      algo: oneOf('bcrypt', ['bcrypt', 'argon2id']),
    },
    password_validation: { admins: { min_entropy: nat(0) }, users: { min_entropy: nat(0) } },
    password_caching: bool(true),
    update_mode: int(0, 0, 1),
    create_default_admin: bool(false),
    naming_rules: nat(5),
    is_shared: int(0, 0, 1),
    node: { host: str(), port: port(0), proto: oneOf('http', ['http', 'https']) },
    backups_path: str('backups'),
  };
}
