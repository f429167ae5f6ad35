/** Share queries (table `shares`, owner by user id, paths and allow_from as JSON text). */
import { FsError } from '../../common/errors';
import type { ListOptions } from '../provider';
import type { Share } from '../shares';
import type { Row } from './dialect';
import { json, num, orNull, str, toJson, type SqlContext } from './context';

const SELECT = (ctx: SqlContext): string =>
  `SELECT s.*, u.username AS owner FROM ${ctx.t('shares')} s JOIN ${ctx.t('users')} u ON u.id = s.user_id`;

function rowToShare(r: Row): Share {
  return {
    id: str(r.share_id), name: str(r.name), description: str(r.description), scope: num(r.scope),
    paths: json<string[]>(r.paths, []), username: str(r.owner), created_at: num(r.created_at), updated_at: num(r.updated_at),
    last_use_at: num(r.last_use_at), expires_at: num(r.expires_at), password: str(r.password),
    max_tokens: num(r.max_tokens), used_tokens: num(r.used_tokens), allow_from: json<string[]>(r.allow_from, []),
  };
}

async function ownerId(ctx: SqlContext, username: string): Promise<number> {
  const r = await ctx.get(`SELECT id FROM ${ctx.t('users')} WHERE username = ?`, [username]);
  if (!r) throw new FsError('NotFound', `user "${username}" does not exist`);
  return num(r.id);
}

export async function getShare(ctx: SqlContext, shareId: string): Promise<Share | undefined> {
  const r = await ctx.get(`${SELECT(ctx)} WHERE s.share_id = ?`, [shareId]);
  return r ? rowToShare(r) : undefined;
}

export async function listShares(ctx: SqlContext, username: string | undefined, opts?: ListOptions): Promise<Share[]> {
  const rows = username === undefined
    ? await ctx.all(`${SELECT(ctx)}${ctx.order(opts, 's.share_id')}`)
    : await ctx.all(`${SELECT(ctx)} WHERE u.username = ?${ctx.order(opts, 's.share_id')}`, [username]);
  return rows.map(rowToShare);
}

const values = (s: Share): (string | number | null)[] => [
  s.name, orNull(s.description), s.scope, toJson(s.paths) ?? '[]', s.created_at, s.updated_at, s.last_use_at ?? 0,
  s.expires_at ?? 0, orNull(s.password), s.max_tokens ?? 0, s.used_tokens ?? 0, toJson(s.allow_from ?? []),
];

export async function addShare(ctx: SqlContext, s: Share): Promise<Share> {
  const userId = await ownerId(ctx, s.username);
  await ctx.write(`share "${s.id}"`,
    `INSERT INTO ${ctx.t('shares')} (name, description, scope, paths, created_at, updated_at, last_use_at, expires_at,
     password, max_tokens, used_tokens, allow_from, share_id, user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [...values(s), s.id, userId]);
  const stored = await getShare(ctx, s.id);
  if (!stored) throw new FsError('Generic', `share "${s.id}" vanished after insert`);
  return stored;
}

export async function updateShare(ctx: SqlContext, s: Share): Promise<Share> {
  const r = await ctx.run(
    `UPDATE ${ctx.t('shares')} SET name = ?, description = ?, scope = ?, paths = ?, created_at = ?, updated_at = ?,
     last_use_at = ?, expires_at = ?, password = ?, max_tokens = ?, used_tokens = ?, allow_from = ? WHERE share_id = ?`,
    [...values(s), s.id]);
  if (r.changes === 0) throw new FsError('NotFound', `share "${s.id}" does not exist`);
  const stored = await getShare(ctx, s.id);
  if (!stored) throw new FsError('NotFound', `share "${s.id}" does not exist`);
  return stored;
}

export async function deleteShare(ctx: SqlContext, shareId: string): Promise<void> {
  const r = await ctx.run(`DELETE FROM ${ctx.t('shares')} WHERE share_id = ?`, [shareId]);
  if (r.changes === 0) throw new FsError('NotFound', `share "${shareId}" does not exist`);
}

/** One conditional UPDATE: concurrent users of the last token cannot both get it. */
export async function useShareTokens(ctx: SqlContext, shareId: string, n: number, when: number): Promise<boolean> {
  const r = n > 0
    ? await ctx.run(
      `UPDATE ${ctx.t('shares')} SET used_tokens = used_tokens + ?, last_use_at = ?
       WHERE share_id = ? AND (max_tokens = 0 OR used_tokens + ? <= max_tokens)`, [n, when, shareId, n])
    : await ctx.run(
      `UPDATE ${ctx.t('shares')} SET used_tokens = CASE WHEN used_tokens + ? < 0 THEN 0 ELSE used_tokens + ? END, last_use_at = ?
       WHERE share_id = ?`, [n, n, when, shareId]);
  return r.changes > 0;
}
