/**
 * Upload resume on object stores that cannot append (S3, Azure Blob): as
 * SFTPGo does, the new object is written from the start, the existing bytes
 * read back first and the client's bytes after them, so the object is
 * replaced only when the upload commits. Bounded by common.resume_max_size:
 * the backend refuses bigger objects before calling this.
 */
import { FsError } from '../common/errors';
import type { FsFeatures, ReadHandle, WriteHandle } from './fs';

/** read-back chunk: the part engine copies what it takes, so one buffer serves the whole copy */
const CHUNK = 1024 * 1024;

/** The features of a backend that resumes by rewriting objects up to `resumeMaxSize` and keeps interrupted uploads or not. */
export function cloudFeatures(base: FsFeatures, o: { resumeMaxSize?: number; keepPartialUploads?: boolean }): FsFeatures {
  return { ...base, resumeMaxSize: o.resumeMaxSize ?? 0, keepPartialUploads: o.keepPartialUploads ?? false };
}

/** Refuses a rewrite resume of an object over the limit (SFTPGo answers "operation unsupported"). */
export function checkRewriteSize(size: number, maxSize: number, backend: string): void {
  if (size > maxSize) {
    throw new FsError('Unsupported', `resuming uploads is not supported on ${backend} for files over common.resume_max_size (${maxSize} bytes)`);
  }
}

/**
 * Writes the `size` bytes of `source` at the start of the fresh upload
 * `target`; the caller's writes continue at `size`. On failure the upload is
 * aborted (nothing replaces the object) and the error thrown.
 */
export async function rewriteExisting(target: WriteHandle, source: ReadHandle, size: number): Promise<void> {
  const chunk = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, 1)));
  let pos = 0;
  try {
    // bounded: every round moves pos forward or throws
    while (pos < size) {
      const n = await source.readAt(chunk, 0, Math.min(chunk.length, size - pos), pos);
      if (n <= 0) throw new FsError('Generic', `the object shrank while it was read back for a resume (${pos} of ${size} bytes)`);
      await target.writeAt(chunk.subarray(0, n), pos);
      pos += n;
    }
  } catch (e) {
    await target.abort(e as Error).catch(() => undefined);
    throw e;
  } finally {
    await source.close().catch(() => undefined);
  }
}
