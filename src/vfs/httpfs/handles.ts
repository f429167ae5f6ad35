/**
 * HTTPFs transfers. A download is one streamed `GET open?offset=` read in
 * sequence (SFTPGo opens one stream per download); positional reads that
 * continue where the last ended consume it, a small jump ahead skips within
 * it, anything else reopens at the new offset. The last bytes served are
 * kept (256 KiB) so slightly out of order reads need no new request. An
 * upload is one `POST create` whose body is streamed as it is written, with
 * backpressure to the client; abort() tears the request down so the service
 * sees an incomplete body (what it already stored is the service's matter:
 * HTTPFs declares no commit at close).
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { FsError } from '../../common/errors';
import { isUnreachable } from '../backend-errors';
import type { StorageMetrics } from '../../metrics/storage';
import { uploadingInfo } from '../upload-path';
import type { FileInfo, ReadHandle, WriteHandle } from '../fs';
import { readStreamFrom } from '../read-stream';
import { timeoutError, type Exchange, type HttpFsClient } from './client';

/** a jump ahead up to this size reads through instead of reopening */
const SKIP_MAX = 1024 * 1024;
/** bytes kept behind the stream position for out of order reads */
const KEEP_BEHIND = 256 * 1024;

export class HttpFsReadHandle implements ReadHandle {
  private res: IncomingMessage | undefined;
  private chunks: AsyncIterator<Buffer> | undefined;
  /** the offset of the next byte the stream gives (pending first) */
  private pos = 0;
  private pending: Buffer | undefined;
  /** consumed bytes just behind pos: behind[0] starts at behindStart */
  private behind: Buffer[] = [];
  private behindStart = 0;
  private behindSize = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private served = 0;
  private failed = false;
  private closed = false;

  constructor(private readonly client: HttpFsClient, private readonly name: string, readonly size: number,
    private readonly timeoutMs: number, private readonly metrics: StorageMetrics) {}

