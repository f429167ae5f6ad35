/**
 * The upload engine of the object stores that take a file as numbered parts
 * (S3 multipart uploads, Azure staged blocks): bytes are copied into part
 * buffers of the configured part size; a full part is sent while the next
 * fills, at most `concurrency` parts in flight (writeAt waits for a free
 * slot: backpressure to the client), so memory stays under
 * (concurrency + 1) × part size whatever the file size. Part buffers are
 * reused once sent. A file smaller than one part goes in one request at
 * close. Nothing is visible before close() makes the object from its parts;
 * a failure or abort() never does, and lets the store drop what was sent.
 *
 * The store (s3/upload.ts, azblob/upload.ts) says how one part, a whole small
 * file, the completion and the discard are sent; this file holds the rules.
 */
import { FsError } from '../common/errors';
import type { StorageBackendName, StorageMetrics } from '../metrics/storage';
import type { FileInfo, WriteHandle } from './fs';
import { uploadingInfo } from './upload-path';

export interface PartStore {
  /** for messages: "S3", "Azure Blob" */
  readonly label: string;
  /** for sftpgo_*_transfers metrics */
  readonly backend: StorageBackendName;
  /** the object, for messages */
  readonly objectName: string;
  /** sends part `index` (1-based); `stop` fires when the upload is aborted */
  uploadPart(index: number, body: Buffer, stop: AbortSignal): Promise<void>;
  /** a file smaller than one part, in one request */
  putWhole(body: Buffer, stop: AbortSignal): Promise<void>;
  /** makes the object from parts 1..parts, all sent */
  complete(parts: number, stop: AbortSignal): Promise<void>;
  /** after a failure or an abort, with no part in flight: drops what was sent (`parts` sent or started) */
  discard(parts: number): Promise<void>;
  mapError(e: unknown, op: string): FsError;
}

export interface PartUploadParams {
  /** the file's base name (stat) */
  name: string;
  partSize: number;
  concurrency: number;
  metrics: StorageMetrics;
}

export class PartUploadHandle implements WriteHandle {
  private written = 0;
  private part: Buffer | undefined;
  private partFill = 0;
  /** part buffers whose upload finished, reused: no part-sized allocation per part for the GC to chase */
  private readonly spare: Buffer[] = [];
  private partsStarted = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: FsError | undefined;
  private ended = false;
  private readonly stop = new AbortController();
  private readonly started = new Date();

  constructor(private readonly store: PartStore, private readonly p: PartUploadParams) {}

  async writeAt(buf: Buffer, position: number): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.ended) throw new FsError('Aborted', 'the upload is closed');
    if (position !== this.written) {
      throw new FsError('Unsupported', `${this.store.label} uploads are sequential: write at ${position}, expected ${this.written}`);
    }
    let off = 0;
    // bounded: each round copies at least one byte (the part has room) or sends a full part
    while (off < buf.length) {
      this.part ??= this.spare.pop() ?? Buffer.allocUnsafe(this.p.partSize);
      const n = buf.copy(this.part, this.partFill, off);
      this.partFill += n;
      off += n;
      this.written += n;
      if (this.partFill === this.p.partSize) await this.sendPart();
    }
  }

  /** Detaches the filled part, sends it, and waits until fewer than `concurrency` parts are in flight. */
  private async sendPart(): Promise<void> {
    const full = this.part as Buffer;
    const body = full.subarray(0, this.partFill);
    this.part = undefined;
    this.partFill = 0;
    const index = ++this.partsStarted;
    const sent = this.store.uploadPart(index, body, this.stop.signal).then(() => { this.spare.push(full); }, (e: unknown) => {
      this.failure ??= this.store.mapError(e, `upload part ${index} of ${this.store.objectName}`);
    });
    const tracked = sent.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    // bounded: every round waits for one of at most `concurrency` parts to settle
    while (this.inFlight.size >= this.p.concurrency) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
  }

  async truncate(size: number): Promise<void> {
    if (size !== this.written) throw new FsError('Unsupported', `${this.store.label} uploads cannot be truncated`);
  }

  async stat(): Promise<FileInfo> {
    return uploadingInfo(this.p.name, this.written, this.started);
  }

  async sync(): Promise<void> {
    // nothing is durable before close(): parts are not an object yet
  }

  async close(): Promise<void> {
    if (this.ended) throw new FsError('Aborted', 'the upload is closed');
    try {
      if (this.partsStarted === 0) {
        const body = this.part ? this.part.subarray(0, this.partFill) : Buffer.alloc(0);
        await this.store.putWhole(body, this.stop.signal).catch((e: unknown) => { throw this.store.mapError(e, `put ${this.store.objectName}`); });
        this.part = undefined;
      } else {
        if (this.partFill > 0) await this.sendPart();
        // bounded: the set only shrinks now that no part is added
        while (this.inFlight.size > 0) await Promise.race(this.inFlight);
        if (this.failure) throw this.failure;
        await this.store.complete(this.partsStarted, this.stop.signal)
          .catch((e: unknown) => { throw this.store.mapError(e, `complete ${this.store.objectName}`); });
      }
      this.ended = true;
      this.spare.length = 0;
      this.p.metrics.transferCompleted(this.store.backend, 'upload', this.written, false);
    } catch (e) {
      await this.abort(e as Error);
      throw e instanceof FsError ? e : this.store.mapError(e, `upload ${this.store.objectName}`);
    }
  }

  async abort(reason: Error): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.failure ??= reason instanceof FsError ? reason : new FsError('Aborted', reason.message);
    this.part = undefined;
    this.spare.length = 0;
    this.stop.abort();
    await Promise.allSettled([...this.inFlight]);
    this.p.metrics.transferCompleted(this.store.backend, 'upload', this.written, true);
    if (this.partsStarted > 0) await this.store.discard(this.partsStarted);
  }
}
