/**
 * An S3 upload streamed as a multipart upload with bounded memory: bytes are
 * copied into part buffers of upload_part_size; a full part is sent while the
 * next fills, at most upload_concurrency parts in flight (writeAt waits for a
 * free slot: backpressure to the client), so memory stays under
 * (concurrency + 1) × part size whatever the file size. A file smaller than
 * one part is a single PutObject. Nothing is visible in the bucket until
 * close() completes the upload; abort() aborts the multipart upload, so a
 * failed or cancelled upload never replaces an object with a partial one.
 */
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand,
  UploadPartCommand, type CompletedPart, type ObjectCannedACL, type S3Client, type StorageClass,
} from '@aws-sdk/client-s3';
import { FsError } from '../../common/errors';
import type { StorageMetrics } from '../../metrics/storage';
import { uploadingInfo } from '../upload-path';
import type { FileInfo, WriteHandle } from '../fs';
import { fromS3Error, S3_CALL_TIMEOUT_MS, type SseParams } from './client';

export interface S3UploadParams {
  client: S3Client;
  bucket: string;
  key: string;
  name: string;
  contentType?: string;
  storageClass: string;
  acl: string;
  sse: SseParams;
  partSize: number;
  concurrency: number;
  /** ms per part, 0 = only the socket idle timeout */
  partMaxTime: number;
  metrics: StorageMetrics;
  warn: (msg: string) => void;
}

function signalFor(base: AbortSignal, ms: number): AbortSignal {
  return ms > 0 ? AbortSignal.any([base, AbortSignal.timeout(ms)]) : base;
}

export class S3WriteHandle implements WriteHandle {
  private written = 0;
  private part: Buffer | undefined;
  private partFill = 0;
  /** part buffers whose upload finished, reused: no 5 MiB allocation per part for the GC to chase */
  private readonly spare: Buffer[] = [];
  private uploadId: Promise<string> | undefined;
  private partNumber = 0;
  private readonly parts: CompletedPart[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failure: FsError | undefined;
  private ended = false;
  private readonly stop = new AbortController();
  private readonly started = new Date();

  constructor(private readonly p: S3UploadParams) {}

  private common(): { Bucket: string; Key: string } & SseParams {
    return { Bucket: this.p.bucket, Key: this.p.key, ...this.p.sse };
  }

  private objectAttrs(): { ContentType?: string; StorageClass?: StorageClass; ACL?: ObjectCannedACL } {
    return {
      ContentType: this.p.contentType,
      StorageClass: (this.p.storageClass || undefined) as StorageClass | undefined,
      ACL: (this.p.acl || undefined) as ObjectCannedACL | undefined,
    };
  }

  async writeAt(buf: Buffer, position: number): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.ended) throw new FsError('Aborted', 'the upload is closed');
    if (position !== this.written) {
      throw new FsError('Unsupported', `S3 uploads are sequential: write at ${position}, expected ${this.written}`);
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
    const partNumber = ++this.partNumber;
    this.uploadId ??= this.createMultipart();
    const sent = this.uploadPart(partNumber, body).then(() => { this.spare.push(full); }, (e: unknown) => {
      this.failure ??= fromS3Error(e, `upload part ${partNumber} of ${this.p.key}`);
    });
    const tracked = sent.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    // bounded: every round waits for one of at most `concurrency` parts to settle
    while (this.inFlight.size >= this.p.concurrency) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
  }

  private async createMultipart(): Promise<string> {
    // not cancelled by abort(): once asked for, the upload id must come back so abort() can delete it
    const out = await this.p.client.send(new CreateMultipartUploadCommand({ ...this.common(), ...this.objectAttrs() }),
      { abortSignal: AbortSignal.timeout(S3_CALL_TIMEOUT_MS) });
    if (!out.UploadId) throw new FsError('Generic', 's3: the server returned no upload id');
    return out.UploadId;
  }

  private async uploadPart(partNumber: number, body: Buffer): Promise<void> {
    const uploadId = await (this.uploadId as Promise<string>);
    const out = await this.p.client.send(new UploadPartCommand({
      ...this.common(), UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: body.length,
    }), { abortSignal: signalFor(this.stop.signal, this.p.partMaxTime) });
    this.parts[partNumber - 1] = { ETag: out.ETag, PartNumber: partNumber };
  }

  async truncate(size: number): Promise<void> {
    if (size !== this.written) throw new FsError('Unsupported', 'S3 uploads cannot be truncated');
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
      if (this.uploadId === undefined) {
        const body = this.part ? this.part.subarray(0, this.partFill) : Buffer.alloc(0);
        await this.p.client.send(new PutObjectCommand({ ...this.common(), ...this.objectAttrs(), Body: body, ContentLength: body.length }),
          { abortSignal: signalFor(this.stop.signal, this.p.partMaxTime || S3_CALL_TIMEOUT_MS) })
          .catch((e: unknown) => { throw fromS3Error(e, `put ${this.p.key}`); });
        this.part = undefined;
      } else {
        if (this.partFill > 0) await this.sendPart();
        // bounded: the set only shrinks now that no part is added
        while (this.inFlight.size > 0) await Promise.race(this.inFlight);
        if (this.failure) throw this.failure;
        const uploadId = await this.uploadId;
        await this.p.client.send(new CompleteMultipartUploadCommand({
          ...this.common(), UploadId: uploadId, MultipartUpload: { Parts: this.parts },
        }), { abortSignal: signalFor(this.stop.signal, S3_CALL_TIMEOUT_MS) })
          .catch((e: unknown) => { throw fromS3Error(e, `complete upload of ${this.p.key}`); });
      }
      this.ended = true;
      this.p.metrics.transferCompleted('s3', 'upload', this.written, false);
    } catch (e) {
      await this.abort(e as Error);
      throw e instanceof FsError ? e : fromS3Error(e, `upload ${this.p.key}`);
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
    this.p.metrics.transferCompleted('s3', 'upload', this.written, true);
    if (this.uploadId === undefined) return;
    const uploadId = await this.uploadId.catch(() => undefined);
    if (uploadId === undefined) return;
    try {
      await this.p.client.send(new AbortMultipartUploadCommand({ Bucket: this.p.bucket, Key: this.p.key, UploadId: uploadId }),
        { abortSignal: AbortSignal.timeout(S3_CALL_TIMEOUT_MS) });
    } catch (e) {
      // the parts stay billed until a lifecycle rule removes them: say so in the log
      this.p.warn(`unable to abort the multipart upload of ${this.p.key} (upload id ${uploadId}): ${fromS3Error(e, 'abort').message}`);
    }
  }
}
