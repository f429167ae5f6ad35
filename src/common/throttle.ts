/**
 * Per-transfer bandwidth limit: a token bucket (capacity = one second of
 * bandwidth) that makes the caller wait instead of dropping data.
 */
import { BlockList, isIP } from 'node:net';
import type { User } from '../dataprovider/models';

export class Throttle {
  private tokens: number;
  private last = Date.now();

  /** `bytesPerSecond` 0 = unlimited */
  constructor(private readonly bytesPerSecond: number) {
    this.tokens = bytesPerSecond;
  }

  get limited(): boolean { return this.bytesPerSecond > 0; }

  async consume(n: number): Promise<void> {
    if (this.bytesPerSecond <= 0 || n <= 0) return;
    const now = Date.now();
    this.tokens = Math.min(this.bytesPerSecond, this.tokens + ((now - this.last) * this.bytesPerSecond) / 1000);
    this.last = now;
    this.tokens -= n;
    if (this.tokens < 0) {
      const waitMs = Math.ceil((-this.tokens * 1000) / this.bytesPerSecond);
      await new Promise<void>((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

/** "1.2.3.4:5", "[::1]:5", "::1" or "1.2.3.4" → the bare IP ("" if unparsable). */
export function ipFromAddr(addr: string): string {
  if (isIP(addr)) return addr;
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(addr);
  if (m && m[1] && isIP(m[1])) return m[1];
  const i = addr.lastIndexOf(':');
  if (i > 0 && isIP(addr.slice(0, i)) === 4) return addr.slice(0, i);
  return '';
}

function inCidrs(ip: string, cidrs: readonly string[]): boolean {
  const fam = isIP(ip);
  if (!fam) return false;
  const bl = new BlockList();
  for (const c of cidrs) {
    const [net, bits] = c.split('/');
    if (!net || !isIP(net)) continue;
    const type = isIP(net) === 6 ? 'ipv6' : 'ipv4';
    const prefix = bits === undefined ? (type === 'ipv6' ? 128 : 32) : Number(bits);
    if (!Number.isInteger(prefix)) continue;
    try { bl.addSubnet(net, prefix, type); } catch { /* invalid entry: ignored */ }
  }
  return bl.check(ip, fam === 6 ? 'ipv6' : 'ipv4');
}

/** KB/s limits for a client: the first filters.bandwidth_limits entry matching the source wins. */
export function bandwidthFor(user: User, remoteAddr: string): { upload: number; download: number } {
  const ip = ipFromAddr(remoteAddr);
  for (const l of user.filters?.bandwidth_limits ?? []) {
    if (ip && inCidrs(ip, l.sources ?? [])) return { upload: l.upload_bandwidth ?? 0, download: l.download_bandwidth ?? 0 };
  }
  return { upload: user.upload_bandwidth ?? 0, download: user.download_bandwidth ?? 0 };
}
