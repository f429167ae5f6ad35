/**
 * User persistence, written once for every SQL dialect. A user's
 * virtual_folders are rows of users_folders_mapping joined with folders.
 */
import { FsError } from '../../common/errors';
import { canonicalUser } from '../canonical';
import type { FilesystemConfig, Permission, User, UserFilters, VirtualFolder } from '../models';
import type { ListOptions } from '../provider';
import type { Row, SqlParam } from './dialect';
import { json, num, orNull, type SqlContext, str, toJson } from './context';
import { MOUNT_COLUMNS, mountFromRow } from './mounts';
import { deleteUserRefs, loadUserRefs, writeUserRefs } from './groups';

const USER_COLS = [
  'username', 'status', 'expiration_date', 'description', 'password', 'public_keys', 'home_dir', 'uid', 'gid',
  'max_sessions', 'quota_size', 'quota_files', 'permissions', 'upload_bandwidth', 'download_bandwidth',
  'upload_data_transfer', 'download_data_transfer', 'total_data_transfer', 'updated_at', 'first_download',
  'first_upload', 'last_password_change', 'filters', 'filesystem', 'additional_info', 'email',
] as const;
/** Only written on insert: an update keeps them (see UserStore.updateUser). */
const INSERT_ONLY_COLS = ['used_quota_size', 'used_quota_files', 'last_quota_update', 'used_upload_data_transfer',
  'used_download_data_transfer', 'created_at', 'last_login'] as const;

function userValues(u: User): SqlParam[] {
  return [
    u.username, u.status, u.expiration_date ?? 0, orNull(u.description), orNull(u.password),
    toJson(u.public_keys ?? []), u.home_dir, u.uid ?? 0, u.gid ?? 0, u.max_sessions ?? 0, u.quota_size ?? 0,
    u.quota_files ?? 0, JSON.stringify(u.permissions), u.upload_bandwidth ?? 0, u.download_bandwidth ?? 0,
    u.upload_data_transfer ?? 0, u.download_data_transfer ?? 0, u.total_data_transfer ?? 0, u.updated_at ?? 0,
    u.first_download ?? 0, u.first_upload ?? 0, u.last_password_change ?? 0, toJson(u.filters ?? {}),
    toJson(u.filesystem ?? { provider: 0 }), orNull(u.additional_info), orNull(u.email),
  ];
}

function rowToUser(r: Row): User {
  return {
    id: num(r.id), username: str(r.username), status: num(r.status), expiration_date: num(r.expiration_date),
    description: str(r.description), password: str(r.password), public_keys: json<string[]>(r.public_keys, []),
    home_dir: str(r.home_dir), uid: num(r.uid), gid: num(r.gid), max_sessions: num(r.max_sessions),
    quota_size: num(r.quota_size), quota_files: num(r.quota_files),
    permissions: json<Record<string, Permission[]>>(r.permissions, {}),
    used_quota_size: num(r.used_quota_size), used_quota_files: num(r.used_quota_files),
    last_quota_update: num(r.last_quota_update), upload_bandwidth: num(r.upload_bandwidth),
    download_bandwidth: num(r.download_bandwidth), upload_data_transfer: num(r.upload_data_transfer),
    download_data_transfer: num(r.download_data_transfer), total_data_transfer: num(r.total_data_transfer),
    used_upload_data_transfer: num(r.used_upload_data_transfer),
    used_download_data_transfer: num(r.used_download_data_transfer), created_at: num(r.created_at),
    updated_at: num(r.updated_at), last_login: num(r.last_login), first_download: num(r.first_download),
    first_upload: num(r.first_upload), last_password_change: num(r.last_password_change),
    filters: json<UserFilters>(r.filters, {}), filesystem: json<FilesystemConfig>(r.filesystem, { provider: 0 }),
    additional_info: str(r.additional_info), email: str(r.email),
  };
}

