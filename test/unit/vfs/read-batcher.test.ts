/** Sequential read batching (vfs/read-batcher.ts) over a fake file whose reads the test completes. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SequentialReadBatcher, SpeculationBudget, type FileVersion } from '../../../src/vfs/read-batcher';

const HEAD = 13;

interface PendingRead { buffers: Buffer[]; position: number; done: (fail?: Error) => void }

/** A file in memory; each readv waits until the test calls done() and copies the content as it is then. */
class FakeFile {
  content: Buffer;
  /** bumped by the test when it changes the content in place (an mtime) */
  mtime = 1;
  readonly calls: PendingRead[] = [];
  /** every readv issued: position and buffer sizes */
  readonly issued: Array<{ position: number; sizes: number[] }> = [];
  constructor(size: number) {
    this.content = Buffer.alloc(size);
    for (let i = 0; i < size; i++) this.content[i] = (i * 7 + 3) & 0xff;
  }
  readonly readv = (buffers: Buffer[], position: number): Promise<number> => new Promise((resolve, reject) => {
    this.issued.push({ position, sizes: buffers.map((b) => b.length) });
    this.calls.push({
      buffers, position,
      done: (fail) => {
        if (fail) { reject(fail); return; }
        let pos = position;
        let total = 0;
        for (const b of buffers) {
          const n = Math.max(0, Math.min(b.length, this.content.length - pos));
          if (n === 0) break;
          this.content.copy(b, 0, pos, pos + n);
          total += n; pos += n;
          if (n < b.length) break;
        }
        resolve(total);
      },
    });
  });
  readonly version = (): FileVersion => ({ size: this.content.length, mtimeMs: this.mtime });
  /** Completes every read issued so far, in order. */
  finishAll(): void {
    for (const c of this.calls.splice(0)) c.done();
  }
}

/** Lets settled promises' callbacks run (bounded). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

/** Starts a read, lets the batcher issue its file read, completes every pending file read, returns the reply. */
async function readNow(f: FakeFile, b: SequentialReadBatcher, length: number, position: number): Promise<Buffer> {
  const p = b.read(HEAD, length, position);
  await settle();
  f.finishAll();
  return p;
}

function assertData(f: FakeFile, reply: Buffer, position: number, length: number): void {
  assert.equal(reply.length, HEAD + length, `reply at ${position}: ${reply.length - HEAD} bytes, want ${length}`);
  assert.deepEqual(reply.subarray(HEAD), f.content.subarray(position, position + length), `data at ${position}`);
}

