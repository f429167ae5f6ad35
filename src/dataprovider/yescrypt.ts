/**
 * yescrypt (`$y$`), the default /etc/shadow hash of Debian 11+, Ubuntu 22.04+
 * and Fedora 35+, so accounts imported from a Linux system keep their
 * passwords. Written from the yescrypt 1.1 specification and its reference
 * implementation's documented structure (scrypt's SMix with the pwxform
 * block mix, read-write phase, S-boxes, pre-hashing, SCRAM-style final step);
 * classic scrypt (flavor 0) comes out as a special case and is checked
 * against node's crypto.scrypt in the tests.
 *
 * Words are kept in the reference's "SIMD shuffled" order inside SMix
 * (word i of a 64-byte block holds word i*5 mod 16), because pwxform reads
 * them in that order. Byte views assume a little-endian host, as Node runs on.
 */
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { encode64, parseYescryptSetting, YESCRYPT_RW, YESCRYPT_RW_FLAVOR_MASK, type YescryptParams } from './yescrypt-format';

export { decode64, encode64, parseYescryptSetting, type YescryptParams } from './yescrypt-format';

const YESCRYPT_WORM = 0x001;
/** ROUNDS_6 | GATHER_4 | SIMPLE_2 | SBOX_12K: the only pwxform settings yescrypt 1.x defines */
const RW_DEFAULT_FLAVOR = 0x004 | 0x010 | 0x020 | 0x080;
const PREHASH = 0x10000000;

const PWX_ROUNDS = 6;
const PWX_GATHER = 4;
const PWX_SIMPLE = 2;
const S_WIDTH = 8;
const S_WORDS = (3 * (1 << S_WIDTH) * PWX_SIMPLE * 8) / 4;
/** byte mask of an S-box index: (2^Swidth - 1) * PWXsimple * 8 */
const S_MASK = ((1 << S_WIDTH) - 1) * PWX_SIMPLE * 8;
const S_REGION = (1 << S_WIDTH) * PWX_SIMPLE * 2;

/** Refused above this (memory = 128 * r * N bytes): libxcrypt's highest cost is 1 GiB. */
const MAX_MEMORY = 1024 * 1024 * 1024;

const SHUF = Array.from({ length: 16 }, (_, i) => (i * 5) % 16);

/** Salsa20/`rounds` core on one shuffled 64-byte block at `off`, added into it. */
function salsa20(B: Uint32Array, off: number, rounds: number, x: Uint32Array): void {
  for (let i = 0; i < 16; i++) x[SHUF[i]] = B[off + i];
  for (let i = 0; i < rounds; i += 2) {
    let t: number;
    t = (x[0] + x[12]) | 0; x[4] ^= (t << 7) | (t >>> 25);
    t = (x[4] + x[0]) | 0; x[8] ^= (t << 9) | (t >>> 23);
    t = (x[8] + x[4]) | 0; x[12] ^= (t << 13) | (t >>> 19);
    t = (x[12] + x[8]) | 0; x[0] ^= (t << 18) | (t >>> 14);
    t = (x[5] + x[1]) | 0; x[9] ^= (t << 7) | (t >>> 25);
    t = (x[9] + x[5]) | 0; x[13] ^= (t << 9) | (t >>> 23);
    t = (x[13] + x[9]) | 0; x[1] ^= (t << 13) | (t >>> 19);
    t = (x[1] + x[13]) | 0; x[5] ^= (t << 18) | (t >>> 14);
    t = (x[10] + x[6]) | 0; x[14] ^= (t << 7) | (t >>> 25);
    t = (x[14] + x[10]) | 0; x[2] ^= (t << 9) | (t >>> 23);
    t = (x[2] + x[14]) | 0; x[6] ^= (t << 13) | (t >>> 19);
    t = (x[6] + x[2]) | 0; x[10] ^= (t << 18) | (t >>> 14);
    t = (x[15] + x[11]) | 0; x[3] ^= (t << 7) | (t >>> 25);
    t = (x[3] + x[15]) | 0; x[7] ^= (t << 9) | (t >>> 23);
    t = (x[7] + x[3]) | 0; x[11] ^= (t << 13) | (t >>> 19);
    t = (x[11] + x[7]) | 0; x[15] ^= (t << 18) | (t >>> 14);
    t = (x[0] + x[3]) | 0; x[1] ^= (t << 7) | (t >>> 25);
    t = (x[1] + x[0]) | 0; x[2] ^= (t << 9) | (t >>> 23);
    t = (x[2] + x[1]) | 0; x[3] ^= (t << 13) | (t >>> 19);
    t = (x[3] + x[2]) | 0; x[0] ^= (t << 18) | (t >>> 14);
    t = (x[5] + x[4]) | 0; x[6] ^= (t << 7) | (t >>> 25);
    t = (x[6] + x[5]) | 0; x[7] ^= (t << 9) | (t >>> 23);
    t = (x[7] + x[6]) | 0; x[4] ^= (t << 13) | (t >>> 19);
    t = (x[4] + x[7]) | 0; x[5] ^= (t << 18) | (t >>> 14);
    t = (x[10] + x[9]) | 0; x[11] ^= (t << 7) | (t >>> 25);
    t = (x[11] + x[10]) | 0; x[8] ^= (t << 9) | (t >>> 23);
    t = (x[8] + x[11]) | 0; x[9] ^= (t << 13) | (t >>> 19);
    t = (x[9] + x[8]) | 0; x[10] ^= (t << 18) | (t >>> 14);
    t = (x[15] + x[14]) | 0; x[12] ^= (t << 7) | (t >>> 25);
    t = (x[12] + x[15]) | 0; x[13] ^= (t << 9) | (t >>> 23);
    t = (x[13] + x[12]) | 0; x[14] ^= (t << 13) | (t >>> 19);
    t = (x[14] + x[13]) | 0; x[15] ^= (t << 18) | (t >>> 14);
  }
  for (let i = 0; i < 16; i++) B[off + i] = (B[off + i] + x[SHUF[i]]) >>> 0;
}

