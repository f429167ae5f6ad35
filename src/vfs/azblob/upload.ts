/**
 * An Azure block blob upload through the shared part engine
 * (vfs/part-upload.ts: bounded blocks in flight, reused buffers). Blocks are
 * staged as they fill; close() commits the block list, making the blob; a
 * file smaller than one block is a single Put Blob. A failed or cancelled
 * upload never commits: staged blocks stay uncommitted (Azure drops them
 * after a week) and the old blob, if any, is unchanged.
 */
import { randomBytes } from 'node:crypto';
import type { BlockBlobClient, BlobHTTPHeaders } from '@azure/storage-blob';
import type { FsError } from '../../common/errors';
import type { StorageMetrics } from '../../metrics/storage';
import { PartUploadHandle, type PartStore } from '../part-upload';
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

const within = (stop: AbortSignal, ms: number): AbortSignal => AbortSignal.any([stop, AbortSignal.timeout(ms)]);

class AzPartStore implements PartStore {
  readonly label = 'Azure Blob';
  readonly backend = 'az';
  readonly objectName: string;
  /** per-upload random block id prefix: ids of an aborted upload never mix with this one's */
  private readonly idPrefix = randomBytes(12).toString('hex');

  constructor(private readonly p: AzUploadParams) {
    this.objectName = p.blob.name;
  }

  /** block ids: base64 of equal-length strings, as Azure requires */
  private blockId(index: number): string {
    return Buffer.from(`${this.idPrefix}-${String(index - 1).padStart(6, '0')}`).toString('base64');
  }

  private tier(): { tier?: string } {
    return this.p.accessTier ? { tier: this.p.accessTier } : {};
  }

  async uploadPart(index: number, body: Buffer, stop: AbortSignal): Promise<void> {
    await this.p.blob.stageBlock(this.blockId(index), body, body.length, { abortSignal: within(stop, AZ_LONG_TIMEOUT_MS) });
  }

  async putWhole(body: Buffer, stop: AbortSignal): Promise<void> {
    await this.p.blob.upload(body, body.length, {
      blobHTTPHeaders: this.p.headers, metadata: this.p.metadata, ...this.tier(), abortSignal: within(stop, AZ_LONG_TIMEOUT_MS),
    });
  }

  async complete(parts: number, stop: AbortSignal): Promise<void> {
    const ids = Array.from({ length: parts }, (_, i) => this.blockId(i + 1));
    await this.p.blob.commitBlockList(ids, {
      blobHTTPHeaders: this.p.headers, metadata: this.p.metadata, ...this.tier(), abortSignal: within(stop, AZ_CALL_TIMEOUT_MS),
    });
  }

  async discard(): Promise<void> {
    // the block list is never committed: the staged blocks are garbage the service collects
  }

  mapError(e: unknown, op: string): FsError {
    return fromAzError(e, op);
  }
}

export function azWriteHandle(p: AzUploadParams): PartUploadHandle {
  return new PartUploadHandle(new AzPartStore(p), { name: p.name, partSize: p.partSize, concurrency: p.concurrency, metrics: p.metrics });
}
