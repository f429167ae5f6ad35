/**
 * Password hashing and verification with SFTPGo's formats. New passwords are
 * hashed with bcrypt (default) or argon2id; every format SFTPGo accepts is
 * verified, and a password submitted already hashed is stored as is.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import * as argon2 from 'argon2';
import { BcryptPool } from './bcrypt-pool';

/** comparisons off the event loop (bcrypt-pool.ts); stateless for callers, started on first use */
const bcryptPool = new BcryptPool();
import { verifyUnixCrypt } from './unixcrypt';
import { verifyYescrypt, type WorkerSlots } from './yescrypt-worker';

export interface PasswordHashingConfig {
  algo: string;
  bcrypt_options: { cost: number };
  argon2_options: { memory: number; iterations: number; parallelism: number };
}

export const DEFAULT_PASSWORD_HASHING: PasswordHashingConfig = {
  algo: 'bcrypt',
  bcrypt_options: { cost: 10 },
  argon2_options: { memory: 65536, iterations: 1, parallelism: 2 },
};

const BCRYPT_PREFIXES = ['$2a$', '$2b$', '$2y$', '$2x$', '$2$'];
const PBKDF2_PREFIXES = ['$pbkdf2-sha1$', '$pbkdf2-sha256$', '$pbkdf2-sha512$', '$pbkdf2-b64salt-sha256$'];
const UNIX_PREFIXES = ['$1$', '$apr1$', '$5$', '$6$'];
const DIGEST_PREFIXES = ['{MD5}', '{SHA256}', '{SHA512}'];
const ARGON2ID_PREFIX = '$argon2id$';
/** yescrypt, /etc/shadow's default on current Debian/Ubuntu/Fedora (not in SFTPGo: accounts imported from Linux) */
const YESCRYPT_PREFIX = '$y$';

const HASH_PREFIXES = [ARGON2ID_PREFIX, ...BCRYPT_PREFIXES, ...PBKDF2_PREFIXES, ...UNIX_PREFIXES, YESCRYPT_PREFIX, ...DIGEST_PREFIXES];

/** True when the value is already a hash in a format we can verify (then stored as is). */
export function isHashedPassword(value: string): boolean {
  return HASH_PREFIXES.some((p) => value.startsWith(p));
}

export async function hashPassword(plain: string, cfg: PasswordHashingConfig = DEFAULT_PASSWORD_HASHING): Promise<string> {
  if (cfg.algo === 'argon2id') {
    const h = await argon2.hash(plain, {
      type: argon2.argon2id,
      memoryCost: cfg.argon2_options.memory,
      timeCost: cfg.argon2_options.iterations,
      parallelism: cfg.argon2_options.parallelism,
    });
    // SFTPGo (alexedwards/argon2id) parses exactly "m=..,t=..,p=.."; node-argon2
    // writes "m=..,p=..,t=..". Reorder so the hash stays portable both ways.
    return h.replace(/\$m=(\d+),p=(\d+),t=(\d+)\$/, '$$m=$1,t=$3,p=$2$$');
  }
  const cost = cfg.bcrypt_options.cost >= 4 && cfg.bcrypt_options.cost <= 31 ? cfg.bcrypt_options.cost : 10;
  const h = await bcrypt.hash(plain, cost);
  // SFTPGo (Go's x/crypto/bcrypt) writes `$2a$`; the algorithm is identical for
  // the ≤72-byte inputs bcrypt uses, so we keep hashes portable to SFTPGo.
  return h.startsWith('$2b$') ? `$2a$${h.slice(4)}` : h;
}

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function verifyPbkdf2(plain: string, hash: string): boolean {
  const fields = hash.split('$');
  // ['', 'pbkdf2-sha256', iterations, salt, b64hash]
  if (fields.length !== 5) return false;
  const iterations = Number.parseInt(fields[2]!, 10);
  if (!Number.isSafeInteger(iterations) || iterations <= 0 || String(iterations) !== fields[2]) return false;
  const expected = Buffer.from(fields[4]!, 'base64');
  if (expected.length === 0) return false;
  const algo = fields[1]!;
  const salt = algo === 'pbkdf2-b64salt-sha256' ? Buffer.from(fields[3]!, 'base64') : Buffer.from(fields[3]!, 'utf8');
  const digest = algo === 'pbkdf2-sha1' ? 'sha1' : algo === 'pbkdf2-sha512' ? 'sha512' : 'sha256';
  return safeEqual(pbkdf2Sync(plain, salt, iterations, expected.length, digest), expected);
}