/** The S-boxes of one SMix lane: three regions rotating roles after every pwxform. */
interface Pwx { S: Uint32Array; s0: number; s1: number; s2: number; w: number }

/** pwxform on the 16 words of `X` (PWXgather=4 lanes of PWXsimple=2 64-bit words). */
function pwxform(X: Uint32Array, ctx: Pwx): void {
  const S = ctx.S;
  const s0 = ctx.s0;
  const s1 = ctx.s1;
  const s2 = ctx.s2;
  let w = ctx.w;
  for (let i = 0; i < PWX_ROUNDS; i++) {
    for (let j = 0; j < PWX_GATHER; j++) {
      const base = j * 4;
      const p0 = s0 + ((X[base] & S_MASK) >>> 2);
      const p1 = s1 + ((X[base + 1] & S_MASK) >>> 2);
      for (let k = 0; k < PWX_SIMPLE; k++) {
        const xi = base + k * 2;
        const a = X[xi + 1];
        const b = X[xi];
        // 64-bit product of two 32-bit words: low word from imul, high word from
        // two partial products that stay below 2^53 (exact in doubles)
        const aH = a >>> 16;
        const aL = a & 0xffff;
        const low = Math.imul(a, b) >>> 0;
        const high = Math.floor((aH * b + Math.floor((aL * b) / 0x10000)) / 0x10000);
        const sum = low + S[p0 + k * 2];
        const lo = (sum >>> 0) ^ S[p1 + k * 2];
        const hi = ((high + S[p0 + k * 2 + 1] + (sum >= 0x100000000 ? 1 : 0)) >>> 0) ^ S[p1 + k * 2 + 1];
        X[xi] = lo;
        X[xi + 1] = hi;
      }
      if (i !== 0 && i !== PWX_ROUNDS - 1) {
        for (let k = 0; k < PWX_SIMPLE; k++) {
          S[s2 + w * 2] = X[base + k * 2];
          S[s2 + w * 2 + 1] = X[base + k * 2 + 1];
          w++;
        }
      }
    }
  }
  ctx.s0 = s2;
  ctx.s1 = s0;
  ctx.s2 = s1;
  ctx.w = w & ((1 << S_WIDTH) * PWX_SIMPLE - 1);
}

interface Scratch { X: Uint32Array; Y: Uint32Array; blk: Uint32Array; salsa: Uint32Array }

function blockmixSalsa8(B: Uint32Array, r: number, sc: Scratch): void {
  const { Y, blk } = sc;
  blk.set(B.subarray((2 * r - 1) * 16, 2 * r * 16));
  for (let i = 0; i < 2 * r; i++) {
    for (let k = 0; k < 16; k++) blk[k] ^= B[i * 16 + k];
    salsa20(blk, 0, 8, sc.salsa);
    Y.set(blk, i * 16);
  }
  for (let i = 0; i < r; i++) B.set(Y.subarray(i * 32, i * 32 + 16), i * 16);
  for (let i = 0; i < r; i++) B.set(Y.subarray(i * 32 + 16, i * 32 + 32), (i + r) * 16);
}