  /** Reads run one at a time in call order: a sequential client keeps one stream going. */
  readAt(buf: Buffer, bufOffset: number, length: number, position: number): Promise<number> {
    const run = this.queue.then(() => this.read(buf, bufOffset, length, position));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async read(buf: Buffer, bufOffset: number, length: number, position: number): Promise<number> {
    if (this.closed) throw new FsError('Aborted', 'the file is closed');
    const want = Math.min(length, this.size - position);
    if (want <= 0) return 0;
    let done = this.fromBehind(buf, bufOffset, want, position);
    const at = position + done;
    if (done < want && (!this.chunks || at < this.pos || at > this.pos + SKIP_MAX)) await this.reopen(at);
    try {
      // bounded by want: each round copies at least one byte or stops at the stream's end
      while (done < want) {
        const chunk = await this.next();
        if (!chunk) break;
        const skip = Math.min(chunk.length, position + done - this.pos);
        const n = Math.min(chunk.length - skip, want - done);
        chunk.copy(buf, bufOffset + done, skip, skip + n);
        done += n;
        this.consume(chunk, skip + n);
      }
    } catch (e) {
      this.failed = true;
      this.drop();
      throw this.client.transportError(`read at ${position}`, this.name, e);
    }
    this.served += done;
    return done;
  }

  /** Copies what the kept bytes hold of [position, position + want). */
  private fromBehind(buf: Buffer, bufOffset: number, want: number, position: number): number {
    if (position < this.behindStart || position >= this.pos || !this.chunks) return 0;
    let done = 0;
    let start = this.behindStart;
    for (const b of this.behind) {
      const end = start + b.length;
      const at = position + done;
      if (at >= start && at < end) {
        const n = Math.min(end - at, want - done);
        b.copy(buf, bufOffset + done, at - start, at - start + n);
        done += n;
        if (done === want) break;
      }
      start = end;
    }
    return done;
  }

  /** The next bytes of the stream; a service that stops sending for the timeout fails the read. */
  private async next(): Promise<Buffer | undefined> {
    if (this.pending) return this.pending;
    const res = this.res as IncomingMessage;
    const timer = setTimeout(() => res.destroy(timeoutError(`no data within ${this.timeoutMs} ms`)), this.timeoutMs);
    timer.unref();
    try {
      const r = await (this.chunks as AsyncIterator<Buffer>).next();
      if (r.done) return undefined;
      this.pending = r.value;
      return this.pending;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Marks the first `n` bytes of the pending chunk consumed, keeping them behind. */
  private consume(chunk: Buffer, n: number): void {
    const used = chunk.subarray(0, n);
    this.pending = n < chunk.length ? chunk.subarray(n) : undefined;
    this.pos += n;
    this.behind.push(used);
    this.behindSize += used.length;
    while (this.behind.length > 1 && this.behindSize - this.behind[0].length >= KEEP_BEHIND) {
      const first = this.behind.shift() as Buffer;
      this.behindSize -= first.length;
      this.behindStart += first.length;
    }
  }

  private async reopen(offset: number): Promise<void> {
    this.drop();
    const ex = await this.client.start('GET', 'open', this.name, offset > 0 ? `offset=${offset}` : '');
    ex.req.end();
    try {
      this.res = await ex.response;
    } catch (e) {
      this.failed = true;
      throw e;
    }
    // closed while the answer was on its way: nobody will read or drop this stream
    if (this.closed) {
      this.drop();
      throw new FsError('Aborted', 'the file is closed');
    }
    this.chunks = (this.res as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    this.pos = offset;
    this.behindStart = offset;
  }

  private drop(): void {
    this.res?.destroy();
    this.res = undefined;
    this.chunks = undefined;
    this.pending = undefined;
    this.behind = [];
    this.behindSize = 0;
  }

  createReadStream(start: number, end?: number): Readable {
    return readStreamFrom((b, o, l, pos) => this.readAt(b, o, l, pos), this.size, start, end);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.drop();
    this.metrics.transferCompleted('httpfs', 'download', this.served, this.failed);
  }
}

export class HttpFsWriteHandle implements WriteHandle {
  private written = 0;
  private failure: FsError | undefined;
  private ended = false;
  private reqClosed = false;
  private readonly started = new Date();

  constructor(private readonly ex: Exchange, private readonly name: string, private readonly label: string,
    private readonly timeoutMs: number, private readonly metrics: StorageMetrics) {
    ex.req.once('close', () => { this.reqClosed = true; });
    // the body can fail after an answer already came (a service answering before reading it all)
    ex.req.on('error', (e) => { this.failure ??= e instanceof FsError ? e : new FsError(isUnreachable(e) ? 'Unavailable' : 'Generic', `httpfs ${label}: create ${name}: ${e.message}`, e); });
    // an answer before the body ended is a refusal (or the service giving up): stop sending
    ex.response.then(() => undefined, (e: unknown) => {
      this.failure ??= e instanceof FsError ? e : new FsError('Generic', (e as Error).message);
      ex.req.destroy();
    });
  }

  async writeAt(buf: Buffer, position: number): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.ended) throw new FsError('Aborted', 'the upload is closed');
    if (position !== this.written) {
      throw new FsError('Unsupported', `HTTPFs uploads are sequential: write at ${position}, expected ${this.written}`);
    }
    this.written += buf.length;
    // the caller may reuse its buffer once we return: the socket gets its own copy
    if (!this.ex.req.write(Buffer.from(buf))) await this.drained();
    if (this.failure) throw this.failure;
  }

  /**
   * Waits until the socket takes more, or the exchange ended (failure is
   * then set); a service that stops reading for the timeout fails the upload.
   */
  private drained(): Promise<void> {
    const req = this.ex.req;
    return new Promise((resolve) => {
      if (this.reqClosed) { resolve(); return; }
      const timer = setTimeout(() => req.destroy(timeoutError(`httpfs ${this.label}: create ${this.name}: the service took no data for ${this.timeoutMs} ms`)), this.timeoutMs);
      timer.unref();
      const done = (): void => {
        clearTimeout(timer);
        req.off('drain', done);
        req.off('close', done);
        resolve();
      };
      req.on('drain', done);
      req.on('close', done);
      // a refusal ends the wait; an early success does not (the body must still drain)
      this.ex.response.then(() => undefined, done);
    });
  }

  async truncate(size: number): Promise<void> {
    if (size !== this.written) throw new FsError('Unsupported', 'HTTPFs uploads cannot be truncated while written');
  }

  async stat(): Promise<FileInfo> {
    return uploadingInfo(this.name, this.written, this.started);
  }

  async sync(): Promise<void> {
    // the body is on its way; the service stores it as it arrives
  }

  async close(): Promise<void> {
    if (this.ended) throw new FsError('Aborted', 'the upload is closed');
    try {
      if (this.failure) throw this.failure;
      this.ex.req.end();
      const timer = setTimeout(() => this.ex.req.destroy(timeoutError(`httpfs ${this.label}: create ${this.name}: no answer within ${this.timeoutMs} ms of the end of the upload`)), this.timeoutMs);
      timer.unref();
      const res = await this.ex.response.finally(() => clearTimeout(timer));
      res.resume();
      if (this.failure) throw this.failure;
      this.ended = true;
      this.metrics.transferCompleted('httpfs', 'upload', this.written, false);
    } catch (e) {
      await this.abort(e as Error);
      throw e instanceof FsError ? e : new FsError('Generic', (e as Error).message, e);
    }
  }

  async abort(reason: Error): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.failure ??= reason instanceof FsError ? reason : new FsError('Aborted', reason.message);
    if (!this.reqClosed) {
      const closed = new Promise((resolve) => this.ex.req.once('close', resolve));
      this.ex.req.destroy(this.failure);
      await closed;
    }
    this.metrics.transferCompleted('httpfs', 'upload', this.written, true);
  }
}
