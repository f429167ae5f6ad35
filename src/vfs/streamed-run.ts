/**
 * One ranged GET that serves a run of consecutive windows of an object: the
 * windowed reader (windowed-read.ts) queues its sequential read-ahead windows
 * here instead of issuing one request per window. The body flows only while
 * a queued window has room (paused otherwise: backpressure), so a client that
 * stops reading parks the socket instead of buffering the object:
 * memory stays the windows' buffers plus the stream's small internal buffer.
 *
 * Why: an SDK request costs far more CPU and garbage than the bytes of a
 * 5 MiB window take to copy (signing, middleware stack, hundreds of KiB of
 * JS objects promoted because the request lives for the whole window).
 *
 * A window whose own signal aborts (dropped read-ahead, per-window timeout,
 * handle closed) ends the run: the GET is destroyed with its socket and the
 * windows still wanted are fetched one by one through the plain ranged GET.
 * A body that fails mid-way does the same (the single GETs are retried by
 * the backend's request layer); a run that fails to open rejects its windows
 * (its opening was retried already).
 */
import type { Readable } from 'node:stream';

/** opens the object's bytes [start, end] (inclusive) as one stream */
export type OpenRun = (start: number, end: number, signal: AbortSignal) => Promise<Readable>;
/** the plain ranged GET of one window: fills buf, returns the bytes written */
export type FetchRange = (start: number, end: number, buf: Buffer, signal: AbortSignal) => Promise<number>;

interface QueuedWindow {
  readonly start: number;
  readonly buf: Buffer;
  readonly want: number;
  readonly signal: AbortSignal;
  fill: number;
  resolve(n: number): void;
  reject(e: unknown): void;
  onAbort(): void;
}

export class StreamedRun {
  /** the object offset right after the last window queued: the only place a window can join the run */
  next: number;
  private readonly queue: QueuedWindow[] = [];
  private readonly stop = new AbortController();
  private body?: Readable;
  private opening = false;
  /** bytes that came while no window had room (the body is paused until one is queued) */
  private readonly spare: Buffer[] = [];
  private ended = false;
  /** the body has ended: what is left is in `spare` */
  private bodyDone = false;

  constructor(start: number, private readonly end: number, private readonly open: OpenRun, private readonly fetchRange: FetchRange) {
    this.next = start;
  }

  /** false once the run can serve nothing more (ended, failed, closed) */
  get usable(): boolean {
    return !this.ended && !(this.bodyDone && this.spare.length === 0);
  }

  /** Queues the window [next, next + want) into buf; resolves with the bytes written. */
  read(buf: Buffer, want: number, signal: AbortSignal): Promise<number> {
    if (this.ended) return Promise.reject(new Error('streamed run ended'));
    return new Promise<number>((resolve, reject) => {
      const w: QueuedWindow = {
        start: this.next, buf, want, signal, fill: 0, resolve, reject,
        onAbort: () => this.close(),
      };
      this.next += want;
      this.queue.push(w);
      if (signal.aborted) { this.close(); return; }
      signal.addEventListener('abort', w.onAbort, { once: true });
      if (!this.body) { if (!this.opening) void this.openBody(); return; }
      // bounded: each round empties one spare chunk or fills the queue
      while (this.spare.length > 0 && this.queue.length > 0) this.deliver(this.spare.shift() as Buffer);
      if (this.queue.length === 0) return;
      if (this.bodyDone) this.endedShort(); else this.body.resume();
    });
  }

  /**
   * Ends the run: destroys the GET (and its socket), rejects the windows whose
   * own signal aborted and fetches the others alone. Idempotent.
   */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.stop.abort();
    this.body?.destroy();
    this.spare.length = 0;
    const queued = this.queue.splice(0);
    for (const w of queued) {
      w.signal.removeEventListener('abort', w.onAbort);
      if (w.signal.aborted) { w.reject(w.signal.reason); continue; }
      // this window never shares the buffer with the run again: the run is over
      this.fetchRange(w.start, w.start + w.want - 1, w.buf, w.signal).then(w.resolve, w.reject);
    }
  }

  private async openBody(): Promise<void> {
    this.opening = true;
    let body: Readable;
    try {
      body = await this.open(this.queue[0].start, this.end, this.stop.signal);
    } catch (e) {
      // the SDK already retried the request: the queued windows fail with its error
      this.failQueued(e);
      return;
    }
    if (this.ended) { body.destroy(); return; }
    this.body = body;
    // 'data' events rather than async iteration: no promise per chunk
    body.on('data', (chunk: Buffer) => this.deliver(chunk));
    body.on('end', () => this.bodyEnded());
    // a body that fails mid-way (or closes before its end): the windows still wanted are fetched alone
    body.on('error', () => this.close());
    body.on('close', () => { if (!body.readableEnded) this.close(); });
  }

  /** Copies a chunk into the queued windows in order; what finds no room waits in `spare` with the body paused. */
  private deliver(chunk: Buffer): void {
    if (this.ended) return;
    let off = 0;
    // bounded: each round fills a window or uses up the chunk
    while (off < chunk.length && this.queue.length > 0) {
      const w = this.queue[0];
      const n = Math.min(chunk.length - off, w.want - w.fill);
      chunk.copy(w.buf, w.fill, off, off + n);
      w.fill += n;
      off += n;
      if (w.fill === w.want) this.settleHead(w);
    }
    if (off < chunk.length) {
      this.spare.push(off === 0 ? chunk : chunk.subarray(off));
      this.body?.pause();
    }
  }

  private bodyEnded(): void {
    this.bodyDone = true;
    // the last chunks may still wait in `spare` for windows to come
    if (this.spare.length === 0 && this.queue.length > 0) this.endedShort();
  }

  /** The body ended before the queued windows were full: the object is shorter than its size said. */
  private endedShort(): void {
    if (this.ended) return;
    // the head gets what came (the reader reports a short object)
    this.settleHead(this.queue[0]);
    this.failQueued(new Error('the object ended early'));
  }

  private settleHead(w: QueuedWindow): void {
    this.queue.shift();
    w.signal.removeEventListener('abort', w.onAbort);
    w.resolve(w.fill);
  }

  private failQueued(e: unknown): void {
    this.ended = true;
    this.body?.destroy();
    for (const w of this.queue.splice(0)) {
      w.signal.removeEventListener('abort', w.onAbort);
      w.reject(e);
    }
  }
}