function blockmixPwxform(B: Uint32Array, r: number, ctx: Pwx, sc: Scratch): void {
  const X = sc.blk;
  const r1 = 2 * r;
  X.set(B.subarray((r1 - 1) * 16, r1 * 16));
  for (let i = 0; i < r1; i++) {
    if (r1 > 1) for (let k = 0; k < 16; k++) X[k] ^= B[i * 16 + k];
    pwxform(X, ctx);
    B.set(X, i * 16);
  }
  salsa20(B, (r1 - 1) * 16, 2, sc.salsa);
}

function blockmix(X: Uint32Array, r: number, ctx: Pwx | undefined, sc: Scratch): void {
  if (ctx) blockmixPwxform(X, r, ctx, sc);
  else blockmixSalsa8(X, r, sc);
}

/** Low 32 bits of Integerify (enough: N is at most 2^30 here). */
function integerify(X: Uint32Array, r: number): number {
  return X[(2 * r - 1) * 16];
}

const p2floor = (x: number): number => 2 ** Math.floor(Math.log2(x));

function wrap(x: number, i: number): number {
  const n = p2floor(i);
  return (x & (n - 1)) + (i - n);
}

function loadShuffled(X: Uint32Array, B: Uint32Array, off: number, r: number): void {
  for (let k = 0; k < 2 * r; k++) for (let i = 0; i < 16; i++) X[k * 16 + i] = B[off + k * 16 + SHUF[i]];
}

function storeShuffled(B: Uint32Array, off: number, X: Uint32Array, r: number): void {
  for (let k = 0; k < 2 * r; k++) for (let i = 0; i < 16; i++) B[off + k * 16 + SHUF[i]] = X[k * 16 + i];
}

function smix1(B: Uint32Array, off: number, r: number, N: number, flags: number, V: Uint32Array, vOff: number, ctx: Pwx | undefined, sc: Scratch): void {
  const s = 32 * r;
  const X = sc.X.subarray(0, s);
  loadShuffled(X, B, off, r);
  for (let i = 0; i < N; i++) {
    V.set(X, vOff + i * s);
    if ((flags & YESCRYPT_RW) && i > 1) {
      const j = wrap(integerify(X, r), i);
      for (let k = 0; k < s; k++) X[k] ^= V[vOff + j * s + k];
    }
    blockmix(X, r, ctx, sc);
  }
  storeShuffled(B, off, X, r);
}

function smix2(B: Uint32Array, off: number, r: number, N: number, nLoop: number, flags: number, V: Uint32Array, vOff: number, ctx: Pwx | undefined, sc: Scratch): void {
  if (nLoop === 0) return;
  const s = 32 * r;
  const X = sc.X.subarray(0, s);
  loadShuffled(X, B, off, r);
  for (let i = 0; i < nLoop; i++) {
    const j = integerify(X, r) & (N - 1);
    const vj = vOff + j * s;
    for (let k = 0; k < s; k++) X[k] ^= V[vj + k];
    if (flags & YESCRYPT_RW) V.set(X, vj);
    blockmix(X, r, ctx, sc);
  }
  storeShuffled(B, off, X, r);
}

function smix(B: Uint32Array, r: number, N: number, p: number, t: number, flags: number, V: Uint32Array, S: Uint32Array | undefined, passwd: Buffer | undefined, sc: Scratch): void {
  const s = 32 * r;
  let nChunk = Math.floor(N / p);
  let nLoopAll = nChunk;
  if (flags & YESCRYPT_RW) {
    if (t <= 1) {
      if (t) nLoopAll *= 2;
      nLoopAll = Math.floor((nLoopAll + 2) / 3);
    } else {
      nLoopAll *= t - 1;
    }
  } else if (t) {
    if (t === 1) nLoopAll += Math.floor((nLoopAll + 1) / 2);
    nLoopAll *= t;
  }
  let nLoopRw = flags & YESCRYPT_RW ? Math.floor(nLoopAll / p) : 0;
  nChunk -= nChunk % 2;
  nLoopAll += nLoopAll % 2;
  nLoopRw += nLoopRw % 2;
  const ctxs: (Pwx | undefined)[] = [];
  for (let i = 0, vChunk = 0; i < p; i++, vChunk += nChunk) {
    const np = i < p - 1 ? nChunk : N - vChunk;
    const bOff = s * i;
    let ctx: Pwx | undefined;
    if (S) {
      const sOff = i * S_WORDS;
      // the lane's S-boxes are the V of a classic SMix1 over Sbytes / 128 blocks
      smix1(B, bOff, 1, (S_WORDS * 4) / 128, flags & ~YESCRYPT_RW, S, sOff, undefined, sc);
      ctx = { S, s2: sOff, s1: sOff + S_REGION, s0: sOff + 2 * S_REGION, w: 0 };
    }
    ctxs.push(ctx);
    if (i === 0 && passwd) {
      const bytes = Buffer.from(B.buffer, B.byteOffset + (bOff + s - 16) * 4, 64);
      createHmac('sha256', bytes).update(passwd).digest().copy(passwd);
    }
    smix1(B, bOff, r, np, flags, V, s * vChunk, ctx, sc);
    smix2(B, bOff, r, p2floor(np), nLoopRw, flags, V, s * vChunk, ctx, sc);
  }
  for (let i = 0; i < p; i++) {
    smix2(B, s * i, r, N, nLoopAll - nLoopRw, flags & ~YESCRYPT_RW, V, 0, ctxs[i], sc);
  }
}

