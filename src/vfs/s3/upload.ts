/**
 * An S3 upload as a multipart upload through the shared part engine
 * (vfs/part-upload.ts: bounded parts in flight, reused buffers, nothing
 * visible before close). The multipart upload is created with the first
 * part; a file smaller than one part is a single PutObject; a failed or
 * cancelled upload is aborted (AbortMultipartUpload), so it never replaces an
 * object with a partial one.
 */
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand,
  UploadPartCommand, type CompletedPart, type ObjectCannedACL, type S3Client, type StorageClass,
} from '@aws-sdk/client-s3';
import { FsError } from '../../common/errors';
import type { StorageMetrics } from '../../metrics/storage';
import { PartUploadHandle, type PartStore } from '../part-upload';
import { fromS3Error, S3_CALL_TIMEOUT_MS, type SseParams } from './client';
import type { S3Requests } from './hot';

export interface S3UploadParams {
  client: S3Client;
  /** UploadPart without the SDK (hot.ts); undefined when the endpoint needs the SDK's auth */
  requests?: S3Requests;
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

class S3PartStore implements PartStore {
  readonly label = 'S3';
  readonly backend = 's3';
  readonly objectName: string;
  private uploadId: Promise<string> | undefined;
  private readonly parts: CompletedPart[] = [];

  constructor(private readonly p: S3UploadParams) {
    this.objectName = p.key;
  }

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

  private async createMultipart(): Promise<string> {
    // not cancelled by abort(): once asked for, the upload id must come back so discard() can delete it
    const out = await this.p.client.send(new CreateMultipartUploadCommand({ ...this.common(), ...this.objectAttrs() }),
      { abortSignal: AbortSignal.timeout(S3_CALL_TIMEOUT_MS) });
    if (!out.UploadId) throw new FsError('Generic', 's3: the server returned no upload id');
    return out.UploadId;
  }

  async uploadPart(index: number, body: Buffer, stop: AbortSignal): Promise<void> {
    this.uploadId ??= this.createMultipart();
    const uploadId = await this.uploadId;
    const signal = signalFor(stop, this.p.partMaxTime);
    if (this.p.requests) {
      const etag = await this.p.requests.uploadPart(this.p.key, uploadId, index, body, this.p.sse, signal);
      this.parts[index - 1] = { ETag: etag, PartNumber: index };
      return;
    }
    const out = await this.p.client.send(new UploadPartCommand({
      ...this.common(), UploadId: uploadId, PartNumber: index, Body: body, ContentLength: body.length,
    }), { abortSignal: signal });
    this.parts[index - 1] = { ETag: out.ETag, PartNumber: index };
  }

  async putWhole(body: Buffer, stop: AbortSignal): Promise<void> {
    await this.p.client.send(new PutObjectCommand({ ...this.common(), ...this.objectAttrs(), Body: body, ContentLength: body.length }),
      { abortSignal: signalFor(stop, this.p.partMaxTime || S3_CALL_TIMEOUT_MS) });
  }

  async complete(_parts: number, stop: AbortSignal): Promise<void> {
    const uploadId = await (this.uploadId as Promise<string>);
    await this.p.client.send(new CompleteMultipartUploadCommand({
      ...this.common(), UploadId: uploadId, MultipartUpload: { Parts: this.parts },
    }), { abortSignal: signalFor(stop, S3_CALL_TIMEOUT_MS) });
  }

  async discard(): Promise<void> {
    const uploadId = await this.uploadId?.catch(() => undefined);
    if (uploadId === undefined) return;
    try {
      await this.p.client.send(new AbortMultipartUploadCommand({ Bucket: this.p.bucket, Key: this.p.key, UploadId: uploadId }),
        { abortSignal: AbortSignal.timeout(S3_CALL_TIMEOUT_MS) });
    } catch (e) {
      // the parts stay billed until a lifecycle rule removes them: say so in the log
      this.p.warn(`unable to abort the multipart upload of ${this.p.key} (upload id ${uploadId}): ${fromS3Error(e, 'abort').message}`);
    }
  }

  mapError(e: unknown, op: string): FsError {
    return fromS3Error(e, op);
  }
}

export function s3WriteHandle(p: S3UploadParams): PartUploadHandle {
  return new PartUploadHandle(new S3PartStore(p), { name: p.name, partSize: p.partSize, concurrency: p.concurrency, metrics: p.metrics });
}