describe('sequential read batcher', () => {
  test('a READ that continues the previous one reads its followers too; they are served without a file read', async () => {
    const f = new FakeFile(10_000);
    const budget = new SpeculationBudget(1 << 20);
    const b = new SequentialReadBatcher(f.readv, f.version, f.content.length, budget, 4 * (HEAD + 100));
    assertData(f, await readNow(f, b, 100, 0), 0, 100);
    const second = b.read(HEAD, 100, 100);
    await settle();
    assert.equal(f.calls.length, 1);
    assert.equal(f.calls[0]!.buffers.length, 4, 'the head and three followers in one readv');
    assert.equal(b.pending, 3);
    assert.equal(budget.inUse, 3 * (HEAD + 100));
    f.finishAll();
    assertData(f, await second, 100, 100);
    for (const pos of [200, 300, 400]) assertData(f, await b.read(HEAD, 100, pos), pos, 100);
    assert.equal(f.calls.length, 0, 'followers came from the batch');
    assert.equal(budget.inUse, 0);
    // the next READ starts the next batch
    const next = b.read(HEAD, 100, 500);
    await settle();
    assert.equal(f.calls[0]!.position, 500);
    f.finishAll();
    assertData(f, await next, 500, 100);
  });

  test('followers that arrive while the batch is still being read wait for it', async () => {
    const f = new FakeFile(10_000);
    const b = new SequentialReadBatcher(f.readv, f.version, f.content.length, new SpeculationBudget(1 << 20), 3 * (HEAD + 100));
    await readNow(f, b, 100, 0);
    const replies = [b.read(HEAD, 100, 100), b.read(HEAD, 100, 200), b.read(HEAD, 100, 300)];
    await settle();
    assert.equal(f.calls.length, 1);
    f.finishAll();
    const got = await Promise.all(replies);
    got.forEach((r, i) => assertData(f, r, 100 * (i + 1), 100));
  });

  test('out of order, overlapping and other-length requests are read as asked', async () => {
    const f = new FakeFile(10_000);
    const budget = new SpeculationBudget(1 << 20);
    const b = new SequentialReadBatcher(f.readv, f.version, f.content.length, budget, 4 * (HEAD + 100));
    await readNow(f, b, 100, 0);
    await readNow(f, b, 100, 100); // batch: 100 (head), 200, 300, 400
    assertData(f, await b.read(HEAD, 100, 300), 300, 100); // skips 200: still a predicted one
    assertData(f, await b.read(HEAD, 100, 200), 200, 100);
    assert.equal(f.calls.length, 0);
    // overlapping the prediction at 400: read directly, predictions dropped
    assertData(f, await readNow(f, b, 100, 350), 350, 100);
    assert.equal(budget.inUse, 0);
    assert.equal(b.pending, 0);
    // another length at the predicted position is not served from a batch
    await readNow(f, b, 100, 450); // sequential: new batch 450 (head), 550, 650, 750
    assertData(f, await readNow(f, b, 60, 550), 550, 60);
    assert.deepEqual(f.issued.at(-1)?.sizes.slice(0, 2), [60, 60], 'read from the file (a batch of its own length)');
  });

  test('no follower past the size at open: the end and a growing file are read directly', async () => {
    const f = new FakeFile(450);
    const b = new SequentialReadBatcher(f.readv, f.version, 450, new SpeculationBudget(1 << 20), 8 * (HEAD + 100));
    await readNow(f, b, 100, 0);
    const r = b.read(HEAD, 100, 100);
    await settle();
    assert.equal(f.calls[0]!.buffers.length, 3, 'head 100 + followers 200 and 300; 400 would pass the size');
    f.finishAll();
    assertData(f, await r, 100, 100);
    assertData(f, await b.read(HEAD, 100, 200), 200, 100);
    assertData(f, await b.read(HEAD, 100, 300), 300, 100);
    // the file grew after open: its new bytes are read as they are now
    f.content = Buffer.concat([f.content, Buffer.alloc(200, 0x5a)]);
    assertData(f, await readNow(f, b, 100, 400), 400, 100);
    assertData(f, await readNow(f, b, 100, 500), 500, 100);
    const end = await readNow(f, b, 100, 650);
    assert.equal(end.length, HEAD, 'EOF: no data');
  });

  test('a file truncated under a batch: the head gets what is there, followers read the file again', async () => {
    const f = new FakeFile(10_000);
    const b = new SequentialReadBatcher(f.readv, f.version, f.content.length, new SpeculationBudget(1 << 20), 4 * (HEAD + 100));
    await readNow(f, b, 100, 0);
    const head = b.read(HEAD, 100, 100);
    await settle();
    f.content = f.content.subarray(0, 250); // EOF in the middle of the second follower
    f.finishAll();
    assertData(f, await head, 100, 100);
    assertData(f, await readNow(f, b, 100, 200), 200, 50);
    assert.equal((await readNow(f, b, 100, 300)).length, HEAD, 'past the new end: EOF');
  });

  test('a file changed after its batch was read: followers read it again as it is now', async () => {
    const f = new FakeFile(10_000);
    const b = new SequentialReadBatcher(f.readv, f.version, f.content.length, new SpeculationBudget(1 << 20), 5 * (HEAD + 100));
    await readNow(f, b, 100, 0);
    assertData(f, await readNow(f, b, 100, 100), 100, 100); // batch done: 200, 300, 400, 500 predicted
    f.content = Buffer.from(f.content); // rewritten in place: new bytes, new mtime
    f.content.fill(0xee, 200, 300);
    f.mtime++;
    assertData(f, await readNow(f, b, 100, 200), 200, 100);
    assert.equal(f.issued.length, 3, 'read again');
    f.content = f.content.subarray(0, 350); // truncated
    f.mtime++;
    assertData(f, await readNow(f, b, 100, 300), 300, 50);
    assert.equal((await readNow(f, b, 100, 400)).length, HEAD, 'gone with the truncation: EOF');
  });

  test('a failed batch fails its head; the followers read the file themselves', async () => {
    const f = new FakeFile(10_000);
    const budget = new SpeculationBudget(1 << 20);
    const b = new SequentialReadBatcher(f.readv, f.version, f.content.length, budget, 3 * (HEAD + 100));
    await readNow(f, b, 100, 0);
    const head = b.read(HEAD, 100, 100);
    const follower = b.read(HEAD, 100, 200);
    await settle();
    assert.equal(f.calls.length, 1);
    f.calls.shift()!.done(new Error('EIO'));
    await assert.rejects(head, /EIO/);
    await settle();
    assert.equal(f.calls.length, 1, 'the follower reads directly');
    f.finishAll();
    assertData(f, await follower, 200, 100);
    assertData(f, await readNow(f, b, 100, 300), 300, 100);
    assert.equal(budget.inUse, 0);
  });

  test('closing drops the predictions and their budget, even with the batch in flight', async () => {
    const f = new FakeFile(10_000);
    const budget = new SpeculationBudget(1 << 20);
    const b = new SequentialReadBatcher(f.readv, f.version, f.content.length, budget, 4 * (HEAD + 100));
    await readNow(f, b, 100, 0);
    const head = b.read(HEAD, 100, 100);
    await settle();
    assert.equal(budget.inUse, 3 * (HEAD + 100));
    b.close();
    assert.equal(budget.inUse, 0);
    assert.equal(b.pending, 0);
    f.finishAll();
    assertData(f, await head, 100, 100);
    // a late READ after close starts no batch
    const late = b.read(HEAD, 100, 200);
    await settle();
    assert.equal(f.calls[0]!.buffers.length, 1);
    f.finishAll();
    assertData(f, await late, 200, 100);
    assert.equal(budget.inUse, 0);
  });

  test('without budget left, reads are plain', async () => {
    const f = new FakeFile(10_000);
    const budget = new SpeculationBudget(2 * (HEAD + 100));
    const b = new SequentialReadBatcher(f.readv, f.version, f.content.length, budget, 4 * (HEAD + 100));
    for (let pos = 0; pos < 500; pos += 100) {
      const r = b.read(HEAD, 100, pos);
      await settle();
      assert.equal(f.calls.length, 1);
      assert.equal(f.calls[0]!.buffers.length, 1, 'three followers do not fit in a budget of two');
      f.finishAll();
      assertData(f, await r, pos, 100);
    }
    assert.equal(budget.inUse, 0);
  });
});
