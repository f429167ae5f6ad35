/**
 * The two upload decisions object stores add to the open and close
 * sequence, from the backend's declared features only:
 * - may an existing file be resumed (SFTPGo IsUploadResumeSupported: natively,
 *   or by the backend rewriting it when it is small enough);
 * - does an upload the client interrupted keep the bytes received
 *   (common.upload_mode 4/8/16), or is it discarded as a failed one.
 */
import type { FsFeatures, WriteHandle } from '../vfs/fs';
import { FsError } from './errors';

/** An existing file of `size` bytes can be resumed on this storage. */
export function canResume(f: FsFeatures, size: number): boolean {
  // as SFTPGo's `size <= resume_max_size`: an empty object is resumable even at 0
  return f.resume || (f.resumeMaxSize !== undefined && size <= f.resumeMaxSize);
}

/**
 * A resume the backend emulates (it rebuilds the object) continues at the
 * end of the existing bytes only: SFTPGo's pipe takes the next byte, an FTP
 * REST to another offset is refused.
 */
export function checkResumeOffset(f: FsFeatures, offset: number, size: number): void {
  if (!f.resume && offset > 0 && offset !== size) {
    throw new FsError('Unsupported', `this storage resumes an upload at its end only (offset ${size}), not at ${offset}`);
  }
}

/**
 * The client asked for the upload to be thrown away (tus DELETE): an
 * interruption like any other for the protocols, but never kept.
 */
export class CancelledUpload extends FsError {
  constructor(reason: string) { super('Aborted', reason); }
}

/**
 * The upload ended with `err` caused by the client (its connection went
 * away, it aborted the transfer): SFTPGo stores what it received when the
 * backend's upload_mode bit is set. A refusal (quota, permission), a write
 * the storage could not honour or a backend failure is never kept.
 */
export function keepsReceivedBytes(f: FsFeatures, err: Error | undefined): boolean {
  return err instanceof FsError && err.kind === 'Aborted' && !(err instanceof CancelledUpload)
    && f.commitOnClose && f.keepPartialUploads === true;
}

/**
 * Ends the backend's upload as `err` decides: commit (no error, or an
 * interruption kept by keepsReceivedBytes) or abort. Returns the upload's
 * error: `err` itself, or the failure of a commit that was meant to succeed.
 */
export async function endUpload(h: WriteHandle, f: FsFeatures, err: Error | undefined, note: (msg: string) => void): Promise<Error | undefined> {
  if (!err) {
    try { await h.close(); } catch (e) { return e as Error; }
    return undefined;
  }
  if (!keepsReceivedBytes(f, err)) {
    await h.abort(err).catch(() => undefined);
    return err;
  }
  try {
    await (h.closeReceived ? h.closeReceived() : h.close());
    note(`upload interrupted (${err.message}): the bytes received are kept (common.upload_mode)`);
  } catch (e) {
    // the handle aborted itself: nothing replaced the previous object
    note(`upload interrupted (${err.message}): keeping the bytes received failed, nothing stored: ${(e as Error).message}`);
  }
  return err;
}
