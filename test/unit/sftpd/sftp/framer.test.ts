import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DEFAULT_MAX_SPARES, FramingError, PacketFramer, SPARE_IDLE_MS, sparesFor } from '../../../../src/sftpd/sftp/framer';

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

/** Pushes `data` as lent chunks: each through one reused buffer, scribbled over after push() returns. */
function pushLent(f: PacketFramer, data: Buffer, chunk = 32 * 1024, lentBuffer = Buffer.alloc(chunk)): void {
  for (let p = 0; p < data.length; p += chunk) {
    const n = data.copy(lentBuffer, 0, p, Math.min(p + chunk, data.length));
    f.push(lentBuffer.subarray(0, n), true);
    lentBuffer.fill(0xee);
  }
}

const BIG = 255 * 1024;

test('recycle: a later large packet is assembled into the recycled memory, bytes intact', () => {
  const f = new PacketFramer(1024 * 1024);
  pushChunked(f, Buffer.concat([framed(BIG, 1), framed(BIG, 2)]));
  const a = f.next()!;
  const b = f.next()!;
  assert.equal(a.length, BIG);
  assert.ok(a.every((x) => x === 1) && b.every((x) => x === 2));
  assert.notEqual(a.buffer, b.buffer, 'both were assembled before either was recycled');
  f.recycle(a);
  f.recycle(a); // a second recycle of the same packet is ignored (two packets would share memory)
  assert.equal(f.spareCount, 1);
  pushChunked(f, Buffer.concat([framed(BIG, 3), framed(BIG, 4)]));
  const c = f.next()!;
  const d = f.next()!;
  assert.equal(c.buffer, a.buffer, 'the recycled memory is reused');
  assert.notEqual(d.buffer, a.buffer, 'only once');
  assert.ok(b.every((x) => x === 2), 'a packet not recycled is left untouched');
  assert.ok(c.every((x) => x === 3) && d.every((x) => x === 4));
  f.clear();
});

test('recycle ignores views into chunks and small packets; spares are capped', () => {
  const f = new PacketFramer(1024 * 1024, 2);
  const whole = Buffer.concat([framed(BIG, 5), framed(100, 6)]);
  f.push(whole);
  const inChunk = f.next()!;
  assert.equal(inChunk.buffer, whole.buffer, 'a packet inside one owned chunk is a view');
  f.recycle(inChunk);
  assert.equal(f.spareCount, 0, 'views into chunks are never taken');
  assert.ok(f.next()!.every((x) => x === 6));

  pushChunked(f, Buffer.concat([framed(3000, 7), framed(3000, 8)]), 1000);
  const s1 = f.next()!;
  f.recycle(s1);
  assert.equal(f.spareCount, 0, 'small packets are not pooled');
  assert.ok(s1.every((x) => x === 7) && f.next()!.every((x) => x === 8));

  pushChunked(f, Buffer.concat([framed(BIG, 9), framed(BIG, 10), framed(BIG, 11)]));
  const big = [f.next()!, f.next()!, f.next()!];
  for (const p of big) f.recycle(p);
  assert.equal(f.spareCount, 2, 'at most maxSpares kept');
  f.clear();
  assert.equal(f.spareCount, 0);
});

test('lent chunks are copied before push() returns: packets survive the buffer being overwritten', () => {
  const f = new PacketFramer(1024 * 1024);
  const lentBuffer = Buffer.alloc(32 * 1024);
  // small packets wholly inside one lent chunk must be copied too
  pushLent(f, Buffer.concat([framed(10, 1), framed(BIG, 2), framed(20, 3), framed(40000, 4)]), 32 * 1024, lentBuffer);
  const got = [f.next()!, f.next()!, f.next()!, f.next()!];
  assert.deepEqual(got.map((p) => p.length), [10, BIG, 20, 40000]);
  got.forEach((p, i) => {
    assert.ok(p.every((x) => x === i + 1), `packet ${i} intact`);
    assert.notEqual(p.buffer, lentBuffer.buffer, `packet ${i} is not a view of the lent buffer`);
  });
  assert.equal(f.next(), null);
  assert.equal(f.bufferedBytes, 0);
});

test('random packets, random splits, lent and owned chunks mixed: every packet byte-exact, in order', () => {
  const f = new PacketFramer(300 * 1024);
  const sizes: number[] = [];
  for (let i = 0; i < 300; i++) sizes.push(i % 5 === 0 ? 200 * 1024 + (i * 977) % 61000 : 1 + (i * 7919) % 5000);
  const bodies = sizes.map((n) => randomBytes(n));
  const stream = Buffer.concat(bodies.map((b) => { const h = Buffer.alloc(4); h.writeUInt32BE(b.length, 0); return Buffer.concat([h, b]); }));
  const lentBuffer = Buffer.alloc(70 * 1024);
  const out: Buffer[] = [];
  let p = 0;
  let i = 0;
  // bounded: every round consumes at least one byte
  while (p < stream.length) {
    const n = Math.min(stream.length - p, 1 + ((i * 104729) % (70 * 1024)));
    if (i % 2 === 0) {
      stream.copy(lentBuffer, 0, p, p + n);
      f.push(lentBuffer.subarray(0, n), true);
      lentBuffer.fill(0xa5);
    } else {
      f.push(Buffer.from(stream.subarray(p, p + n)));
    }
    p += n;
    i++;
    // take a few packets now and then, recycling every other one (the pool must not mix them up)
    for (let k = 0; k < i % 3; k++) {
      const pkt = f.next();
      if (!pkt) break;
      out.push(Buffer.from(pkt));
      if (out.length % 2 === 0) f.recycle(pkt);
    }
  }
  for (let pkt = f.next(); pkt; pkt = f.next()) out.push(Buffer.from(pkt));
  assert.equal(out.length, bodies.length);
  out.forEach((b, k) => assert.ok(b.equals(bodies[k]!), `packet ${k} (${bodies[k]!.length} bytes)`));
  f.clear();
});

