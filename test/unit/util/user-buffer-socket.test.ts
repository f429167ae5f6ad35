/**
 * util/user-buffer-socket.ts relies on net.Socket internals (`_handle`,
 * `onread` with a handle): these tests fail if a Node release changes them.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { adoptWithUserBuffer, canAdopt } from '../../../src/util/user-buffer-socket';

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
});
