/**
 * The decisions of common/upload-outcome.ts from declared features alone:
 * which existing files can be resumed (native, or rewritten up to
 * resume_max_size, SFTPGo's `size <= max`), at which offset, and which
 * failed uploads keep the bytes received (only a client interruption, only
 * with the backend's upload_mode bit); plus the order-restoring handle's
 * commit of an interrupted upload (the bytes in sequence only).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FsError } from '../../../src/common/errors';
import { OrderedWriteHandle } from '../../../src/common/ordered-writes';
import { canResume, CancelledUpload, checkResumeOffset, endUpload, keepsReceivedBytes } from '../../../src/common/upload-outcome';
import type { FileInfo, FsFeatures, WriteHandle } from '../../../src/vfs/fs';

const BASE: FsFeatures = {
  atomicRename: false, randomWrite: false, resume: false, commitOnClose: true, readWrite: false, symlinks: false,
  hardlinks: false, chmod: false, chown: false, chtimes: false, truncate: false, statvfs: false, serverSideCopy: true,
};
const LOCAL: FsFeatures = { ...BASE, atomicRename: true, randomWrite: true, resume: true, commitOnClose: false };

test('canResume: native resume at any size; rewrite up to resumeMaxSize inclusive; no limit declared: never', () => {
  assert.equal(canResume(LOCAL, 10 ** 12), true);
  const cloud = { ...BASE, resumeMaxSize: 1000 };
  assert.equal(canResume(cloud, 1000), true);
  assert.equal(canResume(cloud, 1001), false);
  // SFTPGo's size <= resume_max_size: an empty object is resumable even at the default 0
  assert.equal(canResume({ ...BASE, resumeMaxSize: 0 }, 0), true);
  assert.equal(canResume({ ...BASE, resumeMaxSize: 0 }, 1), false);
  assert.equal(canResume(BASE, 0), false, 'a backend without the rewrite (encrypted files) never resumes');
});

test('checkResumeOffset: a rewritten resume continues at the end only (FTP REST elsewhere is unsupported)', () => {
  const cloud = { ...BASE, resumeMaxSize: 1000 };
  checkResumeOffset(cloud, 0, 500);
  checkResumeOffset(cloud, 500, 500);
  assert.throws(() => checkResumeOffset(cloud, 200, 500), (e: unknown) => e instanceof FsError && e.kind === 'Unsupported');
  checkResumeOffset(LOCAL, 200, 500);
});

test('keepsReceivedBytes: only a client interruption, only on a commit-on-close backend with its bit set', () => {
  const keep = { ...BASE, keepPartialUploads: true };
  assert.equal(keepsReceivedBytes(keep, new FsError('Aborted', 'client went away')), true);
  assert.equal(keepsReceivedBytes(keep, undefined), false);
  for (const kind of ['QuotaExceeded', 'PermissionDenied', 'Unavailable', 'Generic', 'Unsupported'] as const) {
    assert.equal(keepsReceivedBytes(keep, new FsError(kind)), false, kind);
  }
  assert.equal(keepsReceivedBytes(keep, new Error('socket hang up')), false, 'an unclassified error is not kept');
  assert.equal(keepsReceivedBytes(BASE, new FsError('Aborted')), false, 'bit not set');
  assert.equal(keepsReceivedBytes(keep, new CancelledUpload('tus DELETE')), false, 'a cancel the client asked for is thrown away');
  assert.equal(keepsReceivedBytes({ ...LOCAL, keepPartialUploads: true }, new FsError('Aborted')), false, 'local files are upload_mode 0/1/2 business');
});

/** A sequential backend upload recording how it ended. */
class RecordingHandle implements WriteHandle {
  written = Buffer.alloc(0);
  ended: 'committed' | 'aborted' | undefined;
  failCommit: Error | undefined;
  async writeAt(buf: Buffer, position: number): Promise<void> {
    assert.equal(position, this.written.length, 'sequential');
    this.written = Buffer.concat([this.written, buf]);
  }
  async truncate(): Promise<void> { throw new FsError('Unsupported'); }
  async stat(): Promise<FileInfo> { throw new FsError('Unsupported'); }
  async sync(): Promise<void> { /* nothing to flush */ }
  async close(): Promise<void> {
    if (this.failCommit) { this.ended = 'aborted'; throw this.failCommit; }
    this.ended = 'committed';
  }
  async abort(): Promise<void> { this.ended = 'aborted'; }
}

test('endUpload: success commits; an interruption is committed with the bit, aborted without; a refusal is aborted', async () => {
  const notes: string[] = [];
  const note = (m: string): void => { notes.push(m); };
  const keep = { ...BASE, keepPartialUploads: true };
  const ok = new RecordingHandle();
  assert.equal(await endUpload(ok, keep, undefined, note), undefined);
  assert.equal(ok.ended, 'committed');
  const cut = new RecordingHandle();
  const aborted = new FsError('Aborted', 'client went away');
  assert.equal(await endUpload(cut, keep, aborted, note), aborted, 'the upload still reports its interruption');
  assert.equal(cut.ended, 'committed');
  assert.match(notes.at(-1) ?? '', /kept/);
  const cutNoBit = new RecordingHandle();
  await endUpload(cutNoBit, BASE, aborted, note);
  assert.equal(cutNoBit.ended, 'aborted');
  const quota = new RecordingHandle();
  await endUpload(quota, keep, new FsError('QuotaExceeded'), note);
  assert.equal(quota.ended, 'aborted');
  const backendDown = new RecordingHandle();
  backendDown.failCommit = new FsError('Unavailable');
  assert.equal(await endUpload(backendDown, keep, aborted, note), aborted);
  assert.equal(backendDown.ended, 'aborted', 'a commit the backend refuses stores nothing');
  assert.match(notes.at(-1) ?? '', /nothing stored/);
  const failingOk = new RecordingHandle();
  failingOk.failCommit = new FsError('Unavailable', 'down');
  assert.equal((await endUpload(failingOk, BASE, undefined, note))?.message, 'down');
});

test('OrderedWriteHandle.closeReceived: commits the bytes in sequence, drops those past a gap', async () => {
  const inner = new RecordingHandle();
  const h = new OrderedWriteHandle(inner, 0);
  await h.writeAt(Buffer.from('AAAA'), 0);
  await h.writeAt(Buffer.from('CCCC'), 8); // held: BBBB at 4 never arrives
  await h.closeReceived();
  assert.equal(inner.ended, 'committed');
  assert.equal(inner.written.toString(), 'AAAA');
  // a gap is an error for a normal close
  const inner2 = new RecordingHandle();
  const h2 = new OrderedWriteHandle(inner2, 0);
  await h2.writeAt(Buffer.from('CCCC'), 8);
  await assert.rejects(h2.close());
  assert.equal(inner2.ended, 'aborted');
});

test('OrderedWriteHandle.closeReceived after a backend write failure stores nothing', async () => {
  const inner = new RecordingHandle();
  inner.writeAt = async () => { throw new FsError('Unavailable', 'part upload failed'); };
  const h = new OrderedWriteHandle(inner, 0);
  await assert.rejects(h.writeAt(Buffer.from('AAAA'), 0));
  await assert.rejects(h.closeReceived(), /part upload failed/);
  assert.equal(inner.ended, 'aborted');
});
