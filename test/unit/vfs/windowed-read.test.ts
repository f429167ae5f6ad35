/**
 * The object stores' windowed reader driven as the SFTP session drives it:
 * pipelined reads issued in order, several in progress, some crossing a
 * window boundary. Every window must be fetched once (no read-ahead dropped
 * and fetched again), data must come back intact, a jump must fetch only
 * the window it needs, and a dropped read-ahead must be cancelled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FsError } from '../../../src/common/errors';
import { NO_STORAGE_METRICS } from '../../../src/metrics/storage';
import { WindowedReadHandle } from '../../../src/vfs/windowed-read';

const KB = 1024;
const MB = 1024 * KB;

/** The object's byte at `pos`: a pattern that catches data from the wrong offset. */
const byteAt = (pos: number): number => (pos * 31 + (pos >> 16)) & 0xff;

interface Recorder {
  handle: WindowedReadHandle;
  fetched: number[];
  cancelled: number[];
  /** answers the oldest GET still waiting; false when none waits */
  answerOne(): boolean;
  inFlight(): number;
}

/**
 * A handle over a synthetic object whose ranged GETs wait until the test
 * answers them (one at a time, oldest first): the backend is slower than the
 * client, as S3 is, so reads pile up behind windows still on their way.
 */
function objectOf(size: number, partSize: number, concurrency: number): Recorder {
  const fetched: number[] = [];
  const cancelled: number[] = [];
  const waiting: { answer: () => void; signal: AbortSignal }[] = [];
  let inFlight = 0;
  const handle = new WindowedReadHandle({
    name: 'obj', size, partSize, concurrency, partMaxTime: 0, backend: 's3', metrics: NO_STORAGE_METRICS,
    mapError: (e) => (e instanceof FsError ? e : new FsError('Generic', String(e))),
    fetchRange: (start, end, buf, signal) => {
      fetched.push(start / partSize);
      inFlight++;
      return new Promise<number>((resolve, reject) => {
        let answered = false;
        signal.addEventListener('abort', () => {
          if (answered) return;
          inFlight--;
          cancelled.push(start / partSize);
          reject(new Error('aborted'));
        }, { once: true });
        waiting.push({
          signal,
          answer: () => {
            answered = true;
            for (let p = start; p <= end; p++) buf[p - start] = byteAt(p);
            inFlight--;
            resolve(end - start + 1);
          },
        });
      });
    },
  });
  const answerOne = (): boolean => {
    // bounded: each round removes one entry
    for (let w = waiting.shift(); w !== undefined; w = waiting.shift()) {
      if (!w.signal.aborted) { w.answer(); return true; }
    }
    return false;
  };
  return { handle, fetched, cancelled, answerOne, inFlight: () => inFlight };
}

/**
 * Reads the whole object as the SFTP session serves a pipelining client:
 * `chunk`-byte reads in bursts of `burst` bytes started in one go (a socket
 * read brings many requests), the next burst once these are answered; GETs
 * are answered as soon as asked, so the read-ahead is ready as it is with a
 * backend that keeps up.
 */