function verifyDigest(plain: string, hash: string): boolean {
  for (const [prefix, algo] of [['{MD5}', 'md5'], ['{SHA256}', 'sha256'], ['{SHA512}', 'sha512']] as const) {
    if (hash.startsWith(prefix)) {
      const computed = Buffer.from(prefix + createHash(algo).update(plain, 'utf8').digest('hex'), 'utf8');
      return safeEqual(computed, Buffer.from(hash, 'utf8'));
    }
  }
  return false;
}

/**
 * Verifies a plain password against a stored hash of any supported format.
 * Never throws. `slots` bounds the concurrent yescrypt workers.
 */
export async function verifyPassword(plain: string, hash: string, slots?: WorkerSlots): Promise<boolean> {
  try {
    if (BCRYPT_PREFIXES.some((p) => hash.startsWith(p))) {
      // bcryptjs knows $2a$/$2b$/$2y$; $2x$/$2$ use the same core for ASCII.
      const normalized = hash.startsWith('$2x$') ? `$2a$${hash.slice(4)}` : hash.startsWith('$2$') ? `$2a$${hash.slice(3)}` : hash;
      return await bcryptPool.compare(plain, normalized);
    }
    if (hash.startsWith(ARGON2ID_PREFIX)) return await argon2.verify(hash, plain);
    if (PBKDF2_PREFIXES.some((p) => hash.startsWith(p))) return verifyPbkdf2(plain, hash);
    if (UNIX_PREFIXES.some((p) => hash.startsWith(p))) return verifyUnixCrypt(plain, hash);
    if (hash.startsWith(YESCRYPT_PREFIX)) return await verifyYescrypt(plain, hash, slots);
    if (DIGEST_PREFIXES.some((p) => hash.startsWith(p))) return verifyDigest(plain, hash);
  } catch {
    // malformed stored hash: treat as a non-match, the caller logs the failure
    return false;
  }
  return false;
}

/** Whether a stored hash should be re-hashed with the configured algorithm after a successful login. */
export function needsRehash(hash: string, cfg: PasswordHashingConfig): boolean {
  if (cfg.algo === 'argon2id') return !hash.startsWith(ARGON2ID_PREFIX);
  return !BCRYPT_PREFIXES.some((p) => hash.startsWith(p));
}

/**
 * Caches verified passwords so repeated logins skip the slow hash. Stores a
 * keyed digest (HMAC with a per-process random key) of the plain password,
 * never the password itself, with the stored hash it matched: a password
 * change alters the hash and so invalidates the entry.
 */
export class PasswordCache {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, { digest: Buffer; hash: string }>();

  constructor(private readonly maxEntries = 10_000) {}

  private digest(plain: string): Buffer {
    return createHmac('sha256', this.key).update(plain, 'utf8').digest();
  }

  /** found=false when no usable entry exists; otherwise match says whether the password equals the cached one. */
  check(username: string, plain: string, storedHash: string): { found: boolean; match: boolean } {
    const e = this.entries.get(username);
    if (!e || e.hash !== storedHash) return { found: false, match: false };
    const match = safeEqual(e.digest, this.digest(plain));
    // A mismatch falls back to the real verification (the cache may be stale).
    return match ? { found: true, match } : { found: false, match: false };
  }

  add(username: string, plain: string, storedHash: string): void {
    if (this.entries.size >= this.maxEntries && !this.entries.has(username)) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(username, { digest: this.digest(plain), hash: storedHash });
  }

  remove(username: string): void {
    this.entries.delete(username);
  }

  clear(): void {
    this.entries.clear();
  }
}
