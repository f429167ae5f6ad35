/** CIDR parsing and matching for allowed_ip / denied_ip / allow_list filters. */
import { BlockList, isIP } from 'node:net';

export interface ParsedCidr { address: string; prefix: number; family: 'ipv4' | 'ipv6' }

/** Parses "a.b.c.d/n" or "x::y/n"; undefined when invalid. */
export function parseCidr(value: string): ParsedCidr | undefined {
  const slash = value.indexOf('/');
  if (slash <= 0) return undefined;
  const address = value.slice(0, slash);
  const prefixText = value.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number.parseInt(prefixText, 10);
  const v = isIP(address);
  if (v === 4 && prefix <= 32) return { address, prefix, family: 'ipv4' };
  if (v === 6 && prefix <= 128) return { address, prefix, family: 'ipv6' };
  return undefined;
}

/** Node reports IPv4 clients on dual-stack sockets as ::ffff:a.b.c.d; match them as IPv4. */
export function normalizeIp(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1]! : ip;
}

/** Builds a matcher for a list of CIDRs (invalid entries were rejected by validation; skipped here). */
export function cidrMatcher(cidrs: readonly string[] | undefined): (ip: string) => boolean {
  if (!cidrs || cidrs.length === 0) return () => false;
  const list = new BlockList();
  for (const c of cidrs) {
    const p = parseCidr(c);
    if (p) list.addSubnet(p.address, p.prefix, p.family);
  }
  return (ip: string): boolean => {
    const n = normalizeIp(ip);
    const v = isIP(n);
    if (v === 0) return false;
    return list.check(n, v === 4 ? 'ipv4' : 'ipv6');
  };
}
