/**
 * IP addresses and networks as bytes, and a longest-prefix-match table.
 *
 * The table keeps one hash map per prefix length that is in use: a lookup
 * masks the address once per such length, longest first, so its cost depends
 * on how many distinct prefix lengths the list has (a handful in practice,
 * at most 33 for IPv4 / 129 for IPv6), never on how many entries it holds.
 * A binary trie would cost up to 128 node hops and one object per bit.
 */
import { isIP } from 'node:net';

export interface ParsedNet {
  bytes: Uint8Array;
  prefix: number;
  /** canonical text: masked address "/" prefix, IPv4-mapped IPv6 written as IPv4 */
  text: string;
}

/** "::ffff:1.2.3.4" → "1.2.3.4": dual-stack sockets report IPv4 clients that way. */
export function normalizeIp(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1]! : ip;
}

function parseV4(s: string, out: Uint8Array, at: number): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p)) return false;
    const n = Number(p);
    if (n > 255) return false;
    out[at + i] = n;
  }
  return true;
}

function parseGroups(s: string): number[] | undefined {
  if (s === '') return [];
  const out: number[] = [];
  for (const g of s.split(':')) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    out.push(Number.parseInt(g, 16));
  }
  return out;
}

/** 4 bytes for IPv4 (and IPv4-mapped IPv6), 16 for IPv6; undefined when not an address. */
export function ipBytes(input: string): Uint8Array | undefined {
  const ip = normalizeIp(input.trim());
  const family = isIP(ip);
  if (family === 4) {
    const b = new Uint8Array(4);
    return parseV4(ip, b, 0) ? b : undefined;
  }
  if (family !== 6) return undefined;
  const zone = ip.indexOf('%');
  let s = (zone >= 0 ? ip.slice(0, zone) : ip).toLowerCase();
  const tail = new Uint8Array(4);
  let tailGroups = 0;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    if (!parseV4(s.slice(lastColon + 1), tail, 0)) return undefined;
    s = `${s.slice(0, lastColon + 1)}0:0`;
    tailGroups = 2;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0]!);
  const rest = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const fill = 8 - head.length - rest.length;
  if ((halves.length === 1 && fill !== 0) || fill < 0) return undefined;
  const groups = [...head, ...new Array<number>(fill).fill(0), ...rest];
  const b = new Uint8Array(16);
  groups.forEach((g, i) => { b[i * 2] = g >> 8; b[i * 2 + 1] = g & 0xff; });
  if (tailGroups) b.set(tail, 12);
  // IPv4-mapped in hex form ("::ffff:102:304") is the IPv4 address too
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return b.slice(12);
  return b;
}

function mask(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.min(8, Math.max(0, prefix - i * 8));
    out[i] = bits === 0 ? 0 : bytes[i]! & (0xff << (8 - bits));
  }
  return out;
}

export function bytesToIp(b: Uint8Array): string {
  if (b.length === 4) return Array.from(b).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  // RFC 5952: the longest run (2+) of zero groups becomes "::"
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** "10.0.0.0/8", "fd00::/8" or a bare address (a /32 or /128); the host bits are cleared. */
export function parseNet(input: string): ParsedNet | undefined {
  const s = input.trim();
  const slash = s.indexOf('/');
  const addr = slash < 0 ? s : s.slice(0, slash);
  let bytes = ipBytes(addr);
  if (!bytes) return undefined;
  let prefix = bytes.length * 8;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return undefined;
    prefix = Number(p);
    // an IPv4-mapped IPv6 network: its prefix counts the 96 mapping bits
    if (bytes.length === 4 && isIP(addr) === 6) prefix -= 96;
    if (prefix < 0 || prefix > bytes.length * 8) return undefined;
  }
  bytes = mask(bytes, prefix);
  return { bytes, prefix, text: `${bytesToIp(bytes)}/${prefix}` };
}

function key(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** Networks → values; `match` returns the value of the longest network holding the address that `accept` takes. */
export class PrefixTable<T> {
  /** per family (4 / 16 bytes): prefix length → masked address key → values */
  private readonly tables = new Map<number, Map<number, Map<string, T[]>>>();
  private count = 0;

  get size(): number { return this.count; }

  add(net: ParsedNet, value: T): void {
    const fam = this.family(net.bytes.length);
    let byLen = fam.get(net.prefix);
    if (!byLen) {
      byLen = new Map();
      fam.set(net.prefix, byLen);
      this.sortLengths(net.bytes.length);
    }
    const k = key(net.bytes);
    const list = byLen.get(k);
    if (list) list.push(value);
    else byLen.set(k, [value]);
    this.count++;
  }

  /** Removes the values of `net` for which `which` is true. */
  remove(net: ParsedNet, which: (v: T) => boolean): void {
    const fam = this.tables.get(net.bytes.length);
    const byLen = fam?.get(net.prefix);
    const k = key(net.bytes);
    const list = byLen?.get(k);
    if (!fam || !byLen || !list) return;
    const kept = list.filter((v) => !which(v));
    this.count -= list.length - kept.length;
    if (kept.length > 0) byLen.set(k, kept);
    else byLen.delete(k);
    if (byLen.size === 0) fam.delete(net.prefix);
  }

  clear(): void {
    this.tables.clear();
    this.count = 0;
  }

  match(ip: string | Uint8Array, accept: (v: T) => boolean = () => true): T | undefined {
    const bytes = typeof ip === 'string' ? ipBytes(ip) : ip;
    if (!bytes) return undefined;
    const fam = this.tables.get(bytes.length);
    if (!fam) return undefined;
    for (const [prefix, byLen] of fam) {
      const list = byLen.get(key(mask(bytes, prefix)));
      if (!list) continue;
      for (const v of list) if (accept(v)) return v;
    }
    return undefined;
  }

  private family(len: number): Map<number, Map<string, T[]>> {
    let fam = this.tables.get(len);
    if (!fam) {
      fam = new Map();
      this.tables.set(len, fam);
    }
    return fam;
  }

  /** Map iteration follows insertion order: keep the prefix lengths longest first. */
  private sortLengths(len: number): void {
    const fam = this.family(len);
    const sorted = [...fam.entries()].sort((a, b) => b[0] - a[0]);
    fam.clear();
    for (const [p, m] of sorted) fam.set(p, m);
  }
}

/** A fixed set of networks (proxy_allowed, proxy_skipped); invalid entries throw with the entry named. */
export function compileNetList(entries: readonly string[], what: string): (ip: string) => boolean {
  const table = new PrefixTable<true>();
  for (const e of entries) {
    const n = parseNet(e);
    if (!n) throw new Error(`${what}: invalid IP address or network "${e}"`);
    table.add(n, true);
  }
  if (table.size === 0) return () => false;
  return (ip) => table.match(ip) !== undefined;
}