/** Loads the folder mappings of the given user ids in one query. */
async function loadMappings(ctx: SqlContext, userIds: number[]): Promise<Map<number, VirtualFolder[]>> {
  const out = new Map<number, VirtualFolder[]>();
  if (userIds.length === 0) return out;
  const rows = await ctx.all(
    `SELECT m.user_id, ${MOUNT_COLUMNS}
     FROM ${ctx.t('users_folders_mapping')} m INNER JOIN ${ctx.t('folders')} f ON m.folder_id = f.id
     WHERE m.user_id IN (${userIds.map(() => '?').join(', ')}) ORDER BY m.virtual_path ASC`, userIds);
  for (const r of rows) {
    const list = out.get(num(r.user_id)) ?? [];
    list.push(mountFromRow(r));
    out.set(num(r.user_id), list);
  }
  return out;
}

async function withFolders(ctx: SqlContext, rows: Row[]): Promise<User[]> {
  const users = rows.map(rowToUser);
  const ids = users.map((u) => u.id ?? 0);
  const mappings = await loadMappings(ctx, ids);
  const refs = await loadUserRefs(ctx, ids);
  return users.map((u) => canonicalUser({ ...u, virtual_folders: mappings.get(u.id ?? 0) ?? [], ...refs.get(u.id ?? 0) }));
}

export async function getUser(ctx: SqlContext, username: string): Promise<User | undefined> {
  const rows = await ctx.all(`SELECT * FROM ${ctx.t('users')} WHERE username = ?`, [username]);
  const users = await withFolders(ctx, rows);
  return users[0];
}

export async function listUsers(ctx: SqlContext, opts?: ListOptions): Promise<User[]> {
  const byRole = opts?.role
    ? ` WHERE id IN (SELECT m.user_id FROM ${ctx.t('users_roles_mapping')} m INNER JOIN ${ctx.t('roles')} r ON m.role_id = r.id
       WHERE r.name = ?)`
    : '';
  const rows = await ctx.all(`SELECT * FROM ${ctx.t('users')}${byRole}${ctx.order(opts, 'username')}`, opts?.role ? [opts.role] : []);
  return withFolders(ctx, rows);
}

export async function countUsers(ctx: SqlContext): Promise<number> {
  const r = await ctx.get(`SELECT COUNT(*) AS c FROM ${ctx.t('users')}`);
  return num(r?.c);
}

/**
 * Replaces the user's mappings. The folders must already exist (the service
 * creates missing ones first), else NotFound.
 */
async function writeMappings(ctx: SqlContext, userId: number, folders: readonly VirtualFolder[]): Promise<void> {
  await ctx.run(`DELETE FROM ${ctx.t('users_folders_mapping')} WHERE user_id = ?`, [userId]);
  for (const vf of folders) {
    const f = await ctx.get(`SELECT id FROM ${ctx.t('folders')} WHERE name = ?`, [vf.name]);
    if (!f) throw new FsError('NotFound', `folder "${vf.name}" does not exist`);
    await ctx.write(`mapping for folder "${vf.name}"`,
      `INSERT INTO ${ctx.t('users_folders_mapping')} (virtual_path, quota_size, quota_files, subpath, folder_id, user_id)
       VALUES (?, ?, ?, ?, ?, ?)`, [vf.virtual_path, vf.quota_size ?? 0, vf.quota_files ?? 0, vf.subpath ?? '', num(f.id), userId]);
  }
}

export async function addUser(ctx: SqlContext, u: User): Promise<User> {
  const now = Date.now();
  const cols = [...USER_COLS, ...INSERT_ONLY_COLS];
  const values: SqlParam[] = [...userValues({ ...u, updated_at: u.updated_at || now }),
    u.used_quota_size ?? 0, u.used_quota_files ?? 0, u.last_quota_update ?? 0, u.used_upload_data_transfer ?? 0,
    u.used_download_data_transfer ?? 0, u.created_at || now, u.last_login ?? 0];
  const id = await ctx.insert(`user "${u.username}"`,
    `INSERT INTO ${ctx.t('users')} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`, values);
  await writeMappings(ctx, id, u.virtual_folders ?? []);
  await writeUserRefs(ctx, id, u);
  const stored = await getUser(ctx, u.username);
  if (!stored) throw new FsError('Generic', `user "${u.username}" vanished after insert`);
  return stored;
}

