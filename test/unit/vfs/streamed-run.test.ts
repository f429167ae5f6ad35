/**
 * The windowed reader with streamed runs (one GET per run of sequential
 * windows) against a real HTTP server on loopback answering ranged GETs in
 * odd-sized chunks: bytes come back exact across window and chunk
 * boundaries, a sequential read opens one stream, jumps fetch single windows
 * and the stream resumes after them, and a closed handle or an abandoned run
 * leaves no socket open at the server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, createServer, get, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FsError } from '../../../src/common/errors';
import { NO_STORAGE_METRICS } from '../../../src/metrics/storage';
import { drainInto } from '../../../src/vfs/drain-into';
import { WindowedReadHandle } from '../../../src/vfs/windowed-read';
import { runFromStreams } from '../../../src/vfs/run-body';

const KB = 1024;
const MB = 1024 * KB;

/** The object's byte at `pos`: a pattern that catches data from the wrong offset. */
const byteAt = (pos: number): number => (pos * 31 + (pos >> 16)) & 0xff;

interface RangeServer {
  server: Server;
  port: number;
  /** ranges asked, as "start-end" */
  ranges: string[];
  sockets: Set<Socket>;
  stop(): Promise<void>;
}

/** Serves the pattern object of `size` bytes; bodies go out in 64 KiB + 7 byte writes, with backpressure. */
async function rangeServer(size: number): Promise<RangeServer> {
  const ranges: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (!m) { res.writeHead(400).end(); return; }
    const start = Number(m[1]);
    const end = Math.min(Number(m[2]), size - 1);
    ranges.push(`${start}-${end}`);
    res.writeHead(206, { 'content-length': String(end - start + 1) });
    let pos = start;
    const write = (): void => {
      // bounded: each round writes one chunk; a full socket resumes on 'drain'
      while (pos <= end) {
        const len = Math.min(64 * KB + 7, end - pos + 1);
        const chunk = Buffer.allocUnsafe(len);
        for (let i = 0; i < len; i++) chunk[i] = byteAt(pos + i);
        pos += len;
        if (!res.write(chunk)) { res.once('drain', write); return; }
      }
      res.end();
    };
    write();
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    // a client destroying a body in flight resets the connection: expected here
    s.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server, port: (server.address() as AddressInfo).port, ranges, sockets,
    stop: async () => { server.closeAllConnections(); server.close(); await once(server, 'close'); },
  };
}

function handleOver(srv: RangeServer, size: number, partSize: number, concurrency: number): { handle: WindowedReadHandle; agent: Agent } {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency + 2 });
  const request = (start: number, end: number, signal: AbortSignal): Promise<IncomingMessage> => new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port: srv.port, path: '/obj', agent, signal, headers: { range: `bytes=${start}-${end}` } }, resolve);
    req.on('error', reject);
  });
  const handle = new WindowedReadHandle({
    name: 'obj', size, partSize, concurrency, partMaxTime: 0, backend: 's3', metrics: NO_STORAGE_METRICS,
    mapError: (e) => (e instanceof FsError ? e : new FsError('Generic', String(e))),
    fetchRange: async (start, end, buf, signal) => drainInto(await request(start, end, signal), buf, 'obj'),
    openRun: runFromStreams(request),
  });
  return { handle, agent };
}

async function readChecked(h: WindowedReadHandle, pos: number, len: number): Promise<void> {
  const buf = Buffer.alloc(len);
  const n = await h.readAt(buf, 0, len, pos);
  assert.equal(n, Math.min(len, h.size - pos));
  for (let i = 0; i < n; i++) if (buf[i] !== byteAt(pos + i)) assert.fail(`wrong byte at ${pos + i}`);
}

/**
 * Resolves when the socket has closed and left the server's set (a reset seen by the server is
 * expected: the client destroyed a body in flight). Not `destroyed`: a destroyed socket emits
 * 'close' (and leaves the set) a tick or two later.
 */
function closeOf(srv: RangeServer, s: Socket): Promise<void> {
  return new Promise((resolve) => { if (!srv.sockets.has(s)) resolve(); else s.once('close', () => resolve()); });
}

/** Resolves once the server holds no connection (the client destroyed or released them all). */
async function noSocketsLeft(srv: RangeServer, agent: Agent): Promise<void> {
  agent.destroy();
  // bounded: every socket closes once the client side is destroyed; each round waits for one
  for (const s of [...srv.sockets]) await closeOf(srv, s);
  assert.equal(srv.sockets.size, 0);
}

