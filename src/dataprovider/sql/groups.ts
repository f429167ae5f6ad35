/**
 * Group and role persistence, and the user/admin references to them (rows of
 * users_groups_mapping, users_roles_mapping, admins_roles_mapping). A group's
 * virtual folders are groups_folders_mapping rows joined with folders.
 */
import { FsError } from '../../common/errors';
import { canonicalGroup, canonicalRole } from '../canonical';
import type { AdminGroupRef, Group, GroupUserSettings, Role, UserGroupRef, VirtualFolder } from '../models';
import type { ListOptions } from '../provider';
import type { Row } from './dialect';
import { json, num, orNull, type SqlContext, str, toJson } from './context';
import { MOUNT_COLUMNS, mountFromRow } from './mounts';

const inList = (ids: readonly unknown[]): string => ids.map(() => '?').join(', ');

async function idOf(ctx: SqlContext, table: string, name: string, what: string): Promise<number> {
  const r = await ctx.get(`SELECT id FROM ${ctx.t(table)} WHERE name = ?`, [name]);
  if (!r) throw new FsError('NotFound', `${what} "${name}" does not exist`);
  return num(r.id);
}

// --- references held by users and admins ---

export interface UserRefs { groups: UserGroupRef[]; role?: string }

export async function loadUserRefs(ctx: SqlContext, userIds: number[]): Promise<Map<number, UserRefs>> {
  const out = new Map<number, UserRefs>();
  if (userIds.length === 0) return out;
  const get = (id: number): UserRefs => out.get(id) ?? (out.set(id, { groups: [] }), out.get(id)!);
  const groupRows = await ctx.all(
    `SELECT m.user_id, m.group_type, g.name FROM ${ctx.t('users_groups_mapping')} m
     INNER JOIN ${ctx.t('groups')} g ON m.group_id = g.id WHERE m.user_id IN (${inList(userIds)}) ORDER BY g.name ASC`, userIds);
  for (const r of groupRows) get(num(r.user_id)).groups.push({ name: str(r.name), type: num(r.group_type) });
  const roleRows = await ctx.all(
    `SELECT m.user_id, r.name FROM ${ctx.t('users_roles_mapping')} m INNER JOIN ${ctx.t('roles')} r ON m.role_id = r.id
     WHERE m.user_id IN (${inList(userIds)})`, userIds);
  for (const r of roleRows) get(num(r.user_id)).role = str(r.name);
  return out;
}

/** Replaces a user's group and role rows; unknown names are NotFound. */
export async function writeUserRefs(ctx: SqlContext, userId: number, refs: { groups?: UserGroupRef[]; role?: string }): Promise<void> {
  await deleteUserRefs(ctx, userId);
  for (const g of refs.groups ?? []) {
    const groupId = await idOf(ctx, 'groups', g.name, 'group');
    await ctx.run(`INSERT INTO ${ctx.t('users_groups_mapping')} (user_id, group_id, group_type) VALUES (?, ?, ?)`,
      [userId, groupId, g.type]);
  }
  if (refs.role) {
    const roleId = await idOf(ctx, 'roles', refs.role, 'role');
    await ctx.run(`INSERT INTO ${ctx.t('users_roles_mapping')} (user_id, role_id) VALUES (?, ?)`, [userId, roleId]);
  }
}

/** Explicit deletes: foreign-key cascades are not enabled on every engine/connection. */
export async function deleteUserRefs(ctx: SqlContext, userId: number): Promise<void> {
  await ctx.run(`DELETE FROM ${ctx.t('users_groups_mapping')} WHERE user_id = ?`, [userId]);
  await ctx.run(`DELETE FROM ${ctx.t('users_roles_mapping')} WHERE user_id = ?`, [userId]);
}

export interface AdminRefs { role?: string; groups: AdminGroupRef[] }

export async function loadAdminRefs(ctx: SqlContext, adminIds: number[]): Promise<Map<number, AdminRefs>> {
  const out = new Map<number, AdminRefs>();
  if (adminIds.length === 0) return out;
  const get = (id: number): AdminRefs => out.get(id) ?? (out.set(id, { groups: [] }), out.get(id)!);
  const roleRows = await ctx.all(
    `SELECT m.admin_id, r.name FROM ${ctx.t('admins_roles_mapping')} m INNER JOIN ${ctx.t('roles')} r ON m.role_id = r.id
     WHERE m.admin_id IN (${inList(adminIds)})`, adminIds);
  for (const r of roleRows) get(num(r.admin_id)).role = str(r.name);
  const groupRows = await ctx.all(
    `SELECT m.admin_id, m.options, g.name FROM ${ctx.t('admins_groups_mapping')} m INNER JOIN ${ctx.t('groups')} g
     ON m.group_id = g.id WHERE m.admin_id IN (${inList(adminIds)}) ORDER BY g.name ASC`, adminIds);
  for (const r of groupRows) {
    get(num(r.admin_id)).groups.push({ name: str(r.name), options: json<AdminGroupRef['options']>(r.options, {}) });
  }
  return out;
}