export async function updateUser(ctx: SqlContext, u: User): Promise<User> {
  const existing = await ctx.get(`SELECT id FROM ${ctx.t('users')} WHERE username = ?`, [u.username]);
  if (!existing) throw new FsError('NotFound', `user "${u.username}" does not exist`);
  const cols = USER_COLS.filter((c) => c !== 'username');
  const values = userValues({ ...u, updated_at: u.updated_at || Date.now() }).slice(1);
  await ctx.write(`user "${u.username}"`,
    `UPDATE ${ctx.t('users')} SET ${cols.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`, [...values, num(existing.id)]);
  await writeMappings(ctx, num(existing.id), u.virtual_folders ?? []);
  await writeUserRefs(ctx, num(existing.id), u);
  const stored = await getUser(ctx, u.username);
  if (!stored) throw new FsError('NotFound', `user "${u.username}" does not exist`);
  return stored;
}

async function mustChange(p: Promise<{ changes: number }>, what: string): Promise<void> {
  const r = await p;
  if (r.changes === 0) throw new FsError('NotFound', `${what} does not exist`);
}

export async function deleteUser(ctx: SqlContext, username: string): Promise<void> {
  const existing = await ctx.get(`SELECT id FROM ${ctx.t('users')} WHERE username = ?`, [username]);
  if (!existing) throw new FsError('NotFound', `user "${username}" does not exist`);
  // explicit child deletes: foreign-key cascades are not enabled on every engine/connection
  await ctx.run(`DELETE FROM ${ctx.t('users_folders_mapping')} WHERE user_id = ?`, [num(existing.id)]);
  await ctx.run(`DELETE FROM ${ctx.t('api_keys')} WHERE user_id = ?`, [num(existing.id)]);
  await deleteUserRefs(ctx, num(existing.id));
  await ctx.run(`DELETE FROM ${ctx.t('users')} WHERE id = ?`, [num(existing.id)]);
}

export function updateLastLogin(ctx: SqlContext, username: string, when: number): Promise<void> {
  return mustChange(ctx.run(`UPDATE ${ctx.t('users')} SET last_login = ? WHERE username = ?`, [when, username]),
    `user "${username}"`);
}

export function updateUserQuota(ctx: SqlContext, username: string, size: number, files: number, reset: boolean): Promise<void> {
  const sql = reset
    ? `UPDATE ${ctx.t('users')} SET used_quota_size = ?, used_quota_files = ?, last_quota_update = ? WHERE username = ?`
    : `UPDATE ${ctx.t('users')} SET used_quota_size = used_quota_size + ?, used_quota_files = used_quota_files + ?,
       last_quota_update = ? WHERE username = ?`;
  return mustChange(ctx.run(sql, [size, files, Date.now(), username]), `user "${username}"`);
}

export function updateUserTransferQuota(ctx: SqlContext, username: string, up: number, down: number, reset: boolean): Promise<void> {
  const sql = reset
    ? `UPDATE ${ctx.t('users')} SET used_upload_data_transfer = ?, used_download_data_transfer = ?, last_quota_update = ?
       WHERE username = ?`
    : `UPDATE ${ctx.t('users')} SET used_upload_data_transfer = used_upload_data_transfer + ?,
       used_download_data_transfer = used_download_data_transfer + ?, last_quota_update = ? WHERE username = ?`;
  return mustChange(ctx.run(sql, [up, down, Date.now(), username]), `user "${username}"`);
}

export async function updateFirstTransfer(ctx: SqlContext, username: string, kind: 'upload' | 'download', when: number): Promise<void> {
  const col = kind === 'upload' ? 'first_upload' : 'first_download';
  const existing = await ctx.get(`SELECT id FROM ${ctx.t('users')} WHERE username = ?`, [username]);
  if (!existing) throw new FsError('NotFound', `user "${username}" does not exist`);
  // only the first transfer counts: later calls leave the value alone
  await ctx.run(`UPDATE ${ctx.t('users')} SET ${col} = ? WHERE id = ? AND ${col} = 0`, [when, num(existing.id)]);
}
