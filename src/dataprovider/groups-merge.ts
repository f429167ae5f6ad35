/**
 * What a member of groups gets at login: SFTPGo's applyGroupSettings. The
 * primary group (type 1) fills what the user leaves unset (0 / empty) and
 * replaces home dir and filesystem when it sets them; the primary group and
 * then every secondary group (type 2) add permissions, file patterns and
 * virtual folders for paths the user does not define ("/" only from the
 * primary), and append list filters (IPs, denied methods/protocols, ...).
 * Membership groups (type 3) carry no settings. %username% and %role% in
 * paths are replaced with the member's values. The stored user is never
 * changed: this builds the copy every protocol logs in with.
 */
import * as path from 'node:path';
import {
  type FilesystemConfig, type Group, GROUP_TYPE, type User, type UserFilters, type VirtualFolder,
} from './models';

type Replace = (value: string) => string;

function replacerFor(user: User): Replace {
  return (value) => value.replaceAll('%username%', user.username).replaceAll('%role%', user.role ?? '');
}

/** True when the user takes settings from a group (membership-only groups carry none). */
export function hasSettingsFromGroups(user: User): boolean {
  return (user.groups ?? []).some((g) => g.type !== GROUP_TYPE.membership);
}

/** Placeholders in the remote-backend fields SFTPGo renders (key prefixes, remote usernames). */
function renderFilesystem(fs: FilesystemConfig, replace: Replace): FilesystemConfig {
  const out = structuredClone(fs);
  const render = (cfg: Record<string, unknown> | undefined, keys: string[]): void => {
    if (!cfg) return;
    for (const k of keys) if (typeof cfg[k] === 'string' && cfg[k] !== '') cfg[k] = replace(cfg[k] as string);
  };
  if (out.provider === 1) render(out.s3config, ['key_prefix']);
  if (out.provider === 2) render(out.gcsconfig, ['key_prefix']);
  if (out.provider === 3) render(out.azblobconfig, ['key_prefix']);
  if (out.provider === 5) render(out.sftpconfig, ['username', 'prefix']);
  if (out.provider === 6) render(out.httpconfig, ['username']);
  return out;
}

function mergePrimaryFilters(f: UserFilters, g: UserFilters, replace: Replace): void {
  f.max_upload_file_size ||= g.max_upload_file_size;
  // SFTPGo keeps the user's tls_username only when it enables TLS verification
  if (!f.tls_username || f.tls_username === 'None') f.tls_username = g.tls_username;
  const hooks = { ...(f.hooks ?? {}) };
  hooks.check_password_disabled ||= g.hooks?.check_password_disabled;
  hooks.pre_login_disabled ||= g.hooks?.pre_login_disabled;
  hooks.external_auth_disabled ||= g.hooks?.external_auth_disabled;
  f.hooks = hooks;
  f.disable_fs_checks ||= g.disable_fs_checks;
  f.allow_api_key_auth ||= g.allow_api_key_auth;
  f.is_anonymous ||= g.is_anonymous;
  f.external_auth_cache_time ||= g.external_auth_cache_time;
  f.ftp_security ||= g.ftp_security;
  if (!f.start_directory && g.start_directory) f.start_directory = replace(g.start_directory);
  f.default_shares_expiration ||= g.default_shares_expiration;
  f.max_shares_expiration ||= g.max_shares_expiration;
  f.password_expiration ||= g.password_expiration;
  f.password_strength ||= g.password_strength;
}

function mergeAdditive(u: User, group: Group, primary: boolean, replace: Replace): void {
  const folders = u.virtual_folders ?? [];
  const mounted = new Set(folders.map((vf) => vf.virtual_path));
  for (const vf of group.virtual_folders ?? []) {
    if (vf.virtual_path === '/' && !primary) continue;
    const virtualPath = replace(vf.virtual_path);
    if (mounted.has(virtualPath)) continue;
    mounted.add(virtualPath);
    const rendered: VirtualFolder = { ...structuredClone(vf), virtual_path: virtualPath, mapped_path: replace(vf.mapped_path) };
    if (vf.filesystem) rendered.filesystem = renderFilesystem(vf.filesystem, replace);
    folders.push(rendered);
  }
  u.virtual_folders = folders;

  const settings = group.user_settings;
  for (const [dir, perms] of Object.entries(settings.permissions ?? {})) {
    if (dir === '/') {
      if (primary) u.permissions['/'] = [...perms];
      continue;
    }
    const key = replace(dir);
    if (!(key in u.permissions)) u.permissions[key] = [...perms];
  }

  const f: UserFilters = u.filters ?? {};
  const g: UserFilters = settings.filters ?? {};
  if (g.file_patterns && g.file_patterns.length > 0) {
    const patterns = f.file_patterns ?? [];
    const seen = new Set(patterns.map((p) => p.path));
    for (const p of g.file_patterns) {
      if (p.path === '/' && !primary) continue;
      const at = replace(p.path);
      if (seen.has(at)) continue;
      seen.add(at);
      patterns.push({ ...structuredClone(p), path: at });
    }
    f.file_patterns = patterns;
  }
  const append = <K extends 'bandwidth_limits' | 'allowed_ip' | 'denied_ip' | 'denied_login_methods' | 'denied_protocols'
    | 'web_client' | 'two_factor_protocols' | 'access_time'>(key: K): void => {
    const extra = g[key];
    if (!extra || extra.length === 0) return;
    f[key] = [...(f[key] ?? []), ...structuredClone(extra)] as UserFilters[K];
  };
  append('bandwidth_limits');
  append('allowed_ip');
  append('denied_ip');
  append('denied_login_methods');
  append('denied_protocols');
  append('web_client');
  append('two_factor_protocols');
  append('access_time');
  u.filters = f;
}

