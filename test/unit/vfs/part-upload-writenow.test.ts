/**
 * writeNow of the part-upload engine and of the ordered writer in front of
 * it: a write that fits in the part being filled is copied at once (the
 * SFTP session may then reuse its packet), anything that needs a part sent,
 * or that could pass a write still running, is refused so writeAt keeps
 * the order. The bytes of every part are checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FsError } from '../../../src/common/errors';
import { OrderedWriteHandle } from '../../../src/common/ordered-writes';
import { NO_STORAGE_METRICS } from '../../../src/metrics/storage';
import { PartUploadHandle, type PartStore } from '../../../src/vfs/part-upload';

/** Records each part's bytes; a part's upload finishes when the test releases it. */
class RecordingStore implements PartStore {
  readonly label = 'test store';
  readonly backend = 's3' as const;
  readonly objectName = 'obj';
  parts: string[] = [];
  completed = 0;
  private readonly waiting: (() => void)[] = [];
  uploadPart(index: number, body: Buffer): Promise<void> {
    this.parts[index - 1] = body.toString();
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  releaseAll(): void {
    for (const r of this.waiting.splice(0)) r();
  }
  async putWhole(body: Buffer): Promise<void> { this.parts = [body.toString()]; }
  async complete(parts: number): Promise<void> { this.completed = parts; }
  async discard(): Promise<void> {}
  mapError(e: unknown): FsError { return new FsError('Generic', String(e)); }
}

/** Awaits `p`, finishing the store's part uploads as they come (bounded: a few event-loop turns). */
async function settled<T>(p: Promise<T>, store: RecordingStore): Promise<T> {
  let done = false;
  const watched = p.finally(() => { done = true; });
  for (let i = 0; i < 20 && !done; i++) {
    store.releaseAll();
    await new Promise((r) => setImmediate(r));
  }
  return watched;
}

const handle = (store: RecordingStore): PartUploadHandle =>
  new PartUploadHandle(store, { name: 'obj', partSize: 4, concurrency: 1, metrics: NO_STORAGE_METRICS });

test('part upload writeNow: copies into the part being filled, refuses a write that completes a part', async () => {
  const store = new RecordingStore();
  const h = handle(store);
  const buf = Buffer.from('ab');
  assert.equal(h.writeNow(buf, 0), true);
  buf.fill(0x7a); // the caller reuses its buffer at once: the bytes were copied
  assert.equal(h.writeNow(Buffer.from('c'), 5), false, 'not the next offset');
  assert.equal(h.writeNow(Buffer.from('cd'), 2), false, 'would fill the 4-byte part: sent by writeAt');
  await settled(h.writeAt(Buffer.from('cd'), 2), store);
  assert.deepEqual(store.parts, ['abcd']);
  assert.equal(h.writeNow(Buffer.from('e'), 4), true, 'a fresh part while part 1 is still in flight');
  const blocked = h.writeAt(Buffer.from('fgh'), 5); // fills part 2: waits for part 1 (concurrency 1)
  assert.equal(h.writeNow(Buffer.from('i'), 8), false, 'a writeAt is still running');
  await settled(blocked, store);
  await h.writeAt(Buffer.from('i'), 8);
  await settled(h.close(), store);
  assert.deepEqual(store.parts, ['abcd', 'efgh', 'i']);
  assert.equal(store.completed, 3);
});

test('ordered writer writeNow: only at the next offset with nothing held or running', async () => {
  const store = new RecordingStore();
  const o = new OrderedWriteHandle(handle(store), 0);
  assert.equal(o.writeNow(Buffer.from('a'), 0), true);
  assert.equal(o.writeNow(Buffer.from('b'), 2), false, 'ahead of the next offset');
  await o.writeAt(Buffer.from('c'), 2); // held (out of order), acknowledged at once
  assert.equal(o.writeNow(Buffer.from('b'), 1), false, 'data is held: the drain keeps the order');
  const inOrder = o.writeAt(Buffer.from('b'), 1);
  assert.equal(o.writeNow(Buffer.from('d'), 3), false, 'an in-order write is still running');
  await settled(inOrder, store); // the drain goes on with the held 'c'
  assert.equal(o.writeNow(Buffer.from('d'), 3), false, 'fills the part: only writeAt sends it');
  await settled(o.writeAt(Buffer.from('d'), 3), store);
  assert.equal(o.writeNow(Buffer.from('e'), 4), true);
  await settled(o.close(), store);
  assert.deepEqual(store.parts, ['abcd', 'e']);
});
