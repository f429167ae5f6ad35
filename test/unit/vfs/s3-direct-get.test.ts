/**
 * The raw-socket ranged GET (src/vfs/s3/direct-get.ts) against a scripted
 * raw TCP server on loopback that frames its answers oddly: heads split
 * across writes, bodies in tiny pieces, an interim 100, closes before or in
 * the middle of an answer, S3 error documents (sized, chunked, or ended by
 * the close), 2xx answers without Content-Length or chunked (refused), a
 * body longer than the range (refused), keep-alive reuse, a kept-alive
 * connection the server dropped (replaced once), the idle close, the socket
 * timeout, an abort mid-body, and a body that waits for room (backpressure).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { DirectGetPool, type DirectGetOptions, type DirectGetRequest } from '../../../src/vfs/s3/direct-get';
import { S3ResponseError } from '../../../src/vfs/s3/hot-errors';
import { HttpProtocolError } from '../../../src/vfs/s3/http-head';
import type { RunSink } from '../../../src/vfs/run-body';
import { StreamedRun } from '../../../src/vfs/streamed-run';

const KB = 1024;
const byteAt = (pos: number): number => (pos * 31 + (pos >> 11)) & 0xff;
const pattern = (start: number, length: number): Buffer => Buffer.from(Array.from({ length }, (_v, i) => byteAt(start + i)));

/** One request as the server saw it, with its connection and its order on that connection. */
interface Seen { head: string; socket: Socket; connection: number; onConnection: number }
type Answer = (r: Seen) => Promise<void> | void;

interface RawServer {
  server: Server;
  port: number;
  seen: Seen[];
  sockets: Set<Socket>;
  connections: number;
  stop(): Promise<void>;
}

/** A raw HTTP server: parses request heads (GETs carry no body) and lets `answer` write whatever bytes it likes. */
async function rawServer(answer: Answer): Promise<RawServer> {
  const srv: RawServer = { server: createServer(), port: 0, seen: [], sockets: new Set(), connections: 0, stop: async () => undefined };
  srv.server.on('connection', (socket) => {
    const connection = ++srv.connections;
    let onConnection = 0;
    let pending = Buffer.alloc(0);
    srv.sockets.add(socket);
    socket.on('close', () => srv.sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.on('data', (c: Buffer) => {
      pending = Buffer.concat([pending, c]);
      // bounded: each round takes one complete head off `pending`
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const r: Seen = { head: pending.toString('latin1', 0, end), socket, connection, onConnection: ++onConnection };
        pending = pending.subarray(end + 4);
        srv.seen.push(r);
        void Promise.resolve(answer(r)).catch(() => socket.destroy());
      }
    });
  });
  srv.server.listen(0, '127.0.0.1');
  await once(srv.server, 'listening');
  srv.port = (srv.server.address() as AddressInfo).port;
  srv.stop = async () => { for (const s of srv.sockets) s.destroy(); srv.server.close(); await once(srv.server, 'close'); };
  return srv;
}

