/**
 * HTTP Basic authentication for WebDAV with a short-lived cache of successful
 * logins, so each request of a session does not pay a full bcrypt/argon2
 * verification (SFTPGo keeps a similar user cache, `webdavd.cache.users`).
 *
 * A cache hit still goes through the whole login sequence (user reloaded,
 * every rule checked); it only replaces the hash comparison, and only while the
 * stored password hash is unchanged and the offered password has the same
 * keyed digest (HMAC with a per-process random key: the cache never holds the
 * password or an offline-crackable hash of it).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { User } from '../dataprovider/models';

export interface BasicCredentials { username: string; password: string }

/** Parses `Authorization: Basic ...`; undefined when absent or malformed. */
export function parseBasicAuth(header: string | undefined): BasicCredentials | undefined {
  if (!header) return undefined;
  const m = /^\s*basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i <= 0) return undefined;
  return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

interface CacheEntry { digest: Buffer; storedHash: string; expiresAt: number }

export interface LoginCacheOptions {
  /** `cache.users.expiration_time`, minutes; 0 → entries do not expire (as SFTPGo) */
  expirationMinutes: number;
  /** `cache.users.max_size`; 0 → no limit (as SFTPGo: bounded by the number of users) */
  maxSize: number;
  /** clock in ms (tests) */
  now?: () => number;
}

export class LoginCache {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, CacheEntry>();
  private readonly ttlMs: number;
  private readonly maxSize: number;
  private readonly now: () => number;

  constructor(private readonly opts: LoginCacheOptions) {
    // an entry never outlives a password change, a disable or a delete: each hit
    // reloads the user and compares the stored hash, so "no expiry" is safe
    this.ttlMs = opts.expirationMinutes > 0 ? opts.expirationMinutes * 60_000 : Infinity;
    this.maxSize = opts.maxSize > 0 ? opts.maxSize : Infinity;
    this.now = opts.now ?? Date.now;
  }

  private digest(username: string, password: string): Buffer {
    return createHmac('sha256', this.key).update(username).update('\0').update(password).digest();
  }

  /**
   * True when this password was verified for this user before and the stored
   * hash is unchanged (the login sequence then skips the hash comparison;
   * every other rule is still checked on each request).
   */
  knownGood(creds: BasicCredentials, user: User): boolean {
    const entry = this.entries.get(creds.username);
    if (!entry) return false;
    const valid = entry.expiresAt > this.now() && user.password === entry.storedHash &&
      timingSafeEqual(this.digest(creds.username, creds.password), entry.digest);
    if (!valid) this.entries.delete(creds.username);
    return valid;
  }

  /** After a fresh successful login; users without a local password (external auth) are never cached. */
  remember(creds: BasicCredentials, user: User): void {
    if (!user.password) return;
    this.store(creds, user.password);
  }

  private store(creds: BasicCredentials, storedHash: string): void {
    this.entries.delete(creds.username);
    while (this.entries.size >= this.maxSize) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    this.entries.set(creds.username, {
      digest: this.digest(creds.username, creds.password),
      storedHash,
      expiresAt: this.now() + this.ttlMs,
    });
  }
}
