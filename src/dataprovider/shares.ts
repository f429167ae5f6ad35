/**
 * Shares (SFTPGo 2.7): files and folders a user hands to people without an
 * account. Stored with a hashed password; scope 1 read, 2 write (upload-only
 * drop box), 3 read-write; write scopes have exactly one path. Access tokens
 * are spent with a conditional update, so max_tokens holds under concurrency.
 */
import { randomBytes } from 'node:crypto';
import { FsError } from '../common/errors';
import { cleanVirtualPath, isSameOrInside } from '../common/vpath';
import { cidrMatcher, parseCidr } from './ipfilter';
import type { ListOptions } from './provider';
import { isHashedPassword, verifyPassword } from './passwords';
import { ValidationError } from './validation-core';

export const SHARE_SCOPE_READ = 1;
export const SHARE_SCOPE_WRITE = 2;
export const SHARE_SCOPE_READ_WRITE = 3;
export const REDACTED_PASSWORD = '[**redacted**]';

export interface Share {
  id: string;
  name: string;
  description?: string;
  scope: number;
  paths: string[];
  username: string;
  created_at: number;
  updated_at: number;
  last_use_at?: number;
  expires_at?: number;
  /** bcrypt/argon2 hash when stored; REDACTED_PASSWORD in API output */
  password: string;
  max_tokens?: number;
  used_tokens?: number;
  allow_from?: string[];
}

export interface ShareStore {
  getShare(shareId: string): Promise<Share | undefined>;
  /** every share, or those of one user */
  listShares(username: string | undefined, opts?: ListOptions): Promise<Share[]>;
  addShare(share: Share): Promise<Share>;
  updateShare(share: Share): Promise<Share>;
  deleteShare(shareId: string): Promise<void>;
  /**
   * Adds `n` used tokens (negative gives them back) and sets last_use_at, only
   * while max_tokens allows it; false when the share is exhausted or gone.
   */
  useShareTokens(shareId: string, n: number, when: number): Promise<boolean>;
}

const str = (v: unknown, field: string, max = 255): string => {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new ValidationError(`${field} must be a string`);
  if (v.length > max) throw new ValidationError(`${field} is too long (max ${max})`);
  return v;
};

const int = (v: unknown, field: string): number => {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new ValidationError(`${field} must be an integer`);
  return v;
};

/** SFTPGo validatePaths: cleaned, deduplicated, one path for write scopes, never nested. */
export function validateSharePaths(raw: unknown, scope: number): string[] {
  if (!Array.isArray(raw)) throw new ValidationError('paths must be an array of strings');
  const cleaned: string[] = [];
  for (const p of raw) {
    if (typeof p !== 'string') throw new ValidationError('paths must be an array of strings');
    if (p.trim() === '') continue;
    const c = cleanVirtualPath(p);
    if (!cleaned.includes(c)) cleaned.push(c);
  }
  if (cleaned.length === 0) throw new ValidationError('at least a shared path is required');
  if (cleaned.length > 100) throw new ValidationError('too many shared paths (max 100)');
  if (scope >= SHARE_SCOPE_WRITE && cleaned.length !== 1) throw new ValidationError('the write share scope requires exactly one path');
  for (const a of cleaned) {
    for (const b of cleaned) {
      if (a !== b && (a === '/' || b === '/' || isSameOrInside(a, b))) throw new ValidationError('shared paths cannot be nested');
    }
  }
  return cleaned;
}

export interface ShareInputOptions { isRestore?: boolean; now?: number }

/** Validates untrusted share JSON (password still plain or an existing hash). */
export function validateShare(input: unknown, opts: ShareInputOptions = {}): Omit<Share, 'created_at' | 'updated_at'> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ValidationError('share must be a JSON object');
  const r = input as Record<string, unknown>;
  const id = str(r.id, 'id', 64);
  const name = str(r.name, 'name');
  if (name.trim() === '') throw new ValidationError('name is mandatory');
  if (/[/\\\0]/.test(name)) throw new ValidationError('name contains characters that are not allowed');
  const scope = int(r.scope, 'scope');
  if (scope < SHARE_SCOPE_READ || scope > SHARE_SCOPE_READ_WRITE) throw new ValidationError(`invalid scope: ${scope}`);
  const paths = validateSharePaths(r.paths, scope);
  const expires = int(r.expires_at, 'expires_at');
  if (expires > 0 && !opts.isRestore && expires < (opts.now ?? Date.now())) throw new ValidationError('expiration must be in the future');
  const maxTokens = int(r.max_tokens, 'max_tokens');
  if (maxTokens < 0) throw new ValidationError('invalid max tokens');
  const password = str(r.password, 'password', 4096);
  const allowFrom: string[] = [];
  if (r.allow_from !== undefined && r.allow_from !== null) {
    if (!Array.isArray(r.allow_from)) throw new ValidationError('allow_from must be an array of strings');
    for (const c of r.allow_from) {
      if (typeof c !== 'string' || !parseCidr(c)) throw new ValidationError(`could not parse allow from entry "${String(c)}"`);
      if (!allowFrom.includes(c)) allowFrom.push(c);
    }
  }
  return {
    id, name, description: str(r.description, 'description', 1024), scope, paths, username: str(r.username, 'username'),
    expires_at: expires > 0 ? expires : 0, password, max_tokens: maxTokens, used_tokens: Math.max(0, int(r.used_tokens, 'used_tokens')),
    last_use_at: Math.max(0, int(r.last_use_at, 'last_use_at')), allow_from: allowFrom,
  };
}

