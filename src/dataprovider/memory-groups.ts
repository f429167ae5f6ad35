/**
 * Groups and roles of the memory backend, on the same State as memory.ts.
 * Groups keep their folders as mappings (like users), so a folder update or
 * deletion shows in every group that mounts it; members are computed.
 */
import { FsError } from '../common/errors';
import { canonicalGroup, canonicalRole } from './canonical';
import type { Admin, Folder, Group, Role, User, VirtualFolder } from './models';

/** A folder mounted by a user or a group: the folder by name, so folder updates show through every mount. */
export interface FolderMapping { folder: string; virtual_path: string; quota_size: number; quota_files: number; subpath?: string }

export interface GroupState {
  users: Map<string, { user: User }>;
  admins: Map<string, Admin>;
  folders: Map<string, Folder>;
  groups: Map<string, { group: Group; mappings: FolderMapping[] }>;
  roles: Map<string, Role>;
  ids: { group: number; role: number };
}

const notFound = (what: string): FsError => new FsError('NotFound', `${what} does not exist`);

export function folderMappings(s: Pick<GroupState, 'folders'>, folders: readonly VirtualFolder[] | undefined): FolderMapping[] {
  return (folders ?? []).map((vf) => {
    if (!s.folders.has(vf.name)) throw notFound(`folder "${vf.name}"`);
    const m: FolderMapping = { folder: vf.name, virtual_path: vf.virtual_path, quota_size: vf.quota_size ?? 0, quota_files: vf.quota_files ?? 0 };
    if (vf.subpath) m.subpath = vf.subpath;
    return m;
  });
}

/** The mounts as the API shows them: each folder's current state plus the mapping's path, quota and subpath. */
export function mountedFolders(s: Pick<GroupState, 'folders'>, mappings: readonly FolderMapping[]): VirtualFolder[] {
  return mappings.map((m) => {
    const f = s.folders.get(m.folder);
    if (!f) throw new FsError('Generic', `folder "${m.folder}" missing`);
    const vf: VirtualFolder = { ...f, virtual_path: m.virtual_path, quota_size: m.quota_size, quota_files: m.quota_files };
    if (m.subpath) vf.subpath = m.subpath;
    return vf;
  });
}

/** A user's group and role references must exist (SQL stores them as foreign keys). */
export function checkUserRefs(s: GroupState, u: User): void {
  for (const g of u.groups ?? []) if (!s.groups.has(g.name)) throw notFound(`group "${g.name}"`);
  if (u.role && !s.roles.has(u.role)) throw notFound(`role "${u.role}"`);
}

export function checkAdminRefs(s: GroupState, a: Admin): void {
  for (const g of a.groups ?? []) if (!s.groups.has(g.name)) throw notFound(`group "${g.name}"`);
  if (a.role && !s.roles.has(a.role)) throw notFound(`role "${a.role}"`);
}

export function groupOut(s: GroupState, e: { group: Group; mappings: FolderMapping[] }): Group {
  const users: string[] = [];
  for (const [name, u] of s.users) if ((u.user.groups ?? []).some((g) => g.name === e.group.name)) users.push(name);
  const virtual_folders = mountedFolders(s, e.mappings);
  const admins = [...s.admins.entries()].filter(([, a]) => (a.groups ?? []).some((g) => g.name === e.group.name)).map(([n]) => n).sort();
  return canonicalGroup({ ...e.group, virtual_folders, users: users.sort(), admins });
}

export function roleOut(s: GroupState, r: Role): Role {
  const users = [...s.users.entries()].filter(([, e]) => e.user.role === r.name).map(([n]) => n).sort();
  const admins = [...s.admins.entries()].filter(([, a]) => a.role === r.name).map(([n]) => n).sort();
  return canonicalRole({ ...r, users, admins });
}

export function addGroup(s: GroupState, g: Group): Group {
  if (s.groups.has(g.name)) throw new FsError('AlreadyExists', `group "${g.name}" already exists`);
  const mappings = folderMappings(s, g.virtual_folders);
  const now = Date.now();
  const entry = { group: { ...structuredClone(g), id: ++s.ids.group, created_at: g.created_at || now, updated_at: g.updated_at || now }, mappings };
  s.groups.set(g.name, entry);
  return groupOut(s, entry);
}

export function updateGroup(s: GroupState, g: Group): Group {
  const old = s.groups.get(g.name);
  if (!old) throw notFound(`group "${g.name}"`);
  const mappings = folderMappings(s, g.virtual_folders);
  const entry = {
    group: { ...structuredClone(g), id: old.group.id, created_at: old.group.created_at, updated_at: g.updated_at || Date.now() },
    mappings,
  };
  s.groups.set(g.name, entry);
  return groupOut(s, entry);
}

export function deleteGroup(s: GroupState, name: string): void {
  if (!s.groups.delete(name)) throw notFound(`group "${name}"`);
  // as SFTPGo: admins' references go with the group (only members block a deletion)
  for (const a of s.admins.values()) if (a.groups) a.groups = a.groups.filter((g) => g.name !== name);
}

export function addRole(s: GroupState, r: Role): Role {
  if (s.roles.has(r.name)) throw new FsError('AlreadyExists', `role "${r.name}" already exists`);
  const now = Date.now();
  const stored: Role = { name: r.name, description: r.description, id: ++s.ids.role, created_at: r.created_at || now, updated_at: r.updated_at || now };
  s.roles.set(r.name, stored);
  return roleOut(s, stored);
}

export function updateRole(s: GroupState, r: Role): Role {
  const old = s.roles.get(r.name);
  if (!old) throw notFound(`role "${r.name}"`);
  const stored: Role = { ...old, description: r.description, updated_at: r.updated_at || Date.now() };
  s.roles.set(r.name, stored);
  return roleOut(s, stored);
}

export function deleteRole(s: GroupState, name: string): void {
  if (!s.roles.delete(name)) throw notFound(`role "${name}"`);
  for (const e of s.users.values()) if (e.user.role === name) delete e.user.role;
  for (const a of s.admins.values()) if (a.role === name) delete a.role;
}

/** A deleted folder leaves every group that mounted it. */
export function dropFolder(s: GroupState, name: string): void {
  for (const e of s.groups.values()) e.mappings = e.mappings.filter((m) => m.folder !== name);
}