test('a zero or oversize length fails after the packets before it, without buffering the body', () => {
  const f = new PacketFramer(1000);
  const bad = Buffer.alloc(4);
  bad.writeUInt32BE(5000, 0);
  f.push(Buffer.concat([framed(10, 1), bad, Buffer.alloc(900)]), true);
  assert.ok(f.next()!.every((x) => x === 1));
  assert.throws(() => f.next(), (e: unknown) => e instanceof FramingError && /exceeds the maximum of 1000/.test(e.message));
  assert.ok(f.bufferedBytes < 100, 'the oversize body is not kept');
  const z = new PacketFramer(1000);
  z.push(Buffer.alloc(4));
  assert.throws(() => z.next(), /zero-length packet/);
});

test('a length prefix split over chunks, lent one byte at a time', () => {
  const f = new PacketFramer(1024 * 1024);
  pushLent(f, Buffer.concat([framed(70000, 3), framed(5, 4)]), 1, Buffer.alloc(1));
  assert.ok(f.next()!.every((x) => x === 3));
  assert.ok(f.next()!.every((x) => x === 4));
  assert.equal(f.next(), null);
});

test('spares are dropped once no large packet came for SPARE_IDLE_MS', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const f = new PacketFramer(1024 * 1024);
  pushChunked(f, Buffer.concat([framed(BIG, 1), framed(BIG, 2)]));
  f.recycle(f.next()!);
  assert.equal(f.spareCount, 1);
  // still busy: a large packet assembled within the period keeps the spares
  t.mock.timers.tick(SPARE_IDLE_MS - 1);
  pushChunked(f, framed(BIG, 3));
  const p = f.next()!;
  f.recycle(p);
  f.recycle(f.next()!);
  t.mock.timers.tick(1);
  assert.equal(f.spareCount, 2, 'kept: the framer was busy');
  t.mock.timers.tick(SPARE_IDLE_MS);
  assert.equal(f.spareCount, 0, 'dropped after a quiet period');
  f.clear();
});

test('spares outlive a quiet period while packets are out (WRITEs waiting on the backend), not ten of them', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const f = new PacketFramer(1024 * 1024);
  pushChunked(f, Buffer.concat([framed(BIG, 1), framed(BIG, 2)]));
  f.recycle(f.next()!);
  const waiting = f.next()!;
  // one period per tick: a check re-armed inside a tick runs at the next one
  const quietPeriods = (n: number): void => { for (let i = 0; i < n; i++) t.mock.timers.tick(SPARE_IDLE_MS); };
  quietPeriods(3);
  assert.equal(f.spareCount, 1, 'a WRITE still out: the session will go on with its upload');
  f.recycle(waiting);
  quietPeriods(1);
  assert.equal(f.spareCount, 0, 'dropped once all came back and a quiet period passed');
  // a packet never given back (a request that failed without releasing it) pins the spares for ten periods at most
  pushChunked(f, Buffer.concat([framed(BIG, 3), framed(BIG, 4)]));
  f.recycle(f.next()!);
  f.next();
  quietPeriods(9);
  assert.equal(f.spareCount, 1);
  quietPeriods(1);
  assert.equal(f.spareCount, 0);
  f.clear();
});

test('the default spares cover 8 MiB of pending WRITEs plus a channel window of framed packets', () => {
  const pooled = 256 * 1024;
  assert.ok(DEFAULT_MAX_SPARES * pooled >= 8 * 1024 * 1024 + 2 * 1024 * 1024 + 2 * pooled);
  assert.equal(sparesFor(8 * 1024 * 1024), DEFAULT_MAX_SPARES);
  assert.ok(sparesFor(64 * 1024 * 1024) > DEFAULT_MAX_SPARES);
});

test('a packet given back after clear() counts as back: the spares it leaves go after one quiet period', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const f = new PacketFramer(1024 * 1024);
  pushChunked(f, framed(BIG, 1));
  const late = f.next()!;
  f.clear();
  f.recycle(late);
  assert.equal(f.spareCount, 1);
  t.mock.timers.tick(SPARE_IDLE_MS);
  assert.equal(f.spareCount, 0, 'nothing out any more: dropped at the first quiet period');
});