export async function writeAdminRefs(ctx: SqlContext, adminId: number, refs: { role?: string; groups?: AdminGroupRef[] }): Promise<void> {
  await deleteAdminRefs(ctx, adminId);
  if (refs.role) {
    const roleId = await idOf(ctx, 'roles', refs.role, 'role');
    await ctx.run(`INSERT INTO ${ctx.t('admins_roles_mapping')} (admin_id, role_id) VALUES (?, ?)`, [adminId, roleId]);
  }
  for (const g of refs.groups ?? []) {
    const groupId = await idOf(ctx, 'groups', g.name, 'group');
    await ctx.run(`INSERT INTO ${ctx.t('admins_groups_mapping')} (admin_id, group_id, options) VALUES (?, ?, ?)`,
      [adminId, groupId, toJson(g.options ?? {})]);
  }
}

export async function deleteAdminRefs(ctx: SqlContext, adminId: number): Promise<void> {
  await ctx.run(`DELETE FROM ${ctx.t('admins_roles_mapping')} WHERE admin_id = ?`, [adminId]);
  await ctx.run(`DELETE FROM ${ctx.t('admins_groups_mapping')} WHERE admin_id = ?`, [adminId]);
}

// --- groups ---

async function withDetails(ctx: SqlContext, rows: Row[]): Promise<Group[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => num(r.id));
  const folderRows = await ctx.all(
    `SELECT m.group_id, ${MOUNT_COLUMNS}
     FROM ${ctx.t('groups_folders_mapping')} m INNER JOIN ${ctx.t('folders')} f ON m.folder_id = f.id
     WHERE m.group_id IN (${inList(ids)})`, ids);
  const folders = new Map<number, VirtualFolder[]>();
  for (const r of folderRows) {
    const list = folders.get(num(r.group_id)) ?? [];
    list.push(mountFromRow(r));
    folders.set(num(r.group_id), list);
  }
  const userRows = await ctx.all(
    `SELECT m.group_id, u.username FROM ${ctx.t('users_groups_mapping')} m INNER JOIN ${ctx.t('users')} u ON m.user_id = u.id
     WHERE m.group_id IN (${inList(ids)}) ORDER BY u.username ASC`, ids);
  const users = new Map<number, string[]>();
  for (const r of userRows) users.set(num(r.group_id), [...(users.get(num(r.group_id)) ?? []), str(r.username)]);
  const adminRows = await ctx.all(
    `SELECT m.group_id, a.username FROM ${ctx.t('admins_groups_mapping')} m INNER JOIN ${ctx.t('admins')} a ON m.admin_id = a.id
     WHERE m.group_id IN (${inList(ids)}) ORDER BY a.username ASC`, ids);
  const admins = new Map<number, string[]>();
  for (const r of adminRows) admins.set(num(r.group_id), [...(admins.get(num(r.group_id)) ?? []), str(r.username)]);
  return rows.map((r) => canonicalGroup({
    id: num(r.id), name: str(r.name), description: str(r.description), created_at: num(r.created_at),
    updated_at: num(r.updated_at), user_settings: json<GroupUserSettings>(r.user_settings, {}),
    virtual_folders: folders.get(num(r.id)) ?? [], users: users.get(num(r.id)) ?? [], admins: admins.get(num(r.id)) ?? [],
  }));
}

export async function getGroup(ctx: SqlContext, name: string): Promise<Group | undefined> {
  return (await withDetails(ctx, await ctx.all(`SELECT * FROM ${ctx.t('groups')} WHERE name = ?`, [name])))[0];
}

export async function getGroupsByName(ctx: SqlContext, names: readonly string[]): Promise<Group[]> {
  if (names.length === 0) return [];
  return withDetails(ctx, await ctx.all(`SELECT * FROM ${ctx.t('groups')} WHERE name IN (${inList(names)})`, [...names]));
}

export async function listGroups(ctx: SqlContext, opts?: ListOptions): Promise<Group[]> {
  return withDetails(ctx, await ctx.all(`SELECT * FROM ${ctx.t('groups')}${ctx.order(opts, 'name')}`));
}

async function writeGroupFolders(ctx: SqlContext, groupId: number, folders: readonly VirtualFolder[]): Promise<void> {
  await ctx.run(`DELETE FROM ${ctx.t('groups_folders_mapping')} WHERE group_id = ?`, [groupId]);
  for (const vf of folders) {
    const folderId = await idOf(ctx, 'folders', vf.name, 'folder');
    await ctx.write(`mapping for folder "${vf.name}"`,
      `INSERT INTO ${ctx.t('groups_folders_mapping')} (virtual_path, quota_size, quota_files, subpath, folder_id, group_id)
       VALUES (?, ?, ?, ?, ?, ?)`, [vf.virtual_path, vf.quota_size ?? 0, vf.quota_files ?? 0, vf.subpath ?? '', folderId, groupId]);
  }
}