/** API/dump-safe copy: the hash never leaves the server through the API. */
export function redactShare(s: Share): Share {
  return { ...s, password: s.password ? REDACTED_PASSWORD : '' };
}

/** Why a share cannot be used now from `ip` (SFTPGo IsUsable), or undefined when it can. */
export function shareUnusableReason(s: Share, ip: string, now = Date.now()): { status: 403 | 404; reason: string } | undefined {
  if ((s.max_tokens ?? 0) > 0 && (s.used_tokens ?? 0) >= (s.max_tokens ?? 0)) return { status: 403, reason: 'share usage exceeded' };
  if ((s.expires_at ?? 0) > 0 && (s.expires_at ?? 0) < now) return { status: 404, reason: 'share expired' };
  if ((s.allow_from ?? []).length > 0 && !cidrMatcher(s.allow_from)(ip)) return { status: 403, reason: 'login not allowed from this IP' };
  return undefined;
}

/** The stored password: redacted keeps the current one, hashes stay, plain text is hashed. */
export async function sharePassword(plain: string, hash: (p: string) => Promise<string>, existing?: Share): Promise<string> {
  if (plain === REDACTED_PASSWORD) {
    if (!existing) throw new ValidationError('cannot save a share with a redacted password');
    return existing.password;
  }
  if (plain === '') return '';
  // a dump carries the hash; an API client sends the plain text
  return isHashedPassword(plain) ? plain : hash(plain);
}

/** A share from a dump: id, owner, counters and timestamps kept as in the file (expired ones too). */
export async function shareFromDump(raw: unknown, hash: (p: string) => Promise<string>): Promise<Share> {
  const v = validateShare(raw, { isRestore: true });
  if (!v.id) throw new ValidationError('share id is mandatory');
  if (!v.username) throw new ValidationError('share username is mandatory');
  const r = raw as Record<string, unknown>;
  const now = Date.now();
  return {
    ...v, password: await sharePassword(v.password, hash),
    created_at: typeof r.created_at === 'number' ? r.created_at : now,
    updated_at: typeof r.updated_at === 'number' ? r.updated_at : now,
  };
}

export class ShareManager {
  constructor(
    private readonly store: ShareStore,
    private readonly hash: (plain: string) => Promise<string>,
  ) {}

  private passwordFor(plain: string, existing?: Share): Promise<string> {
    return sharePassword(plain, this.hash, existing);
  }

  /** A new share of `username`; the id is generated, counters start at 0. */
  async add(username: string, input: unknown): Promise<Share> {
    const v = validateShare(input);
    const now = Date.now();
    const id = randomBytes(15).toString('base64url');
    return this.store.addShare({
      ...v, id, name: v.name || id, username, used_tokens: 0, last_use_at: 0,
      password: await this.passwordFor(v.password), created_at: now, updated_at: now,
    });
  }

  /** Updates a share of `username` (only theirs); counters are kept. */
  async update(username: string, shareId: string, input: unknown): Promise<Share> {
    const existing = await this.get(shareId, username);
    const v = validateShare(input);
    return this.store.updateShare({
      ...v, id: existing.id, username: existing.username, created_at: existing.created_at, updated_at: Date.now(),
      used_tokens: existing.used_tokens ?? 0, last_use_at: existing.last_use_at ?? 0, password: await this.passwordFor(v.password, existing),
    });
  }

  /** The share; with `username`, only when it belongs to that user (others' shares are "not found"). */
  async get(shareId: string, username?: string): Promise<Share> {
    const s = await this.store.getShare(shareId);
    if (!s || (username !== undefined && s.username !== username)) throw new FsError('NotFound', `share "${shareId}" does not exist`);
    return s;
  }

  list(username: string | undefined, opts?: ListOptions): Promise<Share[]> { return this.store.listShares(username, opts); }

  async delete(shareId: string, username?: string): Promise<void> {
    await this.get(shareId, username);
    await this.store.deleteShare(shareId);
  }

  async checkPassword(s: Share, plain: string): Promise<boolean> {
    if (!s.password) return true;
    if (plain === '') return false;
    return verifyPassword(plain, s.password);
  }

  useTokens(shareId: string, n: number): Promise<boolean> { return this.store.useShareTokens(shareId, n, Date.now()); }
}
