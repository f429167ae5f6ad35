/**
 * Cases for the streamed sequential read of an object-store backend (one
 * ranged GET per run of read-ahead windows), run against a real emulator or
 * the GCS test server by each backend's test file: the GETs are counted at
 * the server (or a counting proxy in front of it), never in the reader.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import type { Fs, ReadHandle } from '../../src/vfs/fs';

export interface StreamedReadTarget {
  fs: Fs;
  /** the window size the backend reads with */
  partSize: number;
  /** stores an object behind the backend's back (not through fs) */
  put(p: string, data: Buffer): Promise<void>;
  /** the Range headers of the media GETs seen so far for path p */
  gets(p: string): string[];
  /** responses the server is still sending */
  inFlight(): Set<{ once(ev: 'close', cb: () => void): unknown; closed?: boolean }>;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Reads the whole handle as SFTP clients do: many 255 KiB reads in flight, in order. */
export async function pipelinedRead(h: ReadHandle, inFlight = 16, chunk = 255 * 1024): Promise<Buffer> {
  const out = Buffer.alloc(h.size);
  let next = 0;
  const lane = async (): Promise<void> => {
    // bounded by the size: each round claims the next chunk
    while (next < h.size) {
      const pos = next;
      next += chunk;
      const n = Math.min(chunk, h.size - pos);
      const got = await h.readAt(out, pos, n, pos);
      assert.equal(got, n, `short read at ${pos}`);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return out;
}

/** Resolves once the server has closed every response it was sending. */
export async function allClosed(t: StreamedReadTarget): Promise<void> {
  // bounded: each round waits for one response to close
  for (const r of [...t.inFlight()]) {
    if (r.closed) continue;
    await once(r as unknown as NodeJS.EventEmitter, 'close');
  }
  assert.equal(t.inFlight().size, 0);
}

export function streamedReadCases(name: string, target: () => StreamedReadTarget): void {
  test(`${name}: a sequential 64 MiB read makes O(1) GETs, byte exact`, { timeout: 60_000 }, async () => {
    const t = target();
    const data = randomBytes(64 * 1024 * 1024);
    await t.put('/seq64', data);
    const h = await t.fs.openRead('/seq64');
    const got = await pipelinedRead(h);
    await h.close();
    assert.equal(sha(got), sha(data));
    const gets = t.gets('/seq64');
    const windows = Math.ceil(data.length / t.partSize);
    // one GET per window before: 13 (GCS, 5 MiB) or 64 (Azure here, 1 MiB)
    assert.ok(gets.length <= 2, `${gets.length} GETs for ${windows} windows: ${gets.join(', ')}`);
    await allClosed(t);
  });

  test(`${name}: jumps fetch single windows; a closed file destroys its run's GET`, { timeout: 60_000 }, async () => {
    const t = target();
    const data = randomBytes(24 * t.partSize + 777);
    await t.put('/jumps', data);
    const h = await t.fs.openRead('/jumps');
    // a sequential start opens a run, the handle is closed with the run in the middle of its body
    const head = Buffer.alloc(64 * 1024);
    assert.equal(await h.readAt(head, 0, head.length, 0), head.length);
    assert.ok(head.equals(data.subarray(0, head.length)));
    const before = t.gets('/jumps').length;
    for (const at of [20 * t.partSize + 5, 7 * t.partSize + 1, 15 * t.partSize]) {
      const b = Buffer.alloc(4096);
      assert.equal(await h.readAt(b, 0, b.length, at), b.length);
      assert.ok(b.equals(data.subarray(at, at + b.length)), `bytes at ${at}`);
    }
    const jumps = t.gets('/jumps').slice(before);
    assert.equal(jumps.length, 3, jumps.join(', '));
    for (const r of jumps) {
      const m = /bytes=(\d+)-(\d+)/.exec(r);
      assert.ok(m && Number(m[2]) - Number(m[1]) + 1 <= t.partSize, `a jump reads one window: ${r}`);
    }
    await h.close();
    await allClosed(t);
  });

  test(`${name}: an object replaced during a read fails the read, never mixes bytes`, { timeout: 60_000 }, async () => {
    const t = target();
    const old = randomBytes(12 * t.partSize);
    await t.put('/replaced', old);
    const h = await t.fs.openRead('/replaced');
    const head = Buffer.alloc(4096);
    assert.equal(await h.readAt(head, 0, head.length, 0), head.length);
    await t.put('/replaced', randomBytes(old.length));
    // a jump needs a new GET: it must not get the new object's bytes
    const far = Buffer.alloc(4096);
    await assert.rejects(h.readAt(far, 0, far.length, 9 * t.partSize));
    // whatever the sequential reads still return comes from the version opened
    let pos = head.length;
    // bounded by the size: each round reads a chunk or stops at the first failure
    while (pos < old.length) {
      const b = Buffer.alloc(Math.min(255 * 1024, old.length - pos));
      let n: number;
      try { n = await h.readAt(b, 0, b.length, pos); } catch { break; }
      assert.ok(b.subarray(0, n).equals(old.subarray(pos, pos + n)), `bytes at ${pos} are the old object's`);
      pos += n;
    }
    await h.close();
    await allClosed(t);
  });
}
