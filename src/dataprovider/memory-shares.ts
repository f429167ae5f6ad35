/** The memory driver's share table: plain functions over the backend's state map, run under its queue. */
import { FsError } from '../common/errors';
import type { ListOptions } from './provider';
import type { Share } from './shares';

const copy = (s: Share): Share => structuredClone(s);

export function listMemoryShares(shares: Map<string, Share>, username: string | undefined, opts?: ListOptions): Share[] {
  const items = [...shares.values()].filter((s) => username === undefined || s.username === username)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (opts?.order === 'DESC') items.reverse();
  const offset = opts?.offset && opts.offset > 0 ? opts.offset : 0;
  const end = opts?.limit !== undefined && opts.limit >= 0 ? offset + opts.limit : undefined;
  return items.slice(offset, end).map(copy);
}

export function addMemoryShare(shares: Map<string, Share>, userExists: boolean, share: Share): Share {
  if (!userExists) throw new FsError('NotFound', `user "${share.username}" does not exist`);
  if (shares.has(share.id)) throw new FsError('AlreadyExists', `share "${share.id}" already exists`);
  shares.set(share.id, copy(share));
  return copy(share);
}

export function updateMemoryShare(shares: Map<string, Share>, share: Share): Share {
  if (!shares.has(share.id)) throw new FsError('NotFound', `share "${share.id}" does not exist`);
  shares.set(share.id, copy(share));
  return copy(share);
}

export function deleteMemoryShare(shares: Map<string, Share>, shareId: string): void {
  if (!shares.delete(shareId)) throw new FsError('NotFound', `share "${shareId}" does not exist`);
}

/** The same condition as the SQL update: never beyond max_tokens, never below 0. */
export function useMemoryShareTokens(shares: Map<string, Share>, shareId: string, n: number, when: number): boolean {
  const s = shares.get(shareId);
  if (!s) return false;
  const used = s.used_tokens ?? 0;
  const max = s.max_tokens ?? 0;
  if (n > 0 && max > 0 && used + n > max) return false;
  s.used_tokens = Math.max(0, used + n);
  s.last_use_at = when;
  return true;
}

export function deleteMemorySharesOf(shares: Map<string, Share>, username: string): void {
  for (const [id, s] of shares) if (s.username === username) shares.delete(id);
}
