/** Admin and API key persistence. API keys reference their owner by row id. */
import { FsError } from '../../common/errors';
import { canonicalAdmin, canonicalApiKey } from '../canonical';
import type { Admin, AdminFilters, AdminPermission, ApiKey } from '../models';
import type { ListOptions } from '../provider';
import type { Row } from './dialect';
import { json, num, orNull, type SqlContext, str, toJson } from './context';
import { deleteAdminRefs, loadAdminRefs, writeAdminRefs } from './groups';

function rowToAdmin(r: Row): Admin {
  return canonicalAdmin({
    id: num(r.id), username: str(r.username), description: str(r.description), password: str(r.password),
    email: str(r.email), status: num(r.status), permissions: json<AdminPermission[]>(r.permissions, []),
    filters: json<AdminFilters>(r.filters, {}), additional_info: str(r.additional_info), last_login: num(r.last_login),
    created_at: num(r.created_at), updated_at: num(r.updated_at),
  });
}

async function withRefs(ctx: SqlContext, rows: Row[]): Promise<Admin[]> {
  const refs = await loadAdminRefs(ctx, rows.map((r) => num(r.id)));
  return rows.map((r) => canonicalAdmin({ ...rowToAdmin(r), ...refs.get(num(r.id)) }));
}

export async function getAdmin(ctx: SqlContext, username: string): Promise<Admin | undefined> {
  return (await withRefs(ctx, await ctx.all(`SELECT * FROM ${ctx.t('admins')} WHERE username = ?`, [username])))[0];
}

export async function listAdmins(ctx: SqlContext, opts?: ListOptions): Promise<Admin[]> {
  return withRefs(ctx, await ctx.all(`SELECT * FROM ${ctx.t('admins')}${ctx.order(opts, 'username')}`));
}

export async function countAdmins(ctx: SqlContext): Promise<number> {
  return num((await ctx.get(`SELECT COUNT(*) AS c FROM ${ctx.t('admins')}`))?.c);
}