function kdfBody(password: Buffer, salt: Buffer, flags: number, N: number, r: number, p: number, t: number, dkLen: number): Buffer {
  const mode = flags & 3;
  if (mode === 0 ? flags !== 0 : mode === YESCRYPT_WORM ? flags !== YESCRYPT_WORM : mode !== YESCRYPT_RW || (flags & YESCRYPT_RW_FLAVOR_MASK) !== RW_DEFAULT_FLAVOR || (flags & ~(YESCRYPT_RW | YESCRYPT_RW_FLAVOR_MASK | PREHASH)) !== 0) {
    throw new Error('unsupported yescrypt flavor');
  }
  if (mode === 0 && t !== 0) throw new Error('classic scrypt takes no t');
  if (N < 2 || (N & (N - 1)) !== 0 || r < 1 || p < 1 || 128 * r * N > MAX_MEMORY || 128 * r * p > MAX_MEMORY) throw new Error('yescrypt parameters out of range');
  if ((flags & YESCRYPT_RW) && (N / p < 2 || r * p >= 2 ** 30)) throw new Error('yescrypt parameters out of range');
  let passwd = password;
  if (flags) {
    passwd = createHmac('sha256', (flags & PREHASH) ? 'yescrypt-prehash' : 'yescrypt').update(password).digest();
  }
  const Bbuf = pbkdf2Sync(passwd, salt, 1, 128 * r * p, 'sha256');
  const B = new Uint32Array(Bbuf.buffer.slice(Bbuf.byteOffset, Bbuf.byteOffset + Bbuf.length));
  // later steps key on the first 32 bytes of B (the reference's `sha256` buffer)
  const sha256 = flags ? Buffer.from(Bbuf.subarray(0, 32)) : undefined;
  const V = new Uint32Array(32 * r * N);
  const S = flags & YESCRYPT_RW ? new Uint32Array(S_WORDS * p) : undefined;
  const sc: Scratch = { X: new Uint32Array(32 * r), Y: new Uint32Array(32 * r), blk: new Uint32Array(16), salsa: new Uint32Array(16) };
  if (p === 1 || (flags & YESCRYPT_RW)) {
    smix(B, r, N, p, t, flags, V, S, sha256, sc);
  } else {
    for (let i = 0; i < p; i++) smix(B.subarray(32 * r * i), r, N, 1, t, flags, V, undefined, undefined, sc);
  }
  const finalPass = sha256 ?? passwd;
  const Bbytes = Buffer.from(B.buffer, B.byteOffset, B.byteLength);
  const dk = pbkdf2Sync(finalPass, Bbytes, 1, Math.max(dkLen, 32), 'sha256');
  if (flags && !(flags & PREHASH)) {
    const clientKey = createHmac('sha256', dk.subarray(0, 32)).update('Client Key').digest();
    const storedKey = createHash('sha256').update(clientKey).digest();
    return Buffer.concat([storedKey, dk.subarray(32)]).subarray(0, dkLen);
  }
  return dk.subarray(0, dkLen);
}

/** yescrypt_kdf: the pre-hashing pass for large RW costs, then the main pass. */
export function yescryptKdf(password: Buffer, salt: Buffer, params: YescryptParams, dkLen = 32): Buffer {
  const { flags, N, r, p, t } = params;
  let passwd = password;
  if ((flags & YESCRYPT_RW) && p >= 1 && N / p >= 0x100 && (N / p) * r >= 0x20000) {
    passwd = kdfBody(password, salt, flags | PREHASH, N / 64, r, p, 0, 32);
  }
  return kdfBody(passwd, salt, flags, N, r, p, t, dkLen);
}

/** The full crypt(3) string for a password and an existing `$y$` setting (undefined when unsupported). */
export function yescryptCrypt(password: string, setting: string): string | undefined {
  const parsed = parseYescryptSetting(setting);
  if (!parsed) return undefined;
  const hash = yescryptKdf(Buffer.from(password, 'utf8'), parsed.salt, parsed.params, 32);
  return parsed.prefix + encode64(hash);
}
