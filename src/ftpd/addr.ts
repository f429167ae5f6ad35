/** Address helpers for the FTP data channel (PORT/EPRT/PASV/EPSV). */
import * as net from 'node:net';

/** "::ffff:1.2.3.4" → "1.2.3.4", so IPv4 clients on a dual-stack socket compare equal. */
export function normalizeIp(ip: string | undefined): string {
  if (!ip) return '';
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m?.[1] ?? ip.toLowerCase();
}

export function sameIp(a: string | undefined, b: string | undefined): boolean {
  return normalizeIp(a) !== '' && normalizeIp(a) === normalizeIp(b);
}

export interface HostPort { host: string; port: number }

/** PORT h1,h2,h3,h4,p1,p2 */
export function parsePort(arg: string): HostPort | undefined {
  const parts = arg.trim().split(',');
  if (parts.length !== 6 || !parts.every((p) => /^\d{1,3}$/.test(p))) return undefined;
  const n = parts.map(Number);
  if (n.some((x) => x > 255)) return undefined;
  const port = n[4]! * 256 + n[5]!;
  if (port === 0) return undefined;
  return { host: n.slice(0, 4).join('.'), port };
}

/** EPRT |1|132.235.1.2|6275| or |2|::1|6275| (RFC 2428) */
export function parseEprt(arg: string): HostPort | undefined {
  const s = arg.trim();
  if (s.length < 7) return undefined;
  const d = s[0]!;
  const parts = s.split(d);
  if (parts.length !== 5 || parts[0] !== '' || parts[4] !== '') return undefined;
  const [, proto, host, portStr] = parts as [string, string, string, string, string];
  const fam = net.isIP(host);
  if ((proto === '1' && fam !== 4) || (proto === '2' && fam !== 6) || (proto !== '1' && proto !== '2')) return undefined;
  if (!/^\d{1,5}$/.test(portStr)) return undefined;
  const port = Number(portStr);
  if (port < 1 || port > 65535) return undefined;
  return { host, port };
}

/** Is `ip` inside CIDR `network` ("10.0.0.0/8", "fd00::/8", or a bare address)? */
export function inNetwork(ip: string, network: string): boolean {
  const [base, bitsStr] = network.split('/');
  if (!base) return false;
  const addr = normalizeIp(ip);
  const fam = net.isIP(base);
  if (fam === 0 || net.isIP(addr) !== fam) return false;
  const bits = bitsStr === undefined ? (fam === 4 ? 32 : 128) : Number(bitsStr);
  if (!Number.isInteger(bits) || bits < 0) return false;
  const bl = new net.BlockList();
  try {
    bl.addSubnet(base, bits, fam === 4 ? 'ipv4' : 'ipv6');
  } catch {
    return false;
  }
  return bl.check(addr, fam === 4 ? 'ipv4' : 'ipv6');
}