/** Runs `body` over a handle on a fresh server; then closes the handle and checks that no socket stays open. */
async function withObject(o: { served: number; listed?: number; partSize: number; concurrency: number },
  body: (handle: WindowedReadHandle, srv: RangeServer) => Promise<void>): Promise<void> {
  const srv = await rangeServer(o.served);
  const { handle, agent } = handleOver(srv, o.listed ?? o.served, o.partSize, o.concurrency);
  try {
    await body(handle, srv);
  } finally {
    await handle.close();
    await noSocketsLeft(srv, agent);
    await srv.stop();
  }
}

test('sequential pipelined reads come from one stream, byte-exact across window and chunk boundaries', async () => {
  const size = 24 * MB + 4321;
  const partSize = 1 * MB;
  await withObject({ served: size, partSize, concurrency: 4 }, async (handle, srv) => {
    // OpenSSH-like: 32 KiB + 3 reads (never aligned), 64 in flight
    const chunk = 32 * KB + 3;
    // bounded: each round starts up to 64 reads
    for (let next = 0; next < size;) {
      const reads: Promise<void>[] = [];
      for (let k = 0; k < 64 && next < size; k++, next += chunk) reads.push(readChecked(handle, next, chunk));
      await Promise.all(reads);
    }
    assert.deepEqual(srv.ranges, [`0-${size - 1}`], 'one GET for the whole sequential read');
  });
});

test('random jumps read single windows; reads after a jump stream again from there', async () => {
  const size = 16 * MB + 999;
  const partSize = 256 * KB;
  await withObject({ served: size, partSize, concurrency: 3 }, async (handle, srv) => {
    // a fixed pseudo-random walk (no Math.random: the test is reproducible)
    let seed = 12345;
    const nextRandom = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
    for (let i = 0; i < 40; i++) {
      const pos = Math.floor(nextRandom() * size);
      await readChecked(handle, pos, 1 + Math.floor(nextRandom() * 3 * partSize));
    }
    // then a sequential stretch across several windows from a random place
    const from = 5 * partSize + 17;
    for (let pos = from; pos < from + 6 * partSize; pos += 100 * KB) await readChecked(handle, pos, 100 * KB);
    const streamed = srv.ranges.filter((r) => r.endsWith(`-${size - 1}`));
    assert.ok(streamed.length >= 1, 'the sequential stretch streams');
    assert.ok(srv.ranges.length < 40 * 4 + 10, `bounded GETs: ${srv.ranges.length}`);
  });
});

test('a handle closed in the middle of a stream destroys its GET: no socket stays open', async () => {
  const size = 64 * MB;
  const partSize = 1 * MB;
  const srv = await rangeServer(size);
  const { handle, agent } = handleOver(srv, size, partSize, 2);
  await readChecked(handle, 0, 100 * KB);
  await readChecked(handle, 100 * KB, 1 * MB);
  assert.equal(srv.ranges.length, 1);
  assert.equal(srv.sockets.size, 1, 'the stream is parked, its socket open');
  const [socket] = [...srv.sockets];
  const closed = closeOf(srv, socket);
  await handle.close();
  // the client end destroyed: the server sees the socket close without the agent being torn down
  await closed;
  assert.equal(srv.sockets.size, 0);
  agent.destroy();
  await srv.stop();
});

test('a jump far ahead ends the parked stream (its socket closes) and later sequential reads stream anew', async () => {
  const size = 64 * MB;
  const partSize = 1 * MB;
  await withObject({ served: size, partSize, concurrency: 2 }, async (handle, srv) => {
    await readChecked(handle, 0, 300 * KB);
    const [first] = [...srv.sockets];
    const closed = closeOf(srv, first);
    // a jump: one window alone; the sequential read after it opens a new run
    await readChecked(handle, 40 * MB + 5, 200 * KB);
    await readChecked(handle, 40 * MB + 5 + 200 * KB, 2 * MB);
    await closed;
    assert.deepEqual(srv.ranges, [`0-${size - 1}`, `${40 * MB}-${41 * MB - 1}`, `${41 * MB}-${size - 1}`]);
  });
});

test('an object shorter than its listed size fails the read that reaches the gap, without hanging', async () => {
  const listed = 4 * MB;
  const actual = 3 * MB + 100;
  await withObject({ served: actual, listed, partSize: 1 * MB, concurrency: 3 }, async (handle) => {
    await readChecked(handle, 0, 3 * MB);
    await readChecked(handle, 3 * MB, 100);
    await assert.rejects(handle.readAt(Buffer.alloc(200), 0, 200, 3 * MB + 50), (e: unknown) => e instanceof FsError);
  });
});
