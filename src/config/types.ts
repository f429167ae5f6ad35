/**
 * The typed shape of sftpgo.json (SFTPGo's sections and keys). config/schema.ts
 * (convict) produces exactly this; each layer reads only its own section.
 */

import type { AcmeConfig, HttpdBindingExtras, PluginConfig, SmtpConfig } from './types-ops';
export type * from './types-ops';

export interface ActionsConfig { execute_on: string[]; execute_sync: string[]; hook: string }

export interface DefenderConfig {
  enabled: boolean;
  driver: string;
  ban_time: number;
  ban_time_increment: number;
  threshold: number;
  score_invalid: number;
  score_valid: number;
  score_limit_exceeded: number;
  score_no_auth: number;
  observation_time: number;
  entries_soft_limit: number;
  entries_hard_limit: number;
  login_delay: { success: number; password_failed: number };
}

export interface RateLimiterConfig {
  average: number;
  period: number;
  burst: number;
  type: number;
  protocols: string[];
  generate_defender_events: boolean;
  entries_soft_limit: number;
  entries_hard_limit: number;
}

export interface CommonConfig {
  idle_timeout: number;
  /** sftpgo-ts extension: serve's worker processes (0 = auto) */
  workers: number;
  upload_mode: number;
  actions: ActionsConfig;
  setstat_mode: number;
  rename_mode: number;
  symlink_mode: number;
  resume_max_size: number;
  secret_min_entropy: number;
  proxy_protocol: number;
  proxy_allowed: string[];
  proxy_skipped: string[];
  startup_hook: string;
  post_connect_hook: string;
  post_disconnect_hook: string;
  max_total_connections: number;
  max_per_host_connections: number;
  allowlist_status: number;
  allow_self_connections: number;
  umask: string;
  server_version: string;
  tz: string;
  metadata: { read: number };
  defender: DefenderConfig;
  rate_limiters: RateLimiterConfig[];
  event_manager: { enabled_commands: string[] };
}

export interface SftpdBinding { port: number; address: string; apply_proxy_config: boolean }

export interface SftpdConfig {
  bindings: SftpdBinding[];
  max_auth_tries: number;
  host_keys: string[];
  host_certificates: string[];
  host_key_algorithms: string[];
  kex_algorithms: string[];
  ciphers: string[];
  macs: string[];
  public_key_algorithms: string[];
  trusted_user_ca_keys: string[];
  revoked_user_certs_file: string;
  opkssh_path: string;
  opkssh_checksum: string;
  login_banner_file: string;
  enabled_ssh_commands: string[];
  keyboard_interactive_authentication: boolean;
  keyboard_interactive_auth_hook: string;
  password_authentication: boolean;
}

export interface FtpdBinding {
  port: number;
  address: string;
  apply_proxy_config: boolean;
  tls_mode: number;
  certificate_file: string;
  certificate_key_file: string;
  min_tls_version: number;
  force_passive_ip: string;
  passive_ip_overrides: { networks: string[]; ip: string }[];
  passive_host: string;
  client_auth_type: number;
  tls_cipher_suites: string[];
  passive_connections_security: number;
  active_connections_security: number;
  ignore_ascii_transfer_type: number;
  debug: boolean;
}

export interface FtpdConfig {
  bindings: FtpdBinding[];
  banner_file: string;
  active_transfers_port_non_20: boolean;
  passive_port_range: { start: number; end: number };
  disable_active_mode: boolean;
  enable_site: boolean;
  hash_support: number;
  combine_support: number;
  certificate_file: string;
  certificate_key_file: string;
  ca_certificates: string[];
  ca_revocation_lists: string[];
}

export interface WebdavdBinding {
  port: number;
  address: string;
  enable_https: boolean;
  certificate_file: string;
  certificate_key_file: string;
  min_tls_version: number;
  client_auth_type: number;
  tls_cipher_suites: string[];
  tls_protocols: string[];
  prefix: string;
  proxy_mode: number;
  proxy_allowed: string[];
  client_ip_proxy_header: string;
  client_ip_header_depth: number;
  disable_www_auth_header: boolean;
}

export interface CorsConfig {
  enabled: boolean;
  allowed_origins: string[];
  allowed_methods: string[];
  allowed_headers: string[];
  exposed_headers: string[];
  allow_credentials: boolean;
  max_age: number;
  options_passthrough: boolean;
  options_success_status: number;
  allow_private_network: boolean;
}

export interface WebdavdConfig {
  bindings: WebdavdBinding[];
  certificate_file: string;
  certificate_key_file: string;
  ca_certificates: string[];
  ca_revocation_lists: string[];
  cors: CorsConfig;
  cache: {
    users: { expiration_time: number; max_size: number };
    mime_types: { enabled: boolean; max_size: number; custom_mappings: { ext: string; mime: string }[] };
  };
}

