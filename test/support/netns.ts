/**
 * Network namespaces for tests whose traffic must never leave the machine
 * (multicast DNS): two namespaces joined by a veth pair, each with its end
 * up, an address and a multicast route, removed at the end (deleting a
 * namespace deletes its veth end and the peer with it). Needs root and
 * iproute2's `ip`; `netnsUnavailable()` says why not.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p));

/** why network namespaces cannot be created here, or undefined */
export function netnsUnavailable(): string | undefined {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'network namespaces need root (CI runs as root)';
  if (!IP) return 'iproute2 `ip` not found';
  return undefined;
}

export interface NsPair {
  /** namespace names */
  a: string;
  b: string;
  /** their addresses on the veth link */
  addrA: string;
  addrB: string;
  /** command prefix running a program inside a namespace */
  exec(ns: string): string[];
  remove(): void;
}

const ip = (args: string[]): void => {
  execFileSync(IP as string, args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

export function createNsPair(tag: string): NsPair {
  const id = `${tag}${process.pid}`;
  const a = `${id}-a`;
  const b = `${id}-b`;
  const vethA = `va${process.pid}`.slice(0, 15);
  const vethB = `vb${process.pid}`.slice(0, 15);
  const addrA = '10.213.0.1';
  const addrB = '10.213.0.2';
  const remove = (): void => {
    for (const ns of [a, b]) {
      try { ip(['netns', 'del', ns]); } catch { /* not created */ }
    }
  };
  try {
    ip(['netns', 'add', a]);
    ip(['netns', 'add', b]);
    ip(['link', 'add', vethA, 'type', 'veth', 'peer', 'name', vethB]);
    ip(['link', 'set', vethA, 'netns', a]);
    ip(['link', 'set', vethB, 'netns', b]);
    for (const [ns, dev, addr] of [[a, vethA, addrA], [b, vethB, addrB]]) {
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      ip(['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev]);
      ip(['-n', ns, 'link', 'set', dev, 'up', 'multicast', 'on']);
      ip(['-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', dev]);
    }
  } catch (e) {
    remove();
    try { ip(['link', 'del', vethA]); } catch { /* moved or never made */ }
    throw e;
  }
  return { a, b, addrA, addrB, exec: (ns) => [IP as string, 'netns', 'exec', ns], remove };
}