function mergePrimary(u: User, group: Group, replace: Replace): void {
  const s = group.user_settings;
  if (s.home_dir) u.home_dir = path.normalize(replace(s.home_dir));
  if (s.filesystem && s.filesystem.provider !== 0) {
    u.filesystem = renderFilesystem(s.filesystem, replace);
  } else if (s.filesystem?.osconfig) {
    const os = { ...(u.filesystem?.osconfig ?? {}) };
    os.read_buffer_size ||= s.filesystem.osconfig.read_buffer_size;
    os.write_buffer_size ||= s.filesystem.osconfig.write_buffer_size;
    u.filesystem = { ...(u.filesystem ?? { provider: 0 }), osconfig: os };
  }
  u.max_sessions ||= s.max_sessions;
  u.quota_size ||= s.quota_size;
  u.quota_files ||= s.quota_files;
  u.upload_bandwidth ||= s.upload_bandwidth;
  u.download_bandwidth ||= s.download_bandwidth;
  if (!u.upload_data_transfer && !u.download_data_transfer && !u.total_data_transfer) {
    u.upload_data_transfer = s.upload_data_transfer ?? 0;
    u.download_data_transfer = s.download_data_transfer ?? 0;
    u.total_data_transfer = s.total_data_transfer ?? 0;
  }
  if (!u.expiration_date && s.expires_in) u.expiration_date = (u.created_at ?? 0) + s.expires_in * 86_400_000;
  const filters = u.filters ?? {};
  mergePrimaryFilters(filters, s.filters ?? {}, replace);
  u.filters = filters;
  mergeAdditive(u, group, true, replace);
}

const dedupe = <T>(list: T[] | undefined): T[] | undefined => (list ? [...new Set(list)] : list);

/**
 * SFTPGo's alignVirtualFolderQuotas: the same folder mounted twice (user and
 * group, two groups) counts against one limit, the first mount's.
 */
function alignFolderQuotas(folders: VirtualFolder[]): void {
  const first = new Map<string, VirtualFolder>();
  for (const vf of folders) {
    const seen = first.get(vf.name);
    if (!seen) {
      first.set(vf.name, vf);
      continue;
    }
    vf.quota_size = seen.quota_size;
    vf.quota_files = seen.quota_files;
  }
}

/**
 * The user with its groups' settings applied. `groups` maps names to the
 * stored groups; a missing one is skipped (it cannot be deleted while in use).
 */
export function applyGroupSettings(user: User, groups: ReadonlyMap<string, Group>): User {
  if (!hasSettingsFromGroups(user)) return user;
  const u: User = structuredClone(user);
  u.permissions ??= {};
  const replace = replacerFor(u);
  const refs = u.groups ?? [];
  const primary = refs.find((g) => g.type === GROUP_TYPE.primary);
  const primaryGroup = primary ? groups.get(primary.name) : undefined;
  if (primaryGroup) mergePrimary(u, primaryGroup, replace);
  for (const ref of refs) {
    if (ref.type !== GROUP_TYPE.secondary) continue;
    const group = groups.get(ref.name);
    if (group) mergeAdditive(u, group, false, replace);
  }
  alignFolderQuotas(u.virtual_folders ?? []);
  const f = u.filters ?? {};
  f.allowed_ip = dedupe(f.allowed_ip);
  f.denied_ip = dedupe(f.denied_ip);
  f.denied_login_methods = dedupe(f.denied_login_methods);
  f.denied_protocols = dedupe(f.denied_protocols);
  f.web_client = dedupe(f.web_client);
  f.two_factor_protocols = dedupe(f.two_factor_protocols);
  for (const k of Object.keys(f) as (keyof UserFilters)[]) if (f[k] === undefined) delete f[k];
  u.filters = f;
  return u;
}
