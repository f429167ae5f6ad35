/**
 * The upload fast path: Upload.writeNow (inline local-disk writes, counted and
 * quota-checked like writeAt) and lentChunkUpload (chunks lent from one reused
 * read buffer, copied only when they must wait).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { FsError, isFsError } from '../../../src/common/errors';
import { lentChunkUpload } from '../../../src/common/pump';
import type { Upload } from '../../../src/common/types';
import { connect } from './helpers';
import { freshHomes, makeUser, PLAIN_UPLOAD } from './support';

const W = PLAIN_UPLOAD;
const freshHome = freshHomes();

/** Feeds `data` through `sink` the way a user-buffer socket does: one buffer reused for every chunk. */
async function feed(data: Buffer, chunk: number, sink: ReturnType<typeof lentChunkUpload>, resumed: () => Promise<void>): Promise<{ paused: number }> {
  const lentBuf = Buffer.alloc(chunk);
  let paused = 0;
  // bounded by data.length / chunk iterations
  for (let off = 0; off < data.length; off += chunk) {
    const n = data.copy(lentBuf, 0, off, Math.min(off + chunk, data.length));
    const goOn = sink.write(lentBuf.subarray(0, n));
    lentBuf.fill(0xee); // the next read overwrites the lent buffer
    if (!goOn) {
      paused++;
      await resumed();
    }
  }
  return { paused };
}

function resumeSignal(): { resume: () => void; resumed: () => Promise<void> } {
  let wake: (() => void) | undefined;
  let pending = 0;
  return {
    resume: () => { if (wake) { const w = wake; wake = undefined; w(); } else pending++; },
    resumed: () => (pending > 0 ? (pending--, Promise.resolve()) : new Promise<void>((r) => { wake = r; })),
  };
}

describe('upload fast path', () => {
  test('writeNow writes inline on local disk and counts like writeAt; quota still refuses', async () => {
    const home = freshHome();
    const h = await connect(makeUser(home, { quota_size: 10 }));
    const up = await h.conn.openWrite('/f', W);
    assert.equal(up.writeNow(Buffer.from('12345'), 0), true);
    assert.throws(() => up.writeNow(Buffer.from('678901'), 5), (e: unknown) => isFsError(e) && e.kind === 'QuotaExceeded');
    await up.close(new Error('quota'));
    await h.mgr.shutdown(0);
  });

  test('a bandwidth-limited upload never takes the fast path', async () => {
    const home = freshHome();
    const h = await connect(makeUser(home, { upload_bandwidth: 100_000 }));
    const up = await h.conn.openWrite('/f', W);
    assert.equal(up.writeNow(Buffer.from('x'), 0), false);
    await up.writeAt(Buffer.from('x'), 0);
    await up.close();
    assert.equal(readFileSync(path.join(home, 'f'), 'utf8'), 'x');
    await h.mgr.shutdown(0);
  });

  for (const [label, bandwidth] of [['inline', 0], ['copied and awaited (bandwidth limit)', 100_000]] as const) {
    test(`lent chunks land intact: ${label}`, async () => {
      const home = freshHome();
      const h = await connect(makeUser(home, { upload_bandwidth: bandwidth }));
      const up = await h.conn.openWrite('/f', W);
      const data = crypto.randomBytes(1024 * 1024 + 333);
      const sig = resumeSignal();
      const errors: Error[] = [];
      const sink = lentChunkUpload(up, 0, sig.resume, (e) => errors.push(e));
      const { paused } = await feed(data, 64 * 1024, sink, sig.resumed);
      await sink.flush();
      await up.close();
      assert.deepEqual(errors, []);
      if (bandwidth > 0) assert.ok(paused > 0, 'the source paused while copies were written');
      else assert.equal(paused, 0, 'nothing waited on the inline path');
      assert.ok(readFileSync(path.join(home, 'f')).equals(data));
      await h.mgr.shutdown(0);
    });
  }

  test('a failed write is reported once, pauses the source for good, and flush rejects with it', async () => {
    const failure = new FsError('QuotaExceeded');
    let writes = 0;
    const up = {
      writeNow: () => false,
      writeAt: async () => { writes++; throw failure; },
    } as unknown as Upload;
    const errors: Error[] = [];
    const sink = lentChunkUpload(up, 0, () => assert.fail('no resume after a failure'), (e) => errors.push(e));
    assert.equal(sink.write(Buffer.from('abc')), false);
    await assert.rejects(sink.flush(), (e: unknown) => e === failure);
    assert.equal(sink.write(Buffer.from('def')), false);
    assert.deepEqual(errors, [failure]);
    assert.equal(writes, 1);
  });

  test('an inline failure (writeNow throws) is reported at once', async () => {
    const failure = new FsError('QuotaExceeded');
    const up = { writeNow: () => { throw failure; }, writeAt: async () => undefined } as unknown as Upload;
    const errors: Error[] = [];
    const sink = lentChunkUpload(up, 0, () => undefined, (e) => errors.push(e));
    assert.equal(sink.write(Buffer.from('abc')), false);
    assert.deepEqual(errors, [failure]);
    await assert.rejects(sink.flush(), (e: unknown) => e === failure);
  });
});
