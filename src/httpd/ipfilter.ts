/** CIDR allow-list checks (admin `filters.allow_list`) on Node's BlockList. */
import { BlockList, isIP } from 'node:net';

/** "::ffff:1.2.3.4" (dual-stack listeners) is checked as the IPv4 address it carries. */
export function normalizeIp(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1] : ip;
}

/** True when the list is empty or the address is inside one of its networks. Bad entries never match. */
export function ipAllowed(ip: string, cidrs: readonly string[] | undefined): boolean {
  if (!cidrs || cidrs.length === 0) return true;
  const addr = normalizeIp(ip);
  const family = isIP(addr);
  if (family === 0) return false;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const list = new BlockList();
  for (const entry of cidrs) {
    const [net, bits] = entry.trim().split('/');
    const netFamily = isIP(net);
    if (netFamily === 0) continue;
    const netType = netFamily === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) {
      list.addAddress(net, netType);
      continue;
    }
    const prefix = Number(bits);
    const max = netFamily === 4 ? 32 : 128;
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) continue;
    list.addSubnet(net, prefix, netType);
  }
  return list.check(addr, type);
}
