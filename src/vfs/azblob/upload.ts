/**
 * An Azure block blob upload streamed with bounded memory: bytes fill block
 * buffers of upload_part_size; a full block is staged while the next fills,
 * at most upload_concurrency blocks in flight (writeAt waits for a free slot:
 * backpressure to the client). close() commits the block list, making the
 * blob; a file smaller than one block is a single Put Blob at close. abort()
 * never commits: staged blocks stay uncommitted (Azure drops them after a
 * week) and the old blob, if any, is unchanged.
 */
import { randomBytes } from 'node:crypto';
import type { BlockBlobClient, BlobHTTPHeaders } from '@azure/storage-blob';
import { FsError } from '../../common/errors';
import type { StorageMetrics } from '../../metrics/storage';
import { uploadingInfo } from '../upload-path';
import type { FileInfo, WriteHandle } from '../fs';
import { AZ_CALL_TIMEOUT_MS, AZ_LONG_TIMEOUT_MS, fromAzError } from './client';

export interface AzUploadParams {
  blob: BlockBlobClient;
  name: string;
  headers: BlobHTTPHeaders;
  metadata?: Record<string, string>;
  accessTier: string;
  partSize: number;
  concurrency: number;
  metrics: StorageMetrics;
}

export class AzWriteHandle implements WriteHandle {
  private written = 0;
  private block: Buffer | undefined;
  private blockFill = 0;
  /** staged block buffers, reused: no part-sized allocation per block */
  private readonly spare: Buffer[] = [];
  /** per-upload random block id prefix: ids of an aborted upload never mix with this one's */
  private readonly idPrefix = randomBytes(12).toString('hex');
  private readonly blockIds: string[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failure: FsError | undefined;
  private ended = false;
  private readonly stop = new AbortController();
  private readonly started = new Date();

  constructor(private readonly p: AzUploadParams) {}

  async writeAt(buf: Buffer, position: number): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.ended) throw new FsError('Aborted', 'the upload is closed');
    if (position !== this.written) {
      throw new FsError('Unsupported', `Azure Blob uploads are sequential: write at ${position}, expected ${this.written}`);
    }
    let off = 0;
    // bounded: each round copies at least one byte (the block has room) or stages a full block
    while (off < buf.length) {
      this.block ??= this.spare.pop() ?? Buffer.allocUnsafe(this.p.partSize);
      const n = buf.copy(this.block, this.blockFill, off);
      this.blockFill += n;
      off += n;
      this.written += n;
      if (this.blockFill === this.p.partSize) await this.stageBlock();
    }
  }

  /** Detaches the filled block, stages it, and waits until fewer than `concurrency` blocks are in flight. */
  private async stageBlock(): Promise<void> {
    const full = this.block as Buffer;
    const body = full.subarray(0, this.blockFill);
    this.block = undefined;
    this.blockFill = 0;
    // block ids: base64 of equal-length strings, as Azure requires
    const id = Buffer.from(`${this.idPrefix}-${String(this.blockIds.length).padStart(6, '0')}`).toString('base64');
    this.blockIds.push(id);
    const staged = this.p.blob.stageBlock(id, body, body.length, {
      abortSignal: AbortSignal.any([this.stop.signal, AbortSignal.timeout(AZ_LONG_TIMEOUT_MS)]),
    }).then(() => { this.spare.push(full); }, (e: unknown) => {
      this.failure ??= fromAzError(e, `stage block ${this.blockIds.length} of ${this.p.blob.name}`);
    });
    const tracked = staged.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    // bounded: every round waits for one of at most `concurrency` blocks to settle
    while (this.inFlight.size >= this.p.concurrency) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
  }

  private tier(): { tier?: string } {
    return this.p.accessTier ? { tier: this.p.accessTier } : {};
  }

  async truncate(size: number): Promise<void> {
    if (size !== this.written) throw new FsError('Unsupported', 'Azure Blob uploads cannot be truncated');
  }

  async stat(): Promise<FileInfo> {
    return uploadingInfo(this.p.name, this.written, this.started);
  }

  async sync(): Promise<void> {
    // nothing is durable before close(): staged blocks are not a blob yet
  }

  async close(): Promise<void> {
    if (this.ended) throw new FsError('Aborted', 'the upload is closed');
    const signal = (): AbortSignal => AbortSignal.any([this.stop.signal, AbortSignal.timeout(AZ_LONG_TIMEOUT_MS)]);
    try {
      if (this.blockIds.length === 0) {
        const body = this.block ? this.block.subarray(0, this.blockFill) : Buffer.alloc(0);
        await this.p.blob.upload(body, body.length, {
          blobHTTPHeaders: this.p.headers, metadata: this.p.metadata, ...this.tier(), abortSignal: signal(),
        }).catch((e: unknown) => { throw fromAzError(e, `put ${this.p.blob.name}`); });
        this.block = undefined;
      } else {
        if (this.blockFill > 0) await this.stageBlock();
        // bounded: the set only shrinks now that no block is added
        while (this.inFlight.size > 0) await Promise.race(this.inFlight);
        if (this.failure) throw this.failure;
        await this.p.blob.commitBlockList(this.blockIds, {
          blobHTTPHeaders: this.p.headers, metadata: this.p.metadata, ...this.tier(),
          abortSignal: AbortSignal.any([this.stop.signal, AbortSignal.timeout(AZ_CALL_TIMEOUT_MS)]),
        }).catch((e: unknown) => { throw fromAzError(e, `commit ${this.p.blob.name}`); });
      }
      this.ended = true;
      this.spare.length = 0;
      this.p.metrics.transferCompleted('az', 'upload', this.written, false);
    } catch (e) {
      await this.abort(e as Error);
      throw e instanceof FsError ? e : fromAzError(e, `upload ${this.p.blob.name}`);
    }
  }

  async abort(reason: Error): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.failure ??= reason instanceof FsError ? reason : new FsError('Aborted', reason.message);
    this.block = undefined;
    this.spare.length = 0;
    this.stop.abort();
    // the block list is never committed: the staged blocks are garbage the service collects
    await Promise.allSettled([...this.inFlight]);
    this.p.metrics.transferCompleted('az', 'upload', this.written, true);
  }
}
