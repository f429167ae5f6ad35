/**
 * An S3 object opened for reading: ranged GETs of download_part_size windows
 * with read-ahead. A read that continues where the last one ended starts the
 * next download_concurrency windows, so a sequential client (SFTP's pipelined
 * 32 KiB reads, an FTP RETR stream) always finds data ready; a jump fetches
 * just the window it needs. Windows behind the reader are dropped, so memory
 * stays under (concurrency + 2) × part size whatever the object size.
 */
import { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { FsError } from '../../common/errors';
import type { StorageMetrics } from '../../metrics/storage';
import type { ReadHandle } from '../fs';
import { fromS3Error, type SseParams } from './client';

export interface S3DownloadParams {
  client: S3Client;
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

const STREAM_CHUNK = 256 * 1024;

export class S3ReadHandle implements ReadHandle {
  readonly size: number;
  private readonly windows = new Map<number, Promise<Buffer>>();
  private lastWindow = -1;
  private served = 0;
  private failed = false;
  private closed = false;
  private readonly stop = new AbortController();

  constructor(private readonly p: S3DownloadParams) {
    this.size = p.size;
  }

  async readAt(buf: Buffer, bufOffset: number, length: number, position: number): Promise<number> {
    if (this.closed) throw new FsError('Aborted', 'the file is closed');
    let done = 0;
    // bounded: each round copies at least one byte from a window or stops at the end
    while (done < length && position + done < this.size) {
      const pos = position + done;
      const idx = Math.floor(pos / this.p.partSize);
      const win = await this.window(idx);
      const inWin = pos - idx * this.p.partSize;
      const n = Math.min(length - done, win.length - inWin);
      if (n <= 0) throw new FsError('Generic', `s3 read of ${this.p.key}: the object changed while reading`);
      win.copy(buf, bufOffset + done, inWin, inWin + n);
      done += n;
    }
    this.served += done;
    return done;
  }

  private window(idx: number): Promise<Buffer> {
    const sequential = idx === this.lastWindow || idx === this.lastWindow + 1;
    this.lastWindow = idx;
    const last = Math.floor(Math.max(this.size - 1, 0) / this.p.partSize);
    const ahead = sequential ? this.p.concurrency : 1;
    for (let i = idx; i < idx + ahead && i <= last; i++) {
      if (!this.windows.has(i)) this.windows.set(i, this.fetch(i));
    }
    // keep the window before the reader (slightly out of order reads) and the read-ahead
    for (const k of this.windows.keys()) {
      if (k < idx - 1 || k >= idx + Math.max(ahead, 1) + 1) this.windows.delete(k);
    }
    return this.windows.get(idx) as Promise<Buffer>;
  }

  private fetch(idx: number): Promise<Buffer> {
    const start = idx * this.p.partSize;
    const end = Math.min(start + this.p.partSize, this.size) - 1;
    const signal = this.p.partMaxTime > 0 ? AbortSignal.any([this.stop.signal, AbortSignal.timeout(this.p.partMaxTime)]) : this.stop.signal;
    const got = (async () => {
      const out = await this.p.client.send(new GetObjectCommand({
        Bucket: this.p.bucket, Key: this.p.key, Range: `bytes=${start}-${end}`, IfMatch: this.p.etag, ...this.p.sse,
      }), { abortSignal: signal });
      const body = out.Body as Readable | undefined;
      const buf = Buffer.allocUnsafe(end - start + 1);
      let fill = 0;
      if (body) {
        for await (const chunk of body) {
          const c = chunk as Buffer;
          if (fill + c.length > buf.length) throw new FsError('Generic', `s3 read of ${this.p.key}: more data than requested`);
          fill += c.copy(buf, fill);
        }
      }
      return buf.subarray(0, fill);
    })().catch((e: unknown) => {
      this.failed = true;
      // a failed window is forgotten so a retry by the client asks again
      if (this.windows.get(idx) === got) this.windows.delete(idx);
      throw fromS3Error(e, `read ${this.p.key} at ${start}`);
    });
    // read-ahead that nobody awaits must not become an unhandled rejection
    got.catch(() => undefined);
    return got;
  }

  createReadStream(start: number, end?: number): Readable {
    let pos = start;
    const last = end === undefined ? this.size - 1 : Math.min(end, this.size - 1);
    const stream: Readable = new Readable({
      highWaterMark: STREAM_CHUNK,
      read: (size) => {
        const want = Math.min(Math.max(size, 1), STREAM_CHUNK, last - pos + 1);
        if (want <= 0) { stream.push(null); return; }
        const buf = Buffer.allocUnsafe(want);
        this.readAt(buf, 0, want, pos).then((n) => {
          if (n === 0) { stream.push(null); return; }
          pos += n;
          stream.push(n === want ? buf : buf.subarray(0, n));
        }, (err: Error) => stream.destroy(err));
      },
    });
    return stream;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stop.abort();
    this.windows.clear();
    this.p.metrics.transferCompleted('s3', 'download', this.served, this.failed);
  }
}
