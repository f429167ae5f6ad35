/** Port helpers for tests and the bench: only 127.0.0.1, never a fixed port. */
import { mkdirSync, openSync, closeSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Ports handed out by this process, reserved across processes: the test runner
 * runs several test files at once, and two of them probing the same random port
 * before either listens would both be told it is free. A reservation is a file
 * named by the port, created exclusively, holding the owner's pid; it is removed
 * when this process exits, and one whose owner is gone is taken over.
 */
const RESERVATIONS = join(tmpdir(), 'sftpgo-ts-test-ports');
const reserved = new Set<number>();
let cleanupInstalled = false;

function ownerAlive(file: string): boolean {
  let pid = 0;
  try {
    pid = Number(readFileSync(file, 'utf8').trim());
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function createReservation(file: string): boolean {
  try {
    const fd = openSync(file, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch {
    return false;
  }
}

/** Reserves `port` for this process; false when another live process holds it. */
function reservePort(port: number): boolean {
  if (reserved.has(port)) return false;
  mkdirSync(RESERVATIONS, { recursive: true });
  const file = join(RESERVATIONS, String(port));
  if (!createReservation(file)) {
    if (ownerAlive(file)) return false;
    try { unlinkSync(file); } catch { /* another process took it over first */ }
    if (!createReservation(file)) return false;
  }
  reserved.add(port);
  if (!cleanupInstalled) {
    cleanupInstalled = true;
    process.on('exit', () => {
      for (const p of reserved) {
        try { unlinkSync(join(RESERVATIONS, String(p))); } catch { /* already gone */ }
      }
    });
  }
  return true;
}

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
    if (!reservePort(port)) continue;
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
    for (let p = start; p < start + count && ok; p++) ok = reservePort(p);
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
