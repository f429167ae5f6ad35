/** Port helpers for tests and the bench: only 127.0.0.1, never a fixed port. */
import { readFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';

/** Whether `port` can be listened on at `host` right now (0: let the OS pick; resolves the port). */
function tryListen(port: number, host: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(undefined));
    srv.listen(port, host, () => {
      const addr = srv.address();
      const bound = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(bound));
    });
  });
}

/** The lowest port the kernel hands out as a connection's local port (Linux: 32768 by default). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32768;
  } catch {
    return 32768;
  }
}

const PICK_FROM = 10000;

/**
 * A port that was free a moment ago. Picked at random below the kernel's
 * ephemeral range: a port the OS picks for port 0 comes from that range, and
 * between our probe and the server's listen an outgoing connection of any
 * process could take it as its local port (seen once in CI: EADDRINUSE on a
 * test's HTTP port). Falls back to the OS's pick when no such range exists.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const below = ephemeralLow();
  for (let attempt = 0; below - PICK_FROM > 1000 && attempt < 50; attempt++) {
    const port = PICK_FROM + Math.floor(Math.random() * (below - PICK_FROM));
    if ((await tryListen(port, host)) !== undefined) return port;
  }
  const picked = await tryListen(0, host);
  if (picked === undefined) throw new Error(`cannot listen on ${host}`);
  return picked;
}

/** Resolves once something accepts TCP connections on host:port (bounded tries). */
export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < 10000; attempt++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ port, host });
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => { s.destroy(); resolve(false); });
    });
    if (ok) return;
    if (Date.now() > deadline) break;
    // The server is a child process we cannot subscribe to: retry on the next timer tick.
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`);
}

/**
 * `count` consecutive ports on 127.0.0.1 that were free when probed (passive FTP
 * ranges), bounded tries. The whole run is held while probing so it is checked at once.
 */
export async function freePortRange(count: number): Promise<{ start: number; end: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    // below the ephemeral range, as freePort (outgoing connections never take these)
    const top = Math.max(ephemeralLow() - count, PICK_FROM + 1000);
    const start = PICK_FROM + Math.floor(Math.random() * (top - PICK_FROM));
    const held: Server[] = [];
    let ok = true;
    for (let p = start; p < start + count && ok; p++) {
      const srv = createServer();
      ok = await new Promise<boolean>((resolve) => {
        srv.once('error', () => resolve(false));
        srv.listen(p, '127.0.0.1', () => resolve(true));
      });
      if (ok) held.push(srv);
    }
    await Promise.all(held.map((s) => new Promise<void>((r) => s.close(() => r()))));
    if (ok) return { start, end: start + count - 1 };
  }
  throw new Error(`no ${count} consecutive free ports found`);
}