export interface DataProviderConfig {
  driver: string;
  name: string;
  host: string;
  port: number;
  username: string;
  password: string;
  password_file: string;
  sslmode: number;
  disable_sni: boolean;
  target_session_attrs: string;
  root_cert: string;
  client_cert: string;
  client_key: string;
  connection_string: string;
  sql_tables_prefix: string;
  track_quota: number;
  delayed_quota_update: number;
  pool_size: number;
  users_base_dir: string;
  actions: { execute_on: string[]; execute_for: string[]; hook: string };
  external_auth_hook: string;
  external_auth_scope: number;
  pre_login_hook: string;
  post_login_hook: string;
  post_login_scope: number;
  check_password_hook: string;
  check_password_scope: number;
  password_hashing: {
    bcrypt_options: { cost: number };
    argon2_options: { memory: number; iterations: number; parallelism: number };
    algo: string;
  };
  password_validation: { admins: { min_entropy: number }; users: { min_entropy: number } };
  password_caching: boolean;
  update_mode: number;
  create_default_admin: boolean;
  naming_rules: number;
  is_shared: number;
  node: { host: string; port: number; proto: string };
  backups_path: string;
}

export interface HttpdBinding extends HttpdBindingExtras {
  port: number;
  address: string;
  enable_web_admin: boolean;
  enable_web_client: boolean;
  enable_rest_api: boolean;
  enabled_login_methods: number;
  disabled_login_methods: number;
  enable_https: boolean;
  certificate_file: string;
  certificate_key_file: string;
  min_tls_version: number;
  client_auth_type: number;
  tls_cipher_suites: string[];
  tls_protocols: string[];
  proxy_mode: number;
  proxy_allowed: string[];
  client_ip_proxy_header: string;
  client_ip_header_depth: number;
  hide_login_url: number;
  render_openapi: boolean;
  base_url: string;
  languages: string[];
}

export interface HttpdConfig {
  bindings: HttpdBinding[];
  templates_path: string;
  static_files_path: string;
  openapi_path: string;
  web_root: string;
  certificate_file: string;
  certificate_key_file: string;
  ca_certificates: string[];
  ca_revocation_lists: string[];
  signing_passphrase: string;
  signing_passphrase_file: string;
  token_validation: number;
  cookie_lifetime: number;
  share_cookie_lifetime: number;
  jwt_lifetime: number;
  max_upload_file_size: number;
  cors: CorsConfig;
  setup: { installation_code: string; installation_code_hint: string };
  hide_support_link: boolean;
}

export interface TelemetryConfig {
  bind_port: number;
  bind_address: string;
  enable_profiler: boolean;
  auth_user_file: string;
  certificate_file: string;
  certificate_key_file: string;
  min_tls_version: number;
  tls_cipher_suites: string[];
  tls_protocols: string[];
}

export interface HttpClientConfig {
  timeout: number;
  retry_wait_min: number;
  retry_wait_max: number;
  retry_max: number;
  ca_certificates: string[];
  certificates: { cert: string; key: string }[];
  skip_tls_verify: boolean;
  headers: { key: string; value: string; url: string }[];
}

export interface CommandConfig {
  timeout: number;
  env: string[];
  commands: { path: string; timeout: number; env: string[]; args: string[]; hook: string }[];
}

export interface AppConfig {
  common: CommonConfig;
  sftpd: SftpdConfig;
  ftpd: FtpdConfig;
  webdavd: WebdavdConfig;
  data_provider: DataProviderConfig;
  httpd: HttpdConfig;
  telemetry: TelemetryConfig;
  http: HttpClientConfig;
  command: CommandConfig;
  kms: { secrets: { url: string; master_key: string; master_key_path: string } };
  mfa: { totp: { name: string; issuer: string; algo: string }[] };
  smtp: SmtpConfig;
  acme: AcmeConfig;
  plugins: PluginConfig[];
  ldap: LdapConfig;
}

/** The built-in LDAP auth source (README, "LDAP / Active Directory"); empty `urls` = off. */
export interface LdapConfig {
  urls: string[];
  start_tls: boolean;
  ca_certificates: string[];
  skip_tls_verify: boolean;
  timeout: number;
  bind_dn: string;
  bind_password: string;
  base_dn: string;
  /** `%username%` is replaced by the login name, RFC 4515-escaped */
  search_query: string;
  username_attribute: string;
  public_keys_attribute: string;
  group_attributes: string[];
  require_groups: boolean;
  scope: number;
  cache_time: number;
  users_base_dir: string;
  user_template: {
    permissions: string[]; quota_size: number; quota_files: number; max_sessions: number;
    upload_bandwidth: number; download_bandwidth: number;
  };
  group_permissions: { group: string; path: string; permissions: string[] }[];
}

/** Process-level settings from CLI flags / SFTPGO_* env (not in the config file, as SFTPGo). */
export interface RuntimeOptions {
  configDir: string;
  configFile: string;
  logFilePath: string;
  logLevel: string;
  logMaxSize: number;
  logMaxBackups: number;
  logMaxAge: number;
  logCompress: boolean;
  logUTCTime: boolean;
  graceTime: number;
  /** --workers; absent or -1 = common.workers from the config */
  workers?: number;
  loadDataFrom: string;
  loadDataMode: number;
  loadDataClean: boolean;
  loadDataQuotaScan: number;
}
