/** Virtual folder persistence (SFTPGo's `folders` table; `path` holds mapped_path). */
import { FsError } from '../../common/errors';
import { canonicalFolder } from '../canonical';
import type { FilesystemConfig, Folder } from '../models';
import type { ListOptions } from '../provider';
import type { Row } from './dialect';
import { json, num, orNull, type SqlContext, str, toJson } from './context';
import { deleteFolderRefs } from './groups';

async function withUsers(ctx: SqlContext, rows: Row[]): Promise<Folder[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => num(r.id));
  const mapRows = await ctx.all(
    `SELECT m.folder_id, u.username FROM ${ctx.t('users_folders_mapping')} m
     INNER JOIN ${ctx.t('users')} u ON m.user_id = u.id WHERE m.folder_id IN (${ids.map(() => '?').join(', ')})`, ids);
  const users = new Map<number, string[]>();
  for (const r of mapRows) {
    const list = users.get(num(r.folder_id)) ?? [];
    list.push(str(r.username));
    users.set(num(r.folder_id), list);
  }
  return rows.map((r) => canonicalFolder({
    id: num(r.id), name: str(r.name), description: str(r.description), mapped_path: str(r.path),
    used_quota_size: num(r.used_quota_size), used_quota_files: num(r.used_quota_files),
    last_quota_update: num(r.last_quota_update), users: users.get(num(r.id)) ?? [],
    filesystem: json<FilesystemConfig>(r.filesystem, { provider: 0 }),
  }));
}

export async function getFolder(ctx: SqlContext, name: string): Promise<Folder | undefined> {
  const rows = await ctx.all(`SELECT * FROM ${ctx.t('folders')} WHERE name = ?`, [name]);
  return (await withUsers(ctx, rows))[0];
}

export async function listFolders(ctx: SqlContext, opts?: ListOptions): Promise<Folder[]> {
  return withUsers(ctx, await ctx.all(`SELECT * FROM ${ctx.t('folders')}${ctx.order(opts, 'name')}`));
}

export async function addFolder(ctx: SqlContext, f: Folder): Promise<Folder> {
  await ctx.write(`folder "${f.name}"`,
    `INSERT INTO ${ctx.t('folders')} (name, description, path, used_quota_size, used_quota_files, last_quota_update,
     filesystem) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    [f.name, orNull(f.description), f.mapped_path ?? '', f.used_quota_size ?? 0, f.used_quota_files ?? 0,
      f.last_quota_update ?? 0, toJson(f.filesystem ?? { provider: 0 })]);
  const stored = await getFolder(ctx, f.name);
  if (!stored) throw new FsError('Generic', `folder "${f.name}" vanished after insert`);
  return stored;
}

/** Updates description, mapped path and filesystem; used quota is kept. */
export async function updateFolder(ctx: SqlContext, f: Folder): Promise<Folder> {
  const r = await ctx.run(`UPDATE ${ctx.t('folders')} SET description = ?, path = ?, filesystem = ? WHERE name = ?`,
    [orNull(f.description), f.mapped_path ?? '', toJson(f.filesystem ?? { provider: 0 }), f.name]);
  if (r.changes === 0) throw new FsError('NotFound', `folder "${f.name}" does not exist`);
  const stored = await getFolder(ctx, f.name);
  if (!stored) throw new FsError('NotFound', `folder "${f.name}" does not exist`);
  return stored;
}

export async function deleteFolder(ctx: SqlContext, name: string): Promise<void> {
  const existing = await ctx.get(`SELECT id FROM ${ctx.t('folders')} WHERE name = ?`, [name]);
  if (!existing) throw new FsError('NotFound', `folder "${name}" does not exist`);
  await ctx.run(`DELETE FROM ${ctx.t('users_folders_mapping')} WHERE folder_id = ?`, [num(existing.id)]);
  await deleteFolderRefs(ctx, num(existing.id));
  await ctx.run(`DELETE FROM ${ctx.t('folders')} WHERE id = ?`, [num(existing.id)]);
}

export async function updateFolderQuota(ctx: SqlContext, name: string, size: number, files: number, reset: boolean): Promise<void> {
  const sql = reset
    ? `UPDATE ${ctx.t('folders')} SET used_quota_size = ?, used_quota_files = ?, last_quota_update = ? WHERE name = ?`
    : `UPDATE ${ctx.t('folders')} SET used_quota_size = used_quota_size + ?, used_quota_files = used_quota_files + ?,
       last_quota_update = ? WHERE name = ?`;
  const r = await ctx.run(sql, [size, files, Date.now(), name]);
  if (r.changes === 0) throw new FsError('NotFound', `folder "${name}" does not exist`);
}
