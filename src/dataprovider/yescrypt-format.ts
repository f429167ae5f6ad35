/**
 * yescrypt's crypt(3) string: `$y$<params>$<salt>$<hash>` with its own
 * variable-length parameter encoding and little-endian base-64 (yescrypt 1.1
 * specification). The KDF itself is in yescrypt.ts.
 */

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export const YESCRYPT_RW = 0x002;
export const YESCRYPT_RW_SHIFT = 2;
export const YESCRYPT_RW_FLAVOR_MASK = 0x3fc;

export interface YescryptParams { flags: number; N: number; r: number; p: number; t: number }

function atoi64(c: string): number {
  const i = ITOA64.indexOf(c);
  return i < 0 || c === '' ? 64 : i;
}

/** yescrypt's variable-length little-endian integer encoding of the parameters. */
function decodeUint32(src: string, pos: number, min: number): { value: number; pos: number } | undefined {
  let start = 0;
  let end = 47;
  let chars = 1;
  let bits = 0;
  let c = atoi64(src[pos++] ?? '');
  if (c > 63) return undefined;
  let value = min;
  while (c > end) {
    value += (end + 1 - start) * 2 ** bits;
    start = end + 1;
    end = start + Math.floor((62 - end) / 2);
    chars++;
    bits += 6;
  }
  value += (c - start) * 2 ** bits;
  while (--chars) {
    c = atoi64(src[pos++] ?? '');
    if (c > 63) return undefined;
    bits -= 6;
    value += c * 2 ** bits;
  }
  return value > 0xffffffff ? undefined : { value, pos };
}

/** yescrypt's base-64 of bytes (little-endian 24-bit groups); undefined when not canonical. */
export function decode64(s: string): Buffer | undefined {
  const out: number[] = [];
  for (let i = 0; i < s.length; i += 4) {
    const group = s.slice(i, i + 4);
    if (group.length < 2) return undefined;
    let value = 0;
    for (let k = 0; k < group.length; k++) {
      const c = atoi64(group[k]);
      if (c > 63) return undefined;
      value += c * 2 ** (6 * k);
    }
    const bytes = group.length === 4 ? 3 : group.length - 1;
    for (let k = 0; k < bytes; k++) out.push(Math.floor(value / 2 ** (8 * k)) & 0xff);
    if (Math.floor(value / 2 ** (8 * bytes)) !== 0) return undefined;
  }
  return Buffer.from(out);
}

export function encode64(b: Uint8Array): string {
  let out = '';
  for (let i = 0; i < b.length; i += 3) {
    const n = Math.min(3, b.length - i);
    let value = 0;
    for (let k = 0; k < n; k++) value += b[i + k] * 2 ** (8 * k);
    for (let bits = 0; bits < n * 8; bits += 6) out += ITOA64[Math.floor(value / 2 ** bits) & 0x3f];
  }
  return out;
}

/** Splits `$y$<params>$<salt>$<hash>`; undefined for anything malformed or unsupported. */
export function parseYescryptSetting(hash: string): { params: YescryptParams; prefix: string; salt: Buffer; expected: string } | undefined {
  if (!hash.startsWith('$y$')) return undefined;
  let pos = 3;
  const flavor = decodeUint32(hash, pos, 0);
  if (!flavor) return undefined;
  pos = flavor.pos;
  let flags: number;
  if (flavor.value < YESCRYPT_RW) flags = flavor.value;
  else if (flavor.value <= YESCRYPT_RW + (YESCRYPT_RW_FLAVOR_MASK >> YESCRYPT_RW_SHIFT)) flags = YESCRYPT_RW + ((flavor.value - YESCRYPT_RW) << YESCRYPT_RW_SHIFT);
  else return undefined;
  const nLog2 = decodeUint32(hash, pos, 1);
  if (!nLog2 || nLog2.value > 30) return undefined;
  const r = decodeUint32(hash, nLog2.pos, 1);
  if (!r) return undefined;
  pos = r.pos;
  const params: YescryptParams = { flags, N: 2 ** nLog2.value, r: r.value, p: 1, t: 0 };
  if (hash[pos] !== '$') {
    const have = decodeUint32(hash, pos, 1);
    if (!have) return undefined;
    pos = have.pos;
    // 4 (g, hash upgrades) and 8 (ROM) are not supported by yescrypt 1.x's crypt either
    if (have.value & ~3) return undefined;
    if (have.value & 1) {
      const p = decodeUint32(hash, pos, 2);
      if (!p) return undefined;
      params.p = p.value;
      pos = p.pos;
    }
    if (have.value & 2) {
      const t = decodeUint32(hash, pos, 1);
      if (!t) return undefined;
      params.t = t.value;
      pos = t.pos;
    }
  }
  if (hash[pos++] !== '$') return undefined;
  const rest = hash.slice(pos);
  const dollar = rest.lastIndexOf('$');
  if (dollar < 0) return undefined;
  const salt = decode64(rest.slice(0, dollar));
  if (!salt) return undefined;
  return { params, prefix: hash.slice(0, pos + dollar + 1), salt, expected: rest.slice(dollar + 1) };
}