export async function addAdmin(ctx: SqlContext, a: Admin): Promise<Admin> {
  const now = Date.now();
  const id = await ctx.insert(`admin "${a.username}"`,
    `INSERT INTO ${ctx.t('admins')} (username, description, password, email, status, permissions, filters,
     additional_info, last_login, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [a.username, orNull(a.description), a.password ?? '', orNull(a.email), a.status, JSON.stringify(a.permissions),
      toJson(a.filters ?? {}), orNull(a.additional_info), a.last_login ?? 0, a.created_at || now, a.updated_at || now]);
  await writeAdminRefs(ctx, id, a);
  const stored = await getAdmin(ctx, a.username);
  if (!stored) throw new FsError('Generic', `admin "${a.username}" vanished after insert`);
  return stored;
}

export async function updateAdmin(ctx: SqlContext, a: Admin): Promise<Admin> {
  const r = await ctx.run(
    `UPDATE ${ctx.t('admins')} SET description = ?, password = ?, email = ?, status = ?, permissions = ?, filters = ?,
     additional_info = ?, updated_at = ? WHERE username = ?`,
    [orNull(a.description), a.password ?? '', orNull(a.email), a.status, JSON.stringify(a.permissions),
      toJson(a.filters ?? {}), orNull(a.additional_info), a.updated_at || Date.now(), a.username]);
  if (r.changes === 0) throw new FsError('NotFound', `admin "${a.username}" does not exist`);
  const row = await ctx.get(`SELECT id FROM ${ctx.t('admins')} WHERE username = ?`, [a.username]);
  await writeAdminRefs(ctx, num(row?.id), a);
  const stored = await getAdmin(ctx, a.username);
  if (!stored) throw new FsError('NotFound', `admin "${a.username}" does not exist`);
  return stored;
}

export async function deleteAdmin(ctx: SqlContext, username: string): Promise<void> {
  const existing = await ctx.get(`SELECT id FROM ${ctx.t('admins')} WHERE username = ?`, [username]);
  if (!existing) throw new FsError('NotFound', `admin "${username}" does not exist`);
  await ctx.run(`DELETE FROM ${ctx.t('api_keys')} WHERE admin_id = ?`, [num(existing.id)]);
  await deleteAdminRefs(ctx, num(existing.id));
  await ctx.run(`DELETE FROM ${ctx.t('admins')} WHERE id = ?`, [num(existing.id)]);
}

export async function updateAdminLastLogin(ctx: SqlContext, username: string, when: number): Promise<void> {
  const r = await ctx.run(`UPDATE ${ctx.t('admins')} SET last_login = ? WHERE username = ?`, [when, username]);
  if (r.changes === 0) throw new FsError('NotFound', `admin "${username}" does not exist`);
}

// --- API keys ---

const KEY_SELECT = (ctx: SqlContext): string =>
  `SELECT k.*, u.username AS owner_user, a.username AS owner_admin FROM ${ctx.t('api_keys')} k
   LEFT JOIN ${ctx.t('users')} u ON k.user_id = u.id LEFT JOIN ${ctx.t('admins')} a ON k.admin_id = a.id`;

function rowToKey(r: Row): ApiKey {
  return canonicalApiKey({
    id: num(r.id), key_id: str(r.key_id), name: str(r.name), key: str(r.api_key), scope: num(r.scope),
    created_at: num(r.created_at), updated_at: num(r.updated_at), last_use_at: num(r.last_use_at),
    expires_at: num(r.expires_at), description: str(r.description), user: str(r.owner_user), admin: str(r.owner_admin),
  });
}

/** Resolves the owner names to row ids; an unknown owner is NotFound. */
async function ownerIds(ctx: SqlContext, k: ApiKey): Promise<{ userId: number | null; adminId: number | null }> {
  let userId: number | null = null;
  let adminId: number | null = null;
  if (k.user) {
    const r = await ctx.get(`SELECT id FROM ${ctx.t('users')} WHERE username = ?`, [k.user]);
    if (!r) throw new FsError('NotFound', `user "${k.user}" does not exist`);
    userId = num(r.id);
  }
  if (k.admin) {
    const r = await ctx.get(`SELECT id FROM ${ctx.t('admins')} WHERE username = ?`, [k.admin]);
    if (!r) throw new FsError('NotFound', `admin "${k.admin}" does not exist`);
    adminId = num(r.id);
  }
  return { userId, adminId };
}

export async function getApiKey(ctx: SqlContext, keyId: string): Promise<ApiKey | undefined> {
  const r = await ctx.get(`${KEY_SELECT(ctx)} WHERE k.key_id = ?`, [keyId]);
  return r ? rowToKey(r) : undefined;
}

export async function listApiKeys(ctx: SqlContext, opts?: ListOptions): Promise<ApiKey[]> {
  return (await ctx.all(`${KEY_SELECT(ctx)}${ctx.order(opts, 'k.key_id')}`)).map(rowToKey);
}

export async function addApiKey(ctx: SqlContext, k: ApiKey): Promise<ApiKey> {
  const { userId, adminId } = await ownerIds(ctx, k);
  const now = Date.now();
  await ctx.write(`API key "${k.key_id}"`,
    `INSERT INTO ${ctx.t('api_keys')} (name, key_id, api_key, scope, created_at, updated_at, last_use_at, expires_at,
     description, admin_id, user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [k.name, k.key_id, k.key ?? '', k.scope, k.created_at || now, k.updated_at || now, k.last_use_at ?? 0,
      k.expires_at ?? 0, orNull(k.description), adminId, userId]);
  const stored = await getApiKey(ctx, k.key_id);
  if (!stored) throw new FsError('Generic', `API key "${k.key_id}" vanished after insert`);
  return stored;
}

/** Updates everything but the secret, created_at and last use. */
export async function updateApiKey(ctx: SqlContext, k: ApiKey): Promise<ApiKey> {
  const { userId, adminId } = await ownerIds(ctx, k);
  const r = await ctx.run(
    `UPDATE ${ctx.t('api_keys')} SET name = ?, scope = ?, expires_at = ?, description = ?, user_id = ?, admin_id = ?,
     updated_at = ? WHERE key_id = ?`,
    [k.name, k.scope, k.expires_at ?? 0, orNull(k.description), userId, adminId, k.updated_at || Date.now(), k.key_id]);
  if (r.changes === 0) throw new FsError('NotFound', `API key "${k.key_id}" does not exist`);
  const stored = await getApiKey(ctx, k.key_id);
  if (!stored) throw new FsError('NotFound', `API key "${k.key_id}" does not exist`);
  return stored;
}

export async function deleteApiKey(ctx: SqlContext, keyId: string): Promise<void> {
  const r = await ctx.run(`DELETE FROM ${ctx.t('api_keys')} WHERE key_id = ?`, [keyId]);
  if (r.changes === 0) throw new FsError('NotFound', `API key "${keyId}" does not exist`);
}

export async function updateApiKeyLastUse(ctx: SqlContext, keyId: string, when: number): Promise<void> {
  const r = await ctx.run(`UPDATE ${ctx.t('api_keys')} SET last_use_at = ? WHERE key_id = ?`, [when, keyId]);
  if (r.changes === 0) throw new FsError('NotFound', `API key "${keyId}" does not exist`);
}
