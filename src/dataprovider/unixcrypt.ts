/**
 * The Unix crypt(3) hash families SFTPGo can verify: md5crypt (`$1$`), Apache
 * apr1 (`$apr1$`), sha256crypt (`$5$`) and sha512crypt (`$6$`). Written from
 * the public specifications (P.-H. Kamp's md5crypt, U. Drepper's SHA-crypt),
 * so users migrated from /etc/shadow or htpasswd keep their passwords.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** crypt's little-endian 6-bit encoding of a 24-bit group into n characters. */
function to64(value: number, n: number): string {
  let out = '';
  let v = value;
  for (let i = 0; i < n; i++) {
    out += ITOA64[v & 0x3f];
    v >>>= 6;
  }
  return out;
}

function encodeGroups(digest: Buffer, groups: readonly (readonly number[])[], tail: readonly number[]): string {
  let out = '';
  for (const [a, b, c] of groups) out += to64((digest[a]! << 16) | (digest[b]! << 8) | digest[c]!, 4);
  if (tail.length === 1) out += to64(digest[tail[0]!]!, 2);
  else out += to64((digest[tail[0]!]! << 8) | digest[tail[1]!]!, 3);
  return out;
}

function md5(...parts: Buffer[]): Buffer {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
}

const MD5_GROUPS = [[0, 6, 12], [1, 7, 13], [2, 8, 14], [3, 9, 15], [4, 10, 5]] as const;

/** md5crypt with the given magic ("$1$" or "$apr1$"); salt is at most 8 chars. */
export function md5Crypt(password: string, salt: string, magic: '$1$' | '$apr1$'): string {
  const pw = Buffer.from(password, 'utf8');
  const s = Buffer.from(salt.slice(0, 8), 'utf8');
  const mg = Buffer.from(magic, 'utf8');
  const alt = md5(pw, s, pw);
  const parts: Buffer[] = [pw, mg, s];
  for (let left = pw.length; left > 0; left -= 16) parts.push(alt.subarray(0, Math.min(16, left)));
  // The "odd" historical step: one byte per bit of the length.
  for (let i = pw.length; i > 0; i >>>= 1) parts.push((i & 1) ? Buffer.alloc(1) : pw.subarray(0, 1));
  let final = md5(...parts);
  for (let i = 0; i < 1000; i++) {
    const round: Buffer[] = [];
    round.push((i & 1) ? pw : final);
    if (i % 3) round.push(s);
    if (i % 7) round.push(pw);
    round.push((i & 1) ? final : pw);
    final = md5(...round);
  }
  return `${magic}${s.toString('utf8')}$${encodeGroups(final, MD5_GROUPS, [11])}`;
}

const SHA256_GROUPS = [[0, 10, 20], [21, 1, 11], [12, 22, 2], [3, 13, 23], [24, 4, 14],
  [15, 25, 5], [6, 16, 26], [27, 7, 17], [18, 28, 8], [9, 19, 29]] as const;
const SHA512_GROUPS = [[0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4],
  [47, 5, 26], [6, 27, 48], [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10],
  [53, 11, 32], [12, 33, 54], [34, 55, 13], [56, 14, 35], [15, 36, 57], [37, 58, 16],
  [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41]] as const;

const ROUNDS_DEFAULT = 5000;
const ROUNDS_MIN = 1000;
const ROUNDS_MAX = 999_999_999;

/** Repeats `src` cyclically to exactly `len` bytes. */
function stretch(src: Buffer, len: number): Buffer {
  const out = Buffer.alloc(len);
  for (let off = 0; off < len; off += src.length) src.copy(out, off, 0, Math.min(src.length, len - off));
  return out;
}

/**
 * SHA-crypt ($5$ / $6$). `rounds` undefined means the implicit default, which
 * is then not written in the output (as glibc does).
 */
export function shaCrypt(password: string, salt: string, algo: 'sha256' | 'sha512', rounds?: number): string {
  const H = (...parts: Buffer[]): Buffer => {
    const h = createHash(algo);
    for (const p of parts) h.update(p);
    return h.digest();
  };
  const pw = Buffer.from(password, 'utf8');
  const s = Buffer.from(salt, 'utf8').subarray(0, 16);
  const n = rounds === undefined ? ROUNDS_DEFAULT : Math.min(ROUNDS_MAX, Math.max(ROUNDS_MIN, rounds));
  const b = H(pw, s, pw);
  const aParts: Buffer[] = [pw, s, stretch(b, pw.length)];
  for (let i = pw.length; i > 0; i >>>= 1) aParts.push((i & 1) ? b : pw);
  const a = H(...aParts);
  const dp = H(...Array.from({ length: pw.length }, () => pw));
  const pSeq = stretch(dp, pw.length);
  const ds = H(...Array.from({ length: 16 + a[0]! }, () => s));
  const sSeq = stretch(ds, s.length);
  let c = a;
  for (let i = 0; i < n; i++) {
    const round: Buffer[] = [];
    round.push((i & 1) ? pSeq : c);
    if (i % 3) round.push(sSeq);
    if (i % 7) round.push(pSeq);
    round.push((i & 1) ? c : pSeq);
    c = H(...round);
  }
  const magic = algo === 'sha256' ? '$5$' : '$6$';
  const roundsPart = rounds === undefined ? '' : `rounds=${n}$`;
  const encoded = algo === 'sha256'
    ? encodeGroups(c, SHA256_GROUPS, [31, 30])
    : encodeGroups(c, SHA512_GROUPS, [63]);
  return `${magic}${roundsPart}${s.toString('utf8')}$${encoded}`;
}

/** Verifies a `$1$`, `$apr1$`, `$5$` or `$6$` hash; false on malformed input. */
export function verifyUnixCrypt(password: string, hash: string): boolean {
  let computed: string;
  if (hash.startsWith('$1$') || hash.startsWith('$apr1$')) {
    const magic = hash.startsWith('$1$') ? '$1$' : '$apr1$';
    const rest = hash.slice(magic.length);
    const dollar = rest.indexOf('$');
    if (dollar < 0) return false;
    computed = md5Crypt(password, rest.slice(0, dollar), magic);
  } else if (hash.startsWith('$5$') || hash.startsWith('$6$')) {
    const algo = hash.startsWith('$5$') ? 'sha256' : 'sha512';
    const fields = hash.slice(3).split('$');
    let rounds: number | undefined;
    if (fields[0]?.startsWith('rounds=')) {
      rounds = Number.parseInt(fields[0].slice('rounds='.length), 10);
      if (!Number.isFinite(rounds) || rounds <= 0) return false;
      fields.shift();
    }
    if (fields.length !== 2) return false;
    computed = shaCrypt(password, fields[0]!, algo, rounds);
  } else {
    return false;
  }
  const x = Buffer.from(computed, 'utf8');
  const y = Buffer.from(hash, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
