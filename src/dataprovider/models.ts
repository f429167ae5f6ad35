/**
 * The data model, with SFTPGo 2.7's JSON field names (REST API v2 and dump
 * format). Fields a later issue acts on are stored and returned already.
 * All timestamps are Unix milliseconds.
 */
import { hideFilesystemSecrets } from './fs-secrets';

export type Permission =
  | '*' | 'list' | 'download' | 'upload' | 'overwrite' | 'delete' | 'delete_files' | 'delete_dirs'
  | 'rename' | 'rename_files' | 'rename_dirs' | 'create_dirs' | 'create_symlinks'
  | 'chmod' | 'chown' | 'chtimes' | 'copy';

export const ALL_PERMISSIONS: readonly Permission[] = [
  '*', 'list', 'download', 'upload', 'overwrite', 'delete', 'delete_files', 'delete_dirs',
  'rename', 'rename_files', 'rename_dirs', 'create_dirs', 'create_symlinks',
  'chmod', 'chown', 'chtimes', 'copy',
];

export type ProtocolName = 'SSH' | 'FTP' | 'DAV' | 'HTTP';
export type LoginMethod =
  | 'publickey' | 'password' | 'password-over-SSH' | 'keyboard-interactive'
  | 'publickey+password' | 'publickey+keyboard-interactive'
  | 'TLSCertificate' | 'TLSCertificate+password';

export interface Secret {
  status: string;
  payload?: string;
  key?: string;
  additional_data?: string;
  mode?: number;
}

/** filters.totp_config (SFTPGo UserTOTPConfig / AdminTOTPConfig; admins have no protocols). */
export interface TotpConfig {
  enabled?: boolean;
  config_name?: string;
  secret?: Secret;
  /** users only: SSH, FTP, HTTP */
  protocols?: string[];
}

/** filters.recovery_codes[]: single-use codes, stored encrypted. */
export interface RecoveryCode { secret: Secret; used?: boolean }

export interface FilePatternFilter {
  path: string;
  allowed_patterns?: string[];
  denied_patterns?: string[];
  /** 0 visible but denied, 1 hidden */
  deny_policy?: number;
}

export interface BandwidthLimit {
  sources: string[];
  upload_bandwidth?: number;
  download_bandwidth?: number;
}

export interface AccessTime { day_of_week: number; from: string; to: string }

export interface UserFilters {
  allowed_ip?: string[];
  denied_ip?: string[];
  denied_login_methods?: LoginMethod[];
  denied_protocols?: ProtocolName[];
  file_patterns?: FilePatternFilter[];
  max_upload_file_size?: number;
  tls_username?: string;
  hooks?: { external_auth_disabled?: boolean; pre_login_disabled?: boolean; check_password_disabled?: boolean };
  disable_fs_checks?: boolean;
  web_client?: string[];
  allow_api_key_auth?: boolean;
  user_type?: string;
  bandwidth_limits?: BandwidthLimit[];
  external_auth_cache_time?: number;
  start_directory?: string;
  two_factor_protocols?: string[];
  /** 1 = TLS required for FTP */
  ftp_security?: number;
  is_anonymous?: boolean;
  default_shares_expiration?: number;
  max_shares_expiration?: number;
  password_expiration?: number;
  password_strength?: number;
  access_time?: AccessTime[];
  require_password_change?: boolean;
  tls_certs?: string[];
  additional_emails?: string[];
  totp_config?: TotpConfig;
  recovery_codes?: RecoveryCode[];
  [extra: string]: unknown;
}

export interface FilesystemConfig {
  /** 0 local, 1 s3, 2 gcs, 3 azblob, 4 crypt, 5 sftp, 6 http */
  provider: number;
  osconfig?: { read_buffer_size?: number; write_buffer_size?: number };
  s3config?: Record<string, unknown>;
  gcsconfig?: Record<string, unknown>;
  azblobconfig?: Record<string, unknown>;
  cryptconfig?: Record<string, unknown>;
  sftpconfig?: Record<string, unknown>;
  httpconfig?: Record<string, unknown>;
}

/** A virtual folder as stored ("BaseVirtualFolder"). */
export interface Folder {
  id?: number;
  name: string;
  mapped_path: string;
  description?: string;
  used_quota_size?: number;
  used_quota_files?: number;
  last_quota_update?: number;
  users?: string[];
  filesystem?: FilesystemConfig;
}

/** A folder mounted inside a user: the folder plus the mapping fields. */
export interface VirtualFolder extends Folder {
  virtual_path: string;
  /** 0 unlimited, -1 counted in the user's quota */
  quota_size: number;
  quota_files: number;
  subpath?: string;
}

export interface User {
  id?: number;
  /** 0 disabled, 1 enabled */
  status: number;
  username: string;
  email?: string;
  description?: string;
  expiration_date?: number;
  /** Stored hash. Never serialized to API output (see toPublicUser). */
  password?: string;
  has_password?: boolean;
  public_keys?: string[];
  home_dir: string;
  uid?: number;
  gid?: number;
  max_sessions?: number;
  quota_size?: number;
  quota_files?: number;
  used_quota_size?: number;
  used_quota_files?: number;
  last_quota_update?: number;
  permissions: Record<string, Permission[]>;
  upload_bandwidth?: number;
  download_bandwidth?: number;
  upload_data_transfer?: number;
  download_data_transfer?: number;
  total_data_transfer?: number;
  used_upload_data_transfer?: number;
  used_download_data_transfer?: number;
  created_at?: number;
  updated_at?: number;
  last_login?: number;
  first_download?: number;
  first_upload?: number;
  last_password_change?: number;
  filters?: UserFilters;
  filesystem?: FilesystemConfig;
  virtual_folders?: VirtualFolder[];
  additional_info?: string;
  /** membership: 1 primary, 2 secondary, 3 membership only (GROUP_TYPE) */
  groups?: UserGroupRef[];
  oidc_custom_fields?: Record<string, unknown>;
  role?: string;
}

