/**
 * A GCS upload streamed as a resumable upload: the SDK sends chunks of
 * upload_part_size (its buffer is the only copy held) and writeAt waits for
 * the stream to drain (backpressure to the client). The object exists only
 * once the last chunk is accepted at close(); abort() destroys the stream
 * before that, so the resumable session is never finalized and no partial
 * object replaces the old one, then cancels the session (a DELETE of its URI,
 * GCS's way: the chunks it holds are dropped now, not when it expires in a
 * week; the SDK does not do it when its stream is destroyed).
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { File } from '@google-cloud/storage';
import { FsError } from '../../common/errors';
import type { StorageMetrics } from '../../metrics/storage';
import { uploadingInfo } from '../upload-path';
import type { FileInfo, WriteHandle } from '../fs';
import { fromGcsError } from './client';

/** How long an abort waits for GCS to confirm the session's cancel. */
const CANCEL_TIMEOUT_MS = 5000;

export interface GcsUploadParams {
  file: File;
  name: string;
  storageClass: string;
  acl: string;
  partSize: number;
  partMaxTime: number;
  metrics: StorageMetrics;
  /** a resume: the bytes already in the object, the client's writes start here */
  startAt?: number;
  /** run once the upload is an object, before close() returns (a resume composes it onto the old object) */
  finalize?: () => Promise<void>;
}

export class GcsWriteHandle implements WriteHandle {
  private written: number;
  private readonly stream: Writable;
  private failure: FsError | undefined;
  private ended = false;
  private readonly started = new Date();
  /** the resumable session, once GCS has opened it */
  private sessionUri: string | undefined;
  private cancelled: Promise<void> | undefined;

  constructor(private readonly p: GcsUploadParams) {
    this.written = p.startAt ?? 0;
    this.stream = p.file.createWriteStream({
      resumable: true, chunkSize: p.partSize, validation: false,
      metadata: p.storageClass ? { storageClass: p.storageClass } : {},
      ...(p.acl ? { predefinedAcl: p.acl as 'private' } : {}),
    });
    this.stream.on('error', (e: unknown) => { this.failure ??= fromGcsError(e, `upload ${p.file.name}`); });
    this.stream.on('uri', (uri: unknown) => {
      if (typeof uri !== 'string') return;
      this.sessionUri = uri;
      // opened while an abort was under way: cancel it too
      if (this.ended && this.failure) void this.cancelSession();
    });
  }

  /**
   * Cancels the resumable session (GCS answers 499). The session URI is its
   * own authorisation. Best effort: a session left behind holds no object and
   * expires by itself, so a failure here only loses the early cleanup.
   */
  private cancelSession(): Promise<void> {
    const uri = this.sessionUri;
    if (!uri || this.cancelled) return this.cancelled ?? Promise.resolve();
    this.cancelled = fetch(uri, { method: 'DELETE', headers: { 'content-length': '0' }, signal: AbortSignal.timeout(CANCEL_TIMEOUT_MS) })
      .then(async (res) => { await res.arrayBuffer().catch(() => undefined); }, () => undefined);
    return this.cancelled;
  }

  /** Waits for `event` or a stream error, bounded by upload_part_max_time when set. */
  private async wait(event: 'drain' | 'finish'): Promise<void> {
    const signal = this.p.partMaxTime > 0 ? AbortSignal.timeout(this.p.partMaxTime) : undefined;
    try {
      await once(this.stream, event, { signal });
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw new FsError('Generic', `gcs upload ${this.p.file.name}: chunk not accepted within upload_part_max_time`);
      throw this.failure ?? fromGcsError(e, `upload ${this.p.file.name}`);
    }
  }

  async writeAt(buf: Buffer, position: number): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.ended) throw new FsError('Aborted', 'the upload is closed');
    if (position !== this.written) {
      throw new FsError('Unsupported', `GCS uploads are sequential: write at ${position}, expected ${this.written}`);
    }
    this.written += buf.length;
    // the SDK keeps a reference until the chunk is sent: give it its own copy
    if (!this.stream.write(Buffer.from(buf))) await this.wait('drain');
    if (this.failure) throw this.failure;
  }

  async truncate(size: number): Promise<void> {
    if (size !== this.written) throw new FsError('Unsupported', 'GCS uploads cannot be truncated');
  }

  async stat(): Promise<FileInfo> {
    return uploadingInfo(this.p.name, this.written, this.started);
  }

  async sync(): Promise<void> {
    // nothing is durable before close(): chunks are not an object yet
  }

  async close(): Promise<void> {
    if (this.ended) throw new FsError('Aborted', 'the upload is closed');
    try {
      if (this.failure) throw this.failure;
      const finished = this.wait('finish');
      this.stream.end();
      await finished;
      if (this.failure) throw this.failure;
      this.ended = true;
      this.p.metrics.transferCompleted('gcs', 'upload', this.written - (this.p.startAt ?? 0), false);
      if (this.p.finalize) await this.p.finalize();
    } catch (e) {
      await this.abort(e as Error);
      throw e instanceof FsError ? e : fromGcsError(e, `upload ${this.p.file.name}`);
    }
  }

  async abort(reason: Error): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.failure ??= reason instanceof FsError ? reason : new FsError('Aborted', reason.message);
    if (!this.stream.destroyed) {
      const closed = once(this.stream, 'close').catch(() => undefined);
      this.stream.destroy(this.failure);
      await closed;
    }
    await this.cancelSession();
    this.p.metrics.transferCompleted('gcs', 'upload', this.written - (this.p.startAt ?? 0), true);
  }
}