export async function addGroup(ctx: SqlContext, g: Group): Promise<Group> {
  const now = Date.now();
  const id = await ctx.insert(`group "${g.name}"`,
    `INSERT INTO ${ctx.t('groups')} (name, description, created_at, updated_at, user_settings) VALUES (?, ?, ?, ?, ?)`,
    [g.name, orNull(g.description), g.created_at || now, g.updated_at || now, toJson(g.user_settings ?? {})]);
  await writeGroupFolders(ctx, id, g.virtual_folders ?? []);
  const stored = await getGroup(ctx, g.name);
  if (!stored) throw new FsError('Generic', `group "${g.name}" vanished after insert`);
  return stored;
}

export async function updateGroup(ctx: SqlContext, g: Group): Promise<Group> {
  const id = await idOf(ctx, 'groups', g.name, 'group');
  await ctx.run(`UPDATE ${ctx.t('groups')} SET description = ?, user_settings = ?, updated_at = ? WHERE id = ?`,
    [orNull(g.description), toJson(g.user_settings ?? {}), g.updated_at || Date.now(), id]);
  await writeGroupFolders(ctx, id, g.virtual_folders ?? []);
  const stored = await getGroup(ctx, g.name);
  if (!stored) throw new FsError('NotFound', `group "${g.name}" does not exist`);
  return stored;
}

export async function deleteGroup(ctx: SqlContext, name: string): Promise<void> {
  const id = await idOf(ctx, 'groups', name, 'group');
  await ctx.run(`DELETE FROM ${ctx.t('groups_folders_mapping')} WHERE group_id = ?`, [id]);
  await ctx.run(`DELETE FROM ${ctx.t('users_groups_mapping')} WHERE group_id = ?`, [id]);
  await ctx.run(`DELETE FROM ${ctx.t('admins_groups_mapping')} WHERE group_id = ?`, [id]);
  await ctx.run(`DELETE FROM ${ctx.t('groups')} WHERE id = ?`, [id]);
}

/** A deleted folder leaves every group that mounted it. */
export async function deleteFolderRefs(ctx: SqlContext, folderId: number): Promise<void> {
  await ctx.run(`DELETE FROM ${ctx.t('groups_folders_mapping')} WHERE folder_id = ?`, [folderId]);
}

// --- roles ---

async function withMembers(ctx: SqlContext, rows: Row[]): Promise<Role[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => num(r.id));
  const members = async (table: string, key: string, owner: string, col: string): Promise<Map<number, string[]>> => {
    const out = new Map<number, string[]>();
    const found = await ctx.all(`SELECT m.role_id, o.${col} AS member FROM ${ctx.t(table)} m INNER JOIN ${ctx.t(owner)} o
      ON m.${key} = o.id WHERE m.role_id IN (${inList(ids)}) ORDER BY o.${col} ASC`, ids);
    for (const r of found) out.set(num(r.role_id), [...(out.get(num(r.role_id)) ?? []), str(r.member)]);
    return out;
  };
  const users = await members('users_roles_mapping', 'user_id', 'users', 'username');
  const admins = await members('admins_roles_mapping', 'admin_id', 'admins', 'username');
  return rows.map((r) => canonicalRole({
    id: num(r.id), name: str(r.name), description: str(r.description), created_at: num(r.created_at),
    updated_at: num(r.updated_at), users: users.get(num(r.id)) ?? [], admins: admins.get(num(r.id)) ?? [],
  }));
}

export async function getRole(ctx: SqlContext, name: string): Promise<Role | undefined> {
  return (await withMembers(ctx, await ctx.all(`SELECT * FROM ${ctx.t('roles')} WHERE name = ?`, [name])))[0];
}

export async function listRoles(ctx: SqlContext, opts?: ListOptions): Promise<Role[]> {
  return withMembers(ctx, await ctx.all(`SELECT * FROM ${ctx.t('roles')}${ctx.order(opts, 'name')}`));
}

export async function addRole(ctx: SqlContext, r: Role): Promise<Role> {
  const now = Date.now();
  await ctx.write(`role "${r.name}"`,
    `INSERT INTO ${ctx.t('roles')} (name, description, created_at, updated_at) VALUES (?, ?, ?, ?)`,
    [r.name, orNull(r.description), r.created_at || now, r.updated_at || now]);
  const stored = await getRole(ctx, r.name);
  if (!stored) throw new FsError('Generic', `role "${r.name}" vanished after insert`);
  return stored;
}

export async function updateRole(ctx: SqlContext, r: Role): Promise<Role> {
  const id = await idOf(ctx, 'roles', r.name, 'role');
  await ctx.run(`UPDATE ${ctx.t('roles')} SET description = ?, updated_at = ? WHERE id = ?`,
    [orNull(r.description), r.updated_at || Date.now(), id]);
  const stored = await getRole(ctx, r.name);
  if (!stored) throw new FsError('NotFound', `role "${r.name}" does not exist`);
  return stored;
}

export async function deleteRole(ctx: SqlContext, name: string): Promise<void> {
  const id = await idOf(ctx, 'roles', name, 'role');
  await ctx.run(`DELETE FROM ${ctx.t('users_roles_mapping')} WHERE role_id = ?`, [id]);
  await ctx.run(`DELETE FROM ${ctx.t('admins_roles_mapping')} WHERE role_id = ?`, [id]);
  await ctx.run(`DELETE FROM ${ctx.t('roles')} WHERE id = ?`, [id]);
}
