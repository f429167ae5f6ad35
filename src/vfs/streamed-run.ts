/**
 * One ranged GET that serves a run of consecutive windows of an object: the
 * windowed reader (windowed-read.ts) queues its sequential read-ahead windows
 * here instead of issuing one request per window. The body (run-body.ts)
 * writes into the head window's free room and waits while no window is
 * queued (backpressure), so a client that stops reading parks the socket
 * instead of buffering the object: memory stays the windows' buffers.
 *
 * Why: a request costs far more CPU and garbage than the bytes of a 5 MiB
 * window take to copy (signing, headers, and for the SDK its middleware stack
 * and hundreds of KiB of JS objects promoted because the request lives for
 * the whole window).
 *
 * A window whose own signal aborts (dropped read-ahead, per-window timeout,
 * handle closed) ends the run: the GET is destroyed with its socket and the
 * windows still wanted are fetched one by one through the plain ranged GET.
 * A body that fails mid-way does the same (the single GETs are retried by
 * the backend's request layer); a run that fails to open rejects its windows
 * (its opening was retried already).
 */
import type { OpenRun, RunBody, RunSink } from './run-body';

export type { OpenRun } from './run-body';
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

export class StreamedRun implements RunSink {
  /** the object offset right after the last window queued: the only place a window can join the run */
  next: number;
  private readonly queue: QueuedWindow[] = [];
  private readonly stop = new AbortController();
  private body?: RunBody;
  private opening = false;
  private over = false;
  /** the body has delivered its last byte */
  private bodyDone = false;

  constructor(start: number, private readonly end: number, private readonly open: OpenRun, private readonly fetchRange: FetchRange) {
    this.next = start;
  }

  /** false once the run can serve nothing more (ended, failed, closed, body over) */
  get usable(): boolean {
    return !this.over && !this.bodyDone;
  }

  /** Queues the window [next, next + want) into buf; resolves with the bytes written. */
  read(buf: Buffer, want: number, signal: AbortSignal): Promise<number> {
    if (!this.usable) return Promise.reject(new Error('streamed run ended'));
    return new Promise<number>((resolve, reject) => {
      const w: QueuedWindow = {
        start: this.next, buf, want, signal, fill: 0, resolve, reject,
        onAbort: () => this.close(),
      };
      this.next += want;
      this.queue.push(w);
      if (signal.aborted) { this.close(); return; }
      signal.addEventListener('abort', w.onAbort, { once: true });
      if (this.body) this.body.resume();
      else if (!this.opening) void this.openBody();
    });
  }

  // RunSink: the body writes into the head window
  room(): Buffer | undefined {
    const w = this.queue[0];
    return w && !this.over ? w.buf.subarray(w.fill, w.want) : undefined;
  }

  wrote(n: number): void {
    const w = this.queue[0];
    w.fill += n;
    if (w.fill === w.want) this.settleHead(w);
  }

  ended(): void {
    this.bodyDone = true;
    // the body ended before the queued windows were full: the object is shorter than its size said
    if (this.queue.length === 0 || this.over) return;
    // the head gets what came (the reader reports a short object)
    this.settleHead(this.queue[0]);
    this.failQueued(new Error('the object ended early'));
  }

  failed(): void {
    // a body that fails mid-way (or closes before its end): the windows still wanted are fetched alone
    this.close();
  }

  /**
   * Ends the run: destroys the GET (and its socket), rejects the windows whose
   * own signal aborted and fetches the others alone. Idempotent.
   */
  close(): void {
    if (this.over) return;
    this.over = true;
    this.stop.abort();
    this.body?.destroy();
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
    let body: RunBody;
    try {
      body = await this.open(this.queue[0].start, this.end, this, this.stop.signal);
    } catch (e) {
      // the request layer already retried the opening: the queued windows fail with its error
      this.failQueued(e);
      return;
    }
    if (this.over) { body.destroy(); return; }
    this.body = body;
    // windows queued while the GET was opening
    body.resume();
  }

  private settleHead(w: QueuedWindow): void {
    this.queue.shift();
    w.signal.removeEventListener('abort', w.onAbort);
    w.resolve(w.fill);
  }

  private failQueued(e: unknown): void {
    this.over = true;
    this.body?.destroy();
    for (const w of this.queue.splice(0)) {
      w.signal.removeEventListener('abort', w.onAbort);
      w.reject(e);
    }
  }
}
