/**
 * Pull-style reader over a Readable (an SSH channel) for line/byte protocols
 * such as SCP. It reads only when asked, so an unread channel stops granting
 * SSH window: the client is slowed down instead of memory growing.
 */
import type { Readable, Writable } from 'node:stream';

export class StreamReader {
  private pending: Buffer | null = null;
  private ended = false;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;

  private readonly onReadable: () => void;

  constructor(private readonly stream: Readable) {
    const notify = (): void => { const w = this.wake; this.wake = null; w?.(); };
    this.onReadable = notify;
    stream.on('readable', notify);
    stream.on('end', () => { this.ended = true; notify(); });
    stream.on('close', () => { this.ended = true; notify(); });
    stream.on('error', (e: Error) => { this.failure = e; notify(); });
  }

  /** Up to `max` bytes; null at end of stream. */
  async chunk(max: number): Promise<Buffer | null> {
    // each turn either returns or waits for a stream event, so the loop is event-bounded
    for (;;) {
      if (this.pending) {
        const p = this.pending;
        if (p.length <= max) { this.pending = null; return p; }
        this.pending = p.subarray(max);
        return p.subarray(0, max);
      }
      if (this.failure) throw this.failure;
      const c = this.stream.read() as Buffer | null;
      if (c !== null && c.length > 0) { this.pending = c; continue; }
      if (this.ended) return null;
      await new Promise<void>((resolve) => { this.wake = resolve; });
    }
  }

  async byte(): Promise<number | null> {
    const b = await this.chunk(1);
    return b === null ? null : b[0]!;
  }

  /** A line without its "\n"; null at end of stream; throws past `maxLen` bytes. */
  async line(maxLen: number): Promise<string | null> {
    const parts: Buffer[] = [];
    let len = 0;
    for (;;) {
      const c = await this.chunk(maxLen + 1);
      if (c === null) {
        if (len === 0) return null;
        throw new Error('unexpected end of stream inside a line');
      }
      const nl = c.indexOf(0x0a);
      if (nl >= 0) {
        parts.push(c.subarray(0, nl));
        if (nl + 1 < c.length) this.unshift(c.subarray(nl + 1));
        return Buffer.concat(parts).toString('utf8');
      }
      parts.push(c);
      len += c.length;
      if (len > maxLen) throw new Error('protocol line too long');
    }
  }

  /**
   * Stops pulling and discards whatever else arrives, so the stream can reach
   * its end (ssh2 emits a channel's 'close' only after its readable side ended).
   */
  release(): void {
    this.pending = null;
    this.stream.off('readable', this.onReadable);
    this.stream.resume();
  }

  private unshift(b: Buffer): void {
    this.pending = this.pending ? Buffer.concat([b, this.pending]) : b;
  }
}

/** Writes with backpressure: resolves when the stream can take more; rejects if it fails or closes. */
export function writeAll(w: Writable, data: Buffer | string): Promise<void> {
  if (w.destroyed || !w.writable) return Promise.reject(new Error('stream closed'));
  if (w.write(data)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      w.off('drain', onDrain); w.off('error', onError); w.off('close', onClose);
      if (err) reject(err); else resolve();
    };
    const onDrain = (): void => done();
    const onError = (e: Error): void => done(e);
    const onClose = (): void => done(new Error('stream closed'));
    w.on('drain', onDrain); w.on('error', onError); w.on('close', onClose);
  });
}

/** Ends a writable and waits until it finished (or failed). */
export function endAndWait(w: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    if (w.writableFinished) { resolve(); return; }
    const done = (err?: Error): void => {
      w.off('finish', onFinish); w.off('error', onError); w.off('close', onClose);
      if (err) reject(err); else resolve();
    };
    const onFinish = (): void => done();
    const onError = (e: Error): void => done(e);
    const onClose = (): void => done(w.writableFinished ? undefined : new Error('stream closed before finishing'));
    w.on('finish', onFinish); w.on('error', onError); w.on('close', onClose);
    w.end();
  });
}