export type AdminPermission =
  | '*' | 'add_users' | 'edit_users' | 'del_users' | 'view_users' | 'view_conns' | 'close_conns'
  | 'view_status' | 'manage_admins' | 'manage_folders' | 'manage_groups' | 'quota_scans'
  | 'manage_system' | 'manage_defender' | 'view_defender' | 'view_events' | 'disable_mfa'
  | 'manage_apikeys' | 'manage_event_rules' | 'manage_roles' | 'manage_ip_lists';

export interface AdminFilters {
  allow_list?: string[];
  allow_api_key_auth?: boolean;
  require_two_factor?: boolean;
  require_password_change?: boolean;
  preferences?: { hide_user_page_sections?: number; default_users_expiration?: number };
  totp_config?: TotpConfig;
  recovery_codes?: RecoveryCode[];
  [extra: string]: unknown;
}

export interface Admin {
  id?: number;
  status: number;
  username: string;
  description?: string;
  /** stored hash, never returned */
  password?: string;
  email?: string;
  permissions: AdminPermission[];
  filters?: AdminFilters;
  additional_info?: string;
  /** groups added to the users this admin creates in the web admin (add_to_users_as: 0 membership, 1 primary, 2 secondary) */
  groups?: AdminGroupRef[];
  created_at?: number;
  updated_at?: number;
  last_login?: number;
  role?: string;
}

export interface ApiKey {
  id?: number;
  key_id: string;
  name: string;
  /** hashed secret, never returned */
  key?: string;
  /** 1 admin, 2 user */
  scope: number;
  created_at?: number;
  updated_at?: number;
  last_use_at?: number;
  expires_at?: number;
  description?: string;
  user?: string;
  admin?: string;
}

/** SFTPGo's group types (sdk.GroupType*). */
export const GROUP_TYPE = { primary: 1, secondary: 2, membership: 3 } as const;

export interface UserGroupRef { name: string; type: number }

export interface AdminGroupRef { name: string; options: { add_to_users_as?: number } }

/** user_settings of a group: what members inherit (SFTPGo GroupUserSettings). */
export interface GroupUserSettings {
  home_dir?: string;
  max_sessions?: number;
  quota_size?: number;
  quota_files?: number;
  permissions?: Record<string, Permission[]>;
  upload_bandwidth?: number;
  download_bandwidth?: number;
  upload_data_transfer?: number;
  download_data_transfer?: number;
  total_data_transfer?: number;
  /** days after the member's creation, applied when the member has no expiration_date */
  expires_in?: number;
  filters?: UserFilters;
  filesystem?: FilesystemConfig;
}

export interface Group {
  id?: number;
  name: string;
  description?: string;
  created_at?: number;
  updated_at?: number;
  user_settings: GroupUserSettings;
  virtual_folders?: VirtualFolder[];
  /** members' usernames (read only) */
  users?: string[];
  /** admins holding this group (read only) */
  admins?: string[];
}

export interface Role {
  id?: number;
  name: string;
  description?: string;
  created_at?: number;
  updated_at?: number;
  /** read only */
  users?: string[];
  admins?: string[];
}

/** SFTPGo's dump (backup) format, version 17. */
export interface DumpData {
  users?: User[];
  groups?: Group[];
  folders?: Folder[];
  admins?: Admin[];
  api_keys?: ApiKey[];
  shares?: unknown[];
  event_actions?: unknown[];
  event_rules?: unknown[];
  roles?: Role[];
  ip_lists?: unknown[];
  configs?: Record<string, unknown>;
  version: number;
}

export const DUMP_VERSION = 17;

/**
 * Second-factor secrets leave the server as their status only: SFTPGo drops the key and
 * additional data (Secret.Hide); we drop the encrypted payload too, so no API answer
 * carries anything derived from a TOTP secret or a recovery code.
 */
function redactSecondFactor<F extends { totp_config?: TotpConfig; recovery_codes?: RecoveryCode[] }>(filters: F | undefined): F {
  // SFTPGo always writes "totp_config" (an empty object when 2FA is off): clients may read it unguarded
  const out = { ...(filters ?? {}) } as F;
  const { secret, ...cfg } = filters?.totp_config ?? {};
  out.totp_config = secret ? { ...cfg, secret: { status: secret.status } } : cfg;
  if (filters?.recovery_codes) {
    out.recovery_codes = filters.recovery_codes.map((c) => ({ secret: { status: c.secret.status }, used: c.used ?? false }));
  }
  return out;
}

/** Strips the hash and other secrets: the only shape that leaves the server. */
export function toPublicUser(u: User): User {
  const { password, ...rest } = u;
  const out: User = { ...rest, filters: redactSecondFactor(u.filters), has_password: !!password };
  // storage secrets leave hidden (SFTPGo HideConfidentialData)
  if (u.filesystem) out.filesystem = hideFilesystemSecrets(u.filesystem);
  if (u.virtual_folders) out.virtual_folders = u.virtual_folders.map(toPublicFolder);
  return out;
}

/** A folder (or a user's virtual folder) with its storage secrets hidden. */
export function toPublicFolder<F extends Folder>(f: F): F {
  return f.filesystem ? { ...f, filesystem: hideFilesystemSecrets(f.filesystem) } : f;
}

export function toPublicAdmin(a: Admin): Admin {
  const { password: _p, ...rest } = a;
  return { ...rest, filters: redactSecondFactor(a.filters) };
}
