/**
 * util/user-buffer-socket.ts relies on net.Socket internals (`_handle`,
 * `onread` with a handle): these tests fail if a Node release changes them.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { adoptWithSlabReads, adoptWithUserBuffer, canAdopt } from '../../../src/util/user-buffer-socket';

/** A paused accepted socket and its client, on a free loopback port. */
async function pair(): Promise<{ accepted: net.Socket; client: net.Socket; close(): void }> {
  const server = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const acceptedP = new Promise<net.Socket>((r) => server.once('connection', r));
  const client = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((r, j) => { client.once('connect', r); client.once('error', j); });
  const accepted = await acceptedP;
  server.close();
  return { accepted, client, close: () => { client.destroy(); accepted.destroy(); } };
}

describe('user-buffer sockets', () => {
  const closers: Array<() => void> = [];
  after(() => { for (const c of closers) c(); });

  test('an adopted socket writes, reads every byte into its one buffer, pauses on false, resumes and ends', async () => {
    const p = await pair();
    closers.push(p.close);
    const lent = adoptWithUserBuffer(p.accepted, 4096);
    assert.ok(lent, 'the accepted paused socket can be adopted on this Node');
    closers.push(() => lent.socket.destroy());
    const payload = crypto.randomBytes(3 * 1024 * 1024 + 17);
    const hash = crypto.createHash('sha256');
    let chunks = 0;
    let maxChunk = 0;
    let lastBuffer: ArrayBufferLike | undefined;
    let sameBuffer = true;
    const echoed = new Promise<Buffer>((r) => p.client.once('data', r));
    lent.socket.write('hello');
    assert.equal((await echoed).toString(), 'hello', 'the adopted socket writes on the same connection');
    const ended = new Promise<void>((r) => lent.socket.once('end', r));
    lent.start((chunk) => {
      hash.update(chunk);
      chunks++;
      maxChunk = Math.max(maxChunk, chunk.length);
      if (lastBuffer && lastBuffer !== chunk.buffer) sameBuffer = false;
      lastBuffer = chunk.buffer;
      if (chunks % 7 === 0) {
        // pause, then go on from another tick: nothing may be lost or reordered
        setImmediate(() => lent.socket.resume());
        return false;
      }
      return true;
    });
    p.client.end(payload);
    await ended;
    assert.equal(hash.digest('hex'), crypto.createHash('sha256').update(payload).digest('hex'));
    assert.ok(maxChunk <= 4096, 'reads never exceed the lent buffer');
    assert.ok(sameBuffer, 'every chunk is a view of the same buffer');
  });

  test('destroying the adopted socket closes the connection; the old wrapper no longer can', async () => {
    const p = await pair();
    closers.push(p.close);
    const old = p.accepted;
    const lent = adoptWithUserBuffer(old);
    assert.ok(lent);
    assert.equal(old.destroyed, true);
    const closed = new Promise<void>((r) => p.client.once('close', () => r()));
    p.client.on('error', () => undefined);
    p.client.resume();
    lent.start(() => true);
    lent.socket.destroy();
    await closed;
  });

  test('sockets that already read, or TLS sockets, are refused and left alone', async () => {
    const p = await pair();
    closers.push(p.close);
    p.accepted.resume();
    const got = new Promise<Buffer>((r) => p.accepted.once('data', r));
    p.client.write('x');
    await got;
    assert.equal(canAdopt(p.accepted), false);
    assert.equal(adoptWithUserBuffer(p.accepted), undefined);
    assert.equal(p.accepted.destroyed, false);
    const q = await pair();
    closers.push(q.close);
    const wrapped = new tls.TLSSocket(q.accepted, { isServer: true });
    closers.push(() => wrapped.destroy());
    wrapped.on('error', () => undefined);
    assert.equal(canAdopt(wrapped), false);
  });

  test('slab reads: kept chunks stay intact, nothing is read before a listener, quiet reads use small buffers', async () => {
    const p = await pair();
    closers.push(p.close);
    const sock = adoptWithSlabReads(p.accepted);
    assert.ok(sock, 'the accepted paused socket can be adopted on this Node');
    closers.push(() => sock.destroy());
    // the client speaks first; until resume() nothing may be read (and lost)
    p.client.write('first');
    await new Promise((r) => setTimeout(r, 20));
    const kept: Buffer[] = [];
    const ended = new Promise<void>((r) => sock.once('end', r));
    const quiet = new Promise<Buffer>((r) => sock.once('data', r));
    sock.on('data', (chunk: Buffer) => kept.push(chunk));
    // as ssh2 does: listeners first, then resume()
    sock.resume();
    assert.equal((await quiet).toString(), 'first');
    assert.equal(kept[0]!.buffer.byteLength, 16 * 1024, 'a quiet read lands in a small buffer of its own');
    const echoed = new Promise<Buffer>((r) => p.client.once('data', r));
    sock.write('hello');
    assert.equal((await echoed).toString(), 'hello', 'the adopted socket writes on the same connection');
    // a busy stream: chunks are views into shared slabs, and every kept one must still hold its bytes
    const payload = crypto.randomBytes(4 * 1024 * 1024 + 5);
    p.client.end(payload);
    await ended;
    const all = Buffer.concat(kept);
    assert.equal(all.subarray(0, 5).toString(), 'first');
    assert.ok(all.subarray(5).equals(payload), 'every byte, in order, after all reads are done');
    const slabs = new Set(kept.map((c) => c.buffer));
    assert.ok(slabs.size < kept.length, `busy reads share slabs (${kept.length} chunks, ${slabs.size} buffers)`);
  });

  test('slab reads are refused for TLS sockets and sockets that already read', async () => {
    const p = await pair();
    closers.push(p.close);
    p.accepted.resume();
    const got = new Promise((r) => p.accepted.once('data', r));
    p.client.write('x');
    await got;
    assert.equal(adoptWithSlabReads(p.accepted), undefined);
    assert.equal(adoptWithSlabReads(new tls.TLSSocket(new net.Socket())), undefined);
  });
});
