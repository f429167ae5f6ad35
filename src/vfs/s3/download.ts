/**
 * An S3 object opened for reading: ranged GETs (pinned to the ETag read at
 * open) through the shared windowed reader (vfs/windowed-read.ts); the
 * sequential read-ahead streams one GET per run of windows. The GETs go
 * through hot.ts (no SDK request per GET) unless the endpoint needs the
 * SDK's auth scheme.
 */
import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { FsError } from '../../common/errors';
import type { StorageMetrics } from '../../metrics/storage';
import { drainInto } from '../drain-into';
import { runFromStreams } from '../run-body';
import { WindowedReadHandle } from '../windowed-read';
import { fromS3Error, type SseParams } from './client';
import type { S3Requests } from './hot';

export interface S3DownloadParams {
  client: S3Client;
  /** ranged GETs without the SDK (hot.ts); undefined when the endpoint needs the SDK's auth */
  requests?: S3Requests;
  bucket: string;
  key: string;
  size: number;
  /** the version read: later windows must come from the same object */
  etag?: string;
  sse: SseParams;
  partSize: number;
  concurrency: number;
  partMaxTime: number;
  metrics: StorageMetrics;
}

export class S3ReadHandle extends WindowedReadHandle {
  constructor(p: S3DownloadParams) {
    const get = async (start: number, end: number, signal: AbortSignal): Promise<Readable | undefined> => {
      const out = await p.client.send(new GetObjectCommand({
        Bucket: p.bucket, Key: p.key, Range: `bytes=${start}-${end}`, IfMatch: p.etag, ...p.sse,
      }), { abortSignal: signal });
      return out.Body as Readable | undefined;
    };
    const hot = p.requests;
    const common = {
      name: p.key, size: p.size, partSize: p.partSize, concurrency: p.concurrency, partMaxTime: p.partMaxTime,
      backend: 's3' as const, metrics: p.metrics, mapError: (e: unknown, op: string) => fromS3Error(e, op),
    };
    if (hot) {
      super({
        ...common,
        fetchRange: (start, end, buf, signal) => hot.fetchRange(p.key, start, end, p.etag, p.sse, buf, signal),
        openRun: (start, end, sink, signal) => hot.openRun(p.key, start, end, p.etag, p.sse, sink, signal),
      });
      return;
    }
    super({
      ...common,
      fetchRange: async (start, end, buf, signal) => drainInto(await get(start, end, signal), buf, p.key),
      openRun: runFromStreams(async (start, end, signal) => {
        const body = await get(start, end, signal);
        if (!body) throw new FsError('Generic', `read of ${p.key}: no body`);
        return body;
      }),
    });
  }
}
