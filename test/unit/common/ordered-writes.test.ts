import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FsError } from '../../../src/common/errors';
import { OrderedWriteHandle } from '../../../src/common/ordered-writes';
import type { FileInfo, WriteHandle } from '../../../src/vfs/fs';

/** An append-only handle that records what it got, as an object store's writer would. */
class AppendOnly implements WriteHandle {
  data: Buffer[] = [];
  size = 0;
  closed = false;
  aborted: Error | undefined;
  failAt = -1;
  async writeAt(buf: Buffer, position: number): Promise<void> {
    if (position !== this.size) throw new FsError('Unsupported', `offset ${position} != ${this.size}`);
    if (this.failAt >= 0 && position >= this.failAt) throw new FsError('Generic', 'backend down');
    this.data.push(Buffer.from(buf));
    this.size += buf.length;
  }
  async truncate(): Promise<void> { throw new FsError('Unsupported'); }
  async stat(): Promise<FileInfo> { throw new FsError('Unsupported'); }
  async sync(): Promise<void> {}
  async close(): Promise<void> { this.closed = true; }
  async abort(reason: Error): Promise<void> { this.aborted = reason; }
}

test('ordered writer: out of order writes land in order, the caller buffers may be reused', async () => {
  const inner = new AppendOnly();
  const o = new OrderedWriteHandle(inner, 0);
  const reused = Buffer.from('cc');
  const p3 = o.writeAt(reused, 4);
  reused.fill(0x7a); // the SFTP layer reuses its buffer after the call returns
  const p2 = o.writeAt(Buffer.from('bb'), 2);
  const p1 = o.writeAt(Buffer.from('aa'), 0);
  await Promise.all([p1, p2, p3]);
  await o.close();
  assert.equal(Buffer.concat(inner.data).toString(), 'aabbcc');
  assert.equal(inner.closed, true);
});

test('ordered writer: a rewrite or a write too far ahead is Unsupported', async () => {
  const inner = new AppendOnly();
  const o = new OrderedWriteHandle(inner, 0, 10);
  await o.writeAt(Buffer.from('0123'), 0);
  await assert.rejects(o.writeAt(Buffer.from('x'), 1), (e: unknown) => e instanceof FsError && e.kind === 'Unsupported');
  await assert.rejects(o.writeAt(Buffer.alloc(11), 100), (e: unknown) => e instanceof FsError && e.kind === 'Unsupported');
  await o.close();
});

test('ordered writer: a gap left at close aborts the upload instead of committing it', async () => {
  const inner = new AppendOnly();
  const o = new OrderedWriteHandle(inner, 0);
  await o.writeAt(Buffer.from('ab'), 0);
  // held and acknowledged: the SFTP session sends the next write only after this one answers
  await o.writeAt(Buffer.from('zz'), 10);
  await assert.rejects(o.close(), /upload incomplete/);
  assert.equal(inner.closed, false);
  assert.ok(inner.aborted);
});

test('ordered writer: a backend error on held data fails the close and aborts the backend upload', async () => {
  const inner = new AppendOnly();
  inner.failAt = 2;
  const o = new OrderedWriteHandle(inner, 0);
  await o.writeAt(Buffer.from('cd'), 2);
  // the held chunk fails when its turn comes: the failure reaches the next write and the close
  await o.writeAt(Buffer.from('ab'), 0);
  await assert.rejects(o.close(), /backend down/);
  assert.ok(inner.aborted, 'the backend upload is aborted, not committed');
  assert.equal(inner.closed, false);
  await assert.rejects(o.writeAt(Buffer.from('ef'), 4), /backend down/);
});