/** Writes data in pieces of `piece` bytes, each once the previous one has left and the loop has turned. */
async function trickle(socket: Socket, data: Buffer | string, piece: number): Promise<void> {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1');
  for (let off = 0; off < buf.length && !socket.destroyed; off += piece) {
    await new Promise<void>((resolve, reject) => socket.write(buf.subarray(off, off + piece), (e) => (e ? reject(e) : resolve())));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** The range the request asked for. */
function rangeOf(r: Seen): { start: number; end: number } {
  const m = /\r\nrange: bytes=(\d+)-(\d+)/i.exec(r.head);
  if (!m) throw new Error(`no range in ${r.head}`);
  return { start: Number(m[1]), end: Number(m[2]) };
}

function partial(r: Seen, extra = ''): Buffer {
  const { start, end } = rangeOf(r);
  const body = pattern(start, end - start + 1);
  return Buffer.concat([Buffer.from(`HTTP/1.1 206 Partial Content\r\ncontent-length: ${body.length}\r\n${extra}\r\n`, 'latin1'), body]);
}

function pool(srv: RawServer, o: Partial<DirectGetOptions> = {}): DirectGetPool {
  return new DirectGetPool({ host: '127.0.0.1', port: srv.port, connectTimeoutMs: 5_000, socketTimeoutMs: 5_000, idleCloseMs: 60_000, maxIdle: 4, ...o });
}

function request(start: number, end: number): DirectGetRequest {
  return { target: '/bucket/obj', headers: { host: 'example', range: `bytes=${start}-${end}` }, length: end - start + 1, wholeOk: start === 0, what: 'obj' };
}

async function withServer(answer: Answer, body: (srv: RawServer) => Promise<void>): Promise<void> {
  const srv = await rawServer(answer);
  try { await body(srv); } finally { await srv.stop(); }
}

test('a head split across writes and a body in 7-byte pieces arrive exact', () => withServer(
  (r) => trickle(r.socket, partial(r), 7),
  async (srv) => {
    const p = pool(srv);
    const buf = Buffer.alloc(3000);
    assert.equal(await p.fetchInto(request(1000, 3999), buf, new AbortController().signal), 3000);
    assert.ok(buf.equals(pattern(1000, 3000)));
    p.destroy();
  },
));

test('an interim 100 answer is skipped; the request line and headers go out as given', () => withServer(
  (r) => trickle(r.socket, Buffer.concat([Buffer.from('HTTP/1.1 100 Continue\r\n\r\n'), partial(r)]), 5),
  async (srv) => {
    const p = pool(srv);
    const buf = Buffer.alloc(100);
    assert.equal(await p.fetchInto(request(0, 99), buf, new AbortController().signal), 100);
    assert.ok(buf.equals(pattern(0, 100)));
    assert.match(srv.seen[0].head, /^GET \/bucket\/obj HTTP\/1\.1\r\nhost: example\r\nrange: bytes=0-99$/);
    p.destroy();
  },
));

test('keep-alive: sequential GETs share one connection; idle connections close after idleCloseMs', () => withServer(
  (r) => { r.socket.write(partial(r)); },
  async (srv) => {
    const p = pool(srv, { idleCloseMs: 50 });
    for (let i = 0; i < 3; i++) {
      const buf = Buffer.alloc(500);
      assert.equal(await p.fetchInto(request(i * 500, i * 500 + 499), buf, new AbortController().signal), 500);
      assert.ok(buf.equals(pattern(i * 500, 500)));
    }
    assert.equal(srv.connections, 1);
    assert.deepEqual(srv.seen.map((s) => s.onConnection), [1, 2, 3]);
    const [socket] = srv.sockets;
    await once(socket, 'close');
    assert.equal(p.openConnections, 0);
    p.destroy();
  },
));

test('a kept-alive connection the server dropped is replaced once; "connection: close" is honoured', () => withServer(
  (r) => {
    // the first connection's second request finds the server gone; the second connection asks to be closed
    if (r.connection === 1 && r.onConnection === 2) { r.socket.destroy(); return; }
    r.socket.write(partial(r, r.connection === 2 ? 'connection: close\r\n' : ''));
  },
  async (srv) => {
    const p = pool(srv);
    const signal = new AbortController().signal;
    assert.equal(await p.fetchInto(request(0, 9), Buffer.alloc(10), signal), 10);
    const buf = Buffer.alloc(10);
    assert.equal(await p.fetchInto(request(10, 19), buf, signal), 10);
    assert.ok(buf.equals(pattern(10, 10)));
    assert.equal(srv.connections, 2);
    assert.equal(p.openConnections, 0);
    p.destroy();
  },
));

test('a close before the answer or in the middle of the body fails with a network error', () => withServer(
  (r) => {
    if (r.connection === 1) { r.socket.destroy(); return; }
    const all = partial(r);
    r.socket.end(all.subarray(0, all.length - 100));
  },
  async (srv) => {
    const p = pool(srv);
    const signal = new AbortController().signal;
    await assert.rejects(p.fetchInto(request(0, 999), Buffer.alloc(1000), signal), (e: Error & { code?: string }) => e.code === 'ECONNRESET' && /before the answer/.test(e.message));
    await assert.rejects(p.fetchInto(request(0, 999), Buffer.alloc(1000), signal), (e: Error & { code?: string }) => e.code === 'ECONNRESET' && /100 body bytes still to come/.test(e.message));
    assert.equal(p.openConnections, 0);
    p.destroy();
  },
));

const xmlError = (code: string, message: string): string => `<?xml version="1.0"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;

test('403, 404 and 500 with XML bodies (sized, chunked, ended by the close) become S3ResponseErrors', () => withServer(
  async (r) => {
    const { start } = rangeOf(r);
    if (start === 1) {
      const xml = xmlError('AccessDenied', 'Access Denied');
      await trickle(r.socket, `HTTP/1.1 403 Forbidden\r\ncontent-type: application/xml\r\nx-amz-request-id: REQ1\r\ncontent-length: ${xml.length}\r\n\r\n${xml}`, 3);
    } else if (start === 2) {
      const xml = xmlError('NoSuchKey', 'The specified key does not exist.');
      const chunked = `${(20).toString(16)}\r\n${xml.slice(0, 20)}\r\n${(xml.length - 20).toString(16)}\r\n${xml.slice(20)}\r\n0\r\n\r\n`;
      await trickle(r.socket, `HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n${chunked}`, 9);
    } else {
      await trickle(r.socket, `HTTP/1.1 500 Internal Server Error\r\nconnection: close\r\n\r\n${xmlError('InternalError', 'We encountered an internal error.')}`, 11);
      r.socket.end();
    }
  },
  async (srv) => {
    const p = pool(srv);
    const signal = new AbortController().signal;
    const expect = (code: string, status: number, message: string) => (e: unknown): boolean =>
      e instanceof S3ResponseError && e.name === code && e.$metadata.httpStatusCode === status && e.message === message;
    await assert.rejects(p.fetchInto(request(1, 10), Buffer.alloc(10), signal), expect('AccessDenied', 403, 'Access Denied'));
    await assert.rejects(p.fetchInto(request(2, 10), Buffer.alloc(10), signal), expect('NoSuchKey', 404, 'The specified key does not exist.'));
    await assert.rejects(p.fetchInto(request(3, 10), Buffer.alloc(10), signal), expect('InternalError', 500, 'We encountered an internal error.'));
    p.destroy();
  },
));

test('2xx answers that do not fit a ranged read are refused', () => withServer(
  (r) => {
    const { start } = rangeOf(r);
    const body = 'x'.repeat(10);
    const answers: Record<number, string> = {
      1: `HTTP/1.1 206 Partial Content\r\n\r\n${body}`,
      2: `HTTP/1.1 206 Partial Content\r\ntransfer-encoding: chunked\r\n\r\na\r\n${body}\r\n0\r\n\r\n`,
      3: `HTTP/1.1 206 Partial Content\r\ncontent-length: 11\r\n\r\n${body}x`,
      4: `HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n${body}`,
      5: `HTTP/1.1 206 Partial Content\r\ncontent-length: 10\r\ncontent-length: 12\r\n\r\n${body}`,
      6: `HTTP/1.1 206 Partial\r\nbroken header line\r\n\r\n`,
      7: `ICY 200 OK\r\n\r\n`,
    };
    r.socket.end(answers[start]);
  },
  async (srv) => {
    const p = pool(srv);
    const signal = new AbortController().signal;
    const fails = (start: number, pattern: RegExp, type: new (...a: never[]) => Error = HttpProtocolError) =>
      assert.rejects(p.fetchInto(request(start, start + 9), Buffer.alloc(10), signal), (e: Error) => e instanceof type && pattern.test(e.message));
    await fails(1, /without Content-Length \(close body\)/);
    await fails(2, /without Content-Length \(chunked body\)/);
    await fails(3, /11 bytes answered for a range of 10/);
    await fails(4, /ignored the range \(status 200\)/, Error);
    await fails(5, /invalid content-length/);
    await fails(6, /malformed header line/);
    await fails(7, /malformed status line/);
    p.destroy();
  },
));

let partialSent: () => void = () => undefined;
test('a silent server times out; an abort mid-body rejects with its reason and drops the socket', () => withServer(
  (r) => {
    if (rangeOf(r).start === 0) return;
    // the head and half the body, then nothing
    const all = partial(r);
    r.socket.write(all.subarray(0, all.length - 50), () => partialSent());
  },
  async (srv) => {
    const sent = new Promise<void>((resolve) => { partialSent = resolve; });
    const timed = pool(srv, { socketTimeoutMs: 100 });
    await assert.rejects(timed.fetchInto(request(0, 99), Buffer.alloc(100), new AbortController().signal), (e: Error & { code?: string }) => e.code === 'ETIMEDOUT');
    timed.destroy();
    const p = pool(srv);
    const ac = new AbortController();
    const fetching = p.fetchInto(request(100, 199), Buffer.alloc(100), ac.signal);
    // abort once the partial answer has left the server
    await sent;
    const reason = new Error('stop here');
    ac.abort(reason);
    await assert.rejects(fetching, (e) => e === reason);
    assert.equal(p.openConnections, 0);
    p.destroy();
  },
));

test('a run fills windows queued one at a time (backpressure) with a body trickling in odd pieces', () => withServer(
  (r) => trickle(r.socket, partial(r), 1531),
  async (srv) => {
    const p = pool(srv);
    const size = 200 * KB;
    const fetchAlone = (): Promise<number> => Promise.reject(new Error('no single fetch expected'));
    const run = new StreamedRun(0, size - 1, (start, end, sink: RunSink, signal) => p.get(request(start, end), sink, signal), fetchAlone);
    const signal = new AbortController().signal;
    const got: Buffer[] = [];
    // windows of 7 KiB + 3 bytes, each queued only once the one before is full
    for (let off = 0; off < size;) {
      const want = Math.min(7 * KB + 3, size - off);
      const buf = Buffer.alloc(want);
      assert.equal(await run.read(buf, want, signal), want);
      got.push(buf);
      off += want;
      // let the socket stop reading: the next window comes later
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(Buffer.concat(got).equals(pattern(0, size)));
    assert.equal(srv.seen.length, 1);
    assert.equal(run.usable, false);
    // the answer was read whole: the connection went back to the pool
    assert.equal(p.openConnections, 1);
    p.destroy();
  },
));