async function burstRead(o: Recorder, size: number, chunk: number, burst: number): Promise<void> {
  // bounded: every round starts at least one read
  for (let next = 0; next < size;) {
    const reads: Promise<void>[] = [];
    for (let inBurst = 0; inBurst + chunk <= burst && next < size;) {
      const pos = next;
      const len = Math.min(chunk, size - pos);
      next += len;
      inBurst += len;
      const buf = Buffer.alloc(len);
      reads.push(o.handle.readAt(buf, 0, len, pos).then((n) => {
        assert.equal(n, len);
        for (let i = 0; i < len; i++) if (buf[i] !== byteAt(pos + i)) assert.fail(`wrong byte at ${pos + i}`);
      }));
    }
    const all = Promise.all(reads);
    let settled = false;
    all.then(() => { settled = true; }, () => { settled = true; });
    // bounded: each round answers a GET or waits for the loop to turn (reads only wait on GETs)
    while (!settled) {
      if (!o.answerOne()) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await all;
  }
}

test('bursts of pipelined reads crossing window boundaries fetch every window once', async () => {
  const size = 64 * MB + 12345;
  const partSize = 5 * MB;
  const o = objectOf(size, partSize, 5);
  // OpenSSH's 255 KiB reads with 8 MiB in flight (the SFTP session's read budget): reads cross boundaries late
  await burstRead(o, size, 255 * KB, 8 * MB);
  await o.handle.close();
  const windows = Math.ceil(size / partSize);
  assert.deepEqual([...o.fetched].sort((a, b) => a - b), Array.from({ length: windows }, (_, i) => i));
  assert.deepEqual(o.cancelled, []);
});

test('bursts spanning several small windows fetch every window once (windows still being read stay findable)', async () => {
  const size = 24 * MB + 777;
  const partSize = 1 * MB;
  const o = objectOf(size, partSize, 4);
  // an 8 MiB burst moves the frontier eight windows on before the first reads cross their boundaries
  await burstRead(o, size, 255 * KB, 8 * MB);
  await o.handle.close();
  const windows = Math.ceil(size / partSize);
  assert.deepEqual([...o.fetched].sort((a, b) => a - b), Array.from({ length: windows }, (_, i) => i));
  assert.deepEqual(o.cancelled, []);
});

test('a jump fetches only its window and cancels the read-ahead nobody waits for', async () => {
  const partSize = 1 * MB;
  const o = objectOf(40 * MB, partSize, 4);
  const buf = Buffer.alloc(1000);
  const first = o.handle.readAt(buf, 0, 1000, 0);
  // a sequential read keeps four windows coming
  assert.deepEqual(o.fetched, [0, 1, 2, 3]);
  assert.ok(o.answerOne());
  assert.equal(await first, 1000);
  // windows 1-3 are still on their way when the client jumps to window 30
  const jumped = o.handle.readAt(buf, 0, 1000, 30 * MB);
  assert.deepEqual(o.fetched, [0, 1, 2, 3, 30]);
  // furthest first: a streamed run cut by its first cancelled window starts no single GETs for the others
  assert.deepEqual(o.cancelled, [3, 2, 1]);
  assert.ok(o.answerOne());
  assert.equal(await jumped, 1000);
  assert.equal(buf[0], byteAt(30 * MB));
  await o.handle.close();
  assert.equal(o.inFlight(), 0);
});

test('readvAt fills its buffers in order across a window boundary, and stops short at the end of the object', async () => {
  const partSize = 64 * KB;
  const size = 3 * partSize + 100;
  const o = objectOf(size, partSize, 2);
  // the payload regions of SSH packets: uneven lengths, one empty, the read crossing from window 0 into window 1
  const lens = [13, 32 * KB, 0, 32 * KB - 13, 40 * KB, 7];
  const targets = lens.map((l) => Buffer.alloc(l, 0xee));
  const start = partSize - 40 * KB;
  const read = o.handle.readvAt(targets, start);
  // bounded: each round answers a GET or waits for the loop to turn
  let settled = false;
  read.then(() => { settled = true; }, () => { settled = true; });
  while (!settled) if (!o.answerOne()) await new Promise<void>((resolve) => setImmediate(resolve));
  const total = lens.reduce((a, b) => a + b, 0);
  assert.equal(await read, total);
  const joined = Buffer.concat(targets);
  for (let i = 0; i < total; i++) if (joined[i] !== byteAt(start + i)) assert.fail(`wrong byte at ${start + i}`);
  // at the end: 100 bytes are left, the second buffer is not touched
  const tail = [Buffer.alloc(60, 0xee), Buffer.alloc(60, 0xee)];
  const last = o.handle.readvAt(tail, size - 100);
  settled = false;
  last.then(() => { settled = true; }, () => { settled = true; });
  while (!settled) if (!o.answerOne()) await new Promise<void>((resolve) => setImmediate(resolve));
  assert.equal(await last, 100);
  for (let i = 0; i < 100; i++) assert.equal(Buffer.concat(tail)[i], byteAt(size - 100 + i));
  assert.ok(tail[1]!.subarray(40).every((b) => b === 0xee));
  await o.handle.close();
});
