import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { PacketFramer } from '../../../../src/sftpd/sftp/framer';

/** One framed packet (length prefix + body) whose body bytes are all `fill`. */
function framed(len: number, fill: number): Buffer {
  const b = Buffer.alloc(4 + len, fill);
  b.writeUInt32BE(len, 0);
  return b;
}

/** Pushes `data` in 32 KiB chunks, as SSH channel data arrives. */
function pushChunked(f: PacketFramer, data: Buffer, chunk = 32 * 1024): void {
  for (let p = 0; p < data.length; p += chunk) f.push(Buffer.from(data.subarray(p, p + chunk)));
}

const BIG = 255 * 1024;

test('recycle: the next spanning packet is assembled into the recycled memory, bytes intact', () => {
  const f = new PacketFramer(1024 * 1024);
  pushChunked(f, Buffer.concat([framed(BIG, 1), framed(BIG, 2), framed(BIG, 3)]));
  const a = f.next()!;
  assert.equal(a.length, BIG);
  assert.ok(a.every((x) => x === 1));
  const memory = a.buffer;
  f.recycle(a);
  const b = f.next()!;
  assert.equal(b.buffer, memory, 'second packet reuses the first one\'s memory');
  assert.ok(b.every((x) => x === 2));
  f.recycle(b);
  // nothing buffered beyond the last packet: the framer keeps no spare for a quiet session
  const c = f.next()!;
  assert.equal(c.buffer, memory);
  assert.ok(c.every((x) => x === 3));
  f.recycle(c);
  pushChunked(f, framed(BIG, 4));
  const d = f.next()!;
  assert.notEqual(d.buffer, memory, 'recycled with nothing buffered: not kept');
  assert.ok(d.every((x) => x === 4));
});

test('recycle ignores views into chunks, stale packets and small packets', () => {
  const f = new PacketFramer(1024 * 1024);
  // a packet inside one chunk is a view into memory the framer does not own
  const whole = Buffer.concat([framed(BIG, 5), framed(BIG, 6), framed(100, 7), framed(100, 8)]);
  f.push(whole);
  const inChunk = f.next()!;
  assert.equal(inChunk.buffer, whole.buffer);
  f.recycle(inChunk);
  f.push(Buffer.alloc(0));
  const next = f.next()!;
  assert.equal(next.buffer, whole.buffer);
  assert.ok(next.every((x) => x === 6));
  f.next();
  f.next();

  // stale: a packet recycled after another next() is not taken back
  pushChunked(f, Buffer.concat([framed(BIG, 9), framed(BIG, 10), framed(BIG, 11)]));
  const p1 = f.next()!;
  const p2 = f.next()!;
  f.recycle(p1);
  const p3 = f.next()!;
  assert.notEqual(p3.buffer, p1.buffer);
  assert.ok(p1.every((x) => x === 9) && p2.every((x) => x === 10) && p3.every((x) => x === 11));

  // small spanning packets come from Node's shared pool: never recycled
  const g = new PacketFramer(1024 * 1024);
  pushChunked(g, Buffer.concat([framed(3000, 12), framed(3000, 13), framed(3000, 14)]), 1000);
  const s1 = g.next()!;
  g.recycle(s1);
  const s2 = g.next()!;
  assert.ok(s1.every((x) => x === 12), 'first small packet left untouched');
  assert.ok(s2.every((x) => x === 13));
});
