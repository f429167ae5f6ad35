/**
 * The one stored shape of each object. Both backends pass what they return
 * through these functions, so SQLite and memory (and a dump of either) give
 * byte-identical JSON for the same data. Fields follow SFTPGo: numbers always
 * present, empty optional strings and lists left out.
 */
import type {
  Admin, ApiKey, FilesystemConfig, Folder, Group, GroupUserSettings, Permission, Role, User, UserFilters, VirtualFolder,
} from './models';

const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const optStr = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Drops keys whose value is undefined so JSON and deepEqual agree. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export function canonicalFilesystem(fs: FilesystemConfig | undefined): FilesystemConfig {
  if (!fs) return { provider: 0 };
  return clone({ ...fs, provider: n(fs.provider) });
}

export function canonicalFolder(f: Folder): Folder {
  return compact({
    id: f.id,
    name: f.name,
    mapped_path: f.mapped_path ?? '',
    description: optStr(f.description),
    used_quota_size: n(f.used_quota_size),
    used_quota_files: n(f.used_quota_files),
    last_quota_update: n(f.last_quota_update),
    users: f.users && f.users.length > 0 ? [...f.users].sort() : undefined,
    filesystem: canonicalFilesystem(f.filesystem),
  });
}

export function canonicalVirtualFolder(vf: VirtualFolder): VirtualFolder {
  const { users: _users, ...folder } = canonicalFolder(vf);
  return compact({
    ...folder,
    virtual_path: vf.virtual_path,
    quota_size: typeof vf.quota_size === 'number' ? vf.quota_size : 0,
    quota_files: typeof vf.quota_files === 'number' ? vf.quota_files : 0,
    subpath: optStr(vf.subpath),
  });
}

export function canonicalUser(u: User): User {
  const permissions: Record<string, Permission[]> = {};
  for (const k of Object.keys(u.permissions ?? {}).sort()) permissions[k] = [...(u.permissions[k] ?? [])];
  const folders = (u.virtual_folders ?? []).map(canonicalVirtualFolder)
    .sort((a, b) => (a.virtual_path < b.virtual_path ? -1 : a.virtual_path > b.virtual_path ? 1 : 0));
  return compact({
    id: u.id,
    status: n(u.status),
    username: u.username,
    email: optStr(u.email),
    description: optStr(u.description),
    expiration_date: n(u.expiration_date),
    password: optStr(u.password),
    public_keys: u.public_keys && u.public_keys.length > 0 ? [...u.public_keys] : undefined,
    home_dir: u.home_dir,
    virtual_folders: folders.length > 0 ? folders : undefined,
    uid: n(u.uid),
    gid: n(u.gid),
    max_sessions: n(u.max_sessions),
    quota_size: n(u.quota_size),
    quota_files: n(u.quota_files),
    permissions,
    used_quota_size: n(u.used_quota_size),
    used_quota_files: n(u.used_quota_files),
    last_quota_update: n(u.last_quota_update),
    upload_bandwidth: n(u.upload_bandwidth),
    download_bandwidth: n(u.download_bandwidth),
    upload_data_transfer: n(u.upload_data_transfer),
    download_data_transfer: n(u.download_data_transfer),
    total_data_transfer: n(u.total_data_transfer),
    used_upload_data_transfer: n(u.used_upload_data_transfer),
    used_download_data_transfer: n(u.used_download_data_transfer),
    created_at: n(u.created_at),
    updated_at: n(u.updated_at),
    last_login: n(u.last_login),
    first_download: n(u.first_download),
    first_upload: n(u.first_upload),
    last_password_change: n(u.last_password_change),
    filters: clone(u.filters ?? {}) as UserFilters,
    filesystem: canonicalFilesystem(u.filesystem),
    additional_info: optStr(u.additional_info),
    groups: u.groups && u.groups.length > 0 ? u.groups.map((g) => ({ name: g.name, type: g.type })) : undefined,
    role: optStr(u.role),
  });
}

export function canonicalAdmin(a: Admin): Admin {
  return compact({
    id: a.id,
    status: n(a.status),
    username: a.username,
    description: optStr(a.description),
    password: optStr(a.password),
    email: optStr(a.email),
    permissions: [...(a.permissions ?? [])],
    filters: clone(a.filters ?? {}),
    additional_info: optStr(a.additional_info),
    created_at: n(a.created_at),
    updated_at: n(a.updated_at),
    last_login: n(a.last_login),
    role: optStr(a.role),
    groups: a.groups && a.groups.length > 0
      ? a.groups.map((g) => ({ name: g.name, options: g.options.add_to_users_as ? { add_to_users_as: g.options.add_to_users_as } : {} }))
      : undefined,
  });
}

export function canonicalGroup(g: Group): Group {
  const folders = (g.virtual_folders ?? []).map(canonicalVirtualFolder)
    .sort((a, b) => (a.virtual_path < b.virtual_path ? -1 : a.virtual_path > b.virtual_path ? 1 : 0));
  return compact({
    id: g.id,
    name: g.name,
    description: optStr(g.description),
    created_at: n(g.created_at),
    updated_at: n(g.updated_at),
    user_settings: clone(g.user_settings ?? {}) as GroupUserSettings,
    virtual_folders: folders.length > 0 ? folders : undefined,
    users: g.users && g.users.length > 0 ? [...g.users] : undefined,
    admins: g.admins && g.admins.length > 0 ? [...g.admins] : undefined,
  });
}

export function canonicalRole(r: Role): Role {
  return compact({
    id: r.id,
    name: r.name,
    description: optStr(r.description),
    created_at: n(r.created_at),
    updated_at: n(r.updated_at),
    users: r.users && r.users.length > 0 ? [...r.users] : undefined,
    admins: r.admins && r.admins.length > 0 ? [...r.admins] : undefined,
  });
}

export function canonicalApiKey(k: ApiKey): ApiKey {
  return compact({
    id: k.id,
    key_id: k.key_id,
    name: k.name,
    key: optStr(k.key),
    scope: n(k.scope),
    created_at: n(k.created_at),
    updated_at: n(k.updated_at),
    last_use_at: n(k.last_use_at),
    expires_at: n(k.expires_at),
    description: optStr(k.description),
    user: optStr(k.user),
    admin: optStr(k.admin),
  });
}
