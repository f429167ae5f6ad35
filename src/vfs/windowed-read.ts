/**
 * An object opened for reading: ranged downloads of part-size windows with
 * read-ahead, shared by the object-store backends (each gives its ranged GET).
 * A read that starts in the newest window reached (the frontier) or the one
 * after it keeps the next `concurrency` windows coming, so a sequential client
 * (SFTP's pipelined reads, an FTP RETR stream) always finds data ready; a jump
 * fetches just the window it needs. Windows behind the frontier are dropped
 * (and a dropped fetch nobody waits for is cancelled), so memory stays under
 * (concurrency + 2) x part size whatever the object size.
 *
 * A pipelined client has several reads in progress: one that crosses a window
 * boundary reaches its second window after later reads moved the frontier on.
 * That continuation is not a jump: taking it for one dropped the whole
 * read-ahead, every window was fetched about twice (111 GETs for a 256 MiB
 * object in 5 MiB windows) and the dropped fetches' buffers piled up.
 */
import type { Readable } from 'node:stream';
import { FsError } from '../common/errors';
import type { StorageBackendName, StorageMetrics } from '../metrics/storage';
import type { ReadHandle } from './fs';
import { readStreamFrom } from './read-stream';
import { StreamedRun, type OpenRun } from './streamed-run';

export interface WindowedReadParams {
  /** the object, for messages */
  name: string;
  size: number;
  partSize: number;
  concurrency: number;
  /** ms per window, 0 = no limit beyond the transport's */
  partMaxTime: number;
  backend: StorageBackendName;
  metrics: StorageMetrics;
  /** downloads [start, end] (inclusive) into buf, returns the bytes written; never more than buf holds */
  fetchRange(start: number, end: number, buf: Buffer, signal: AbortSignal): Promise<number>;
  /**
   * when given, sequential read-ahead windows come from one GET per run of
   * windows (streamed-run.ts) instead of one GET each; jumps keep fetchRange
   */
  openRun?: OpenRun;
  mapError(e: unknown, op: string): FsError;
}

/**
 * One ranged GET. Its buffer returns to the handle's pool only once the GET
 * has settled, the window left the read-ahead and no read is copying from
 * it: a reused buffer never changes under a reader.
 */
interface Window {
  readonly buf: Buffer;
  /** cancels this window's GET alone (a dropped read-ahead nobody waits for) */
  readonly cancel: AbortController;
  data: Promise<Buffer>;
  readers: number;
  settled: boolean;
  evicted: boolean;
  recycled: boolean;
}

export class WindowedReadHandle implements ReadHandle {
  readonly size: number;
  private readonly windows = new Map<number, Window>();
  /** full-size window buffers ready for reuse (no 5 MiB allocation per window for the GC to chase) */
  private readonly pool: Buffer[] = [];
  /** the newest window a sequential read reached */
  private frontier = -1;
  private served = 0;
  private failed = false;
  private closed = false;
  private readonly stop = new AbortController();
  /** the GET serving the sequential read-ahead, when the backend streams runs */
  private run?: StreamedRun;

  constructor(private readonly p: WindowedReadParams) {
    this.size = p.size;
  }

  readAt(buf: Buffer, bufOffset: number, length: number, position: number): Promise<number> {
    return this.readInto([buf.subarray(bufOffset, bufOffset + length)], position);
  }

  /**
   * The bytes from `position` copied into `buffers` in order: SFTP hands the
   * payload regions of the SSH packets of a READ reply (sftp/direct-data.ts),
   * so the window's bytes are copied once, into the packets, instead of into
   * a reply buffer that ssh2 copies again into its packets.
   */
  readvAt(buffers: Buffer[], position: number): Promise<number> {
    return this.readInto(buffers, position);
  }

  private async readInto(targets: Buffer[], position: number): Promise<number> {
    if (this.closed) throw new FsError('Aborted', 'the file is closed');
    const length = targets.reduce((sum, t) => sum + t.length, 0);
    let done = 0;
    /** the target being filled and the bytes already in it */
    let ti = 0;
    let tOff = 0;
    // bounded: each round copies at least one byte from a window or stops at the end
    while (done < length && position + done < this.size) {
      const pos = position + done;
      const idx = Math.floor(pos / this.p.partSize);
      const w = done === 0 ? this.window(idx) : this.continued(idx);
      w.readers++;
      try {
        const data = await w.data;
        const inWin = pos - idx * this.p.partSize;
        const n = Math.min(length - done, data.length - inWin);
        if (n <= 0) throw new FsError('Generic', `${this.p.name}: the object changed while reading`);
        // bounded: each round fills a target (empty ones included) or copies the last of the n bytes
        for (let from = inWin; from < inWin + n;) {
          const t = targets[ti]!;
          const copied = data.copy(t, tOff, from, Math.min(inWin + n, from + t.length - tOff));
          from += copied;
          tOff += copied;
          if (tOff === t.length) { ti++; tOff = 0; }
        }
        done += n;
      } finally {
        w.readers--;
        // a window kept behind the frontier for its reads goes with the last of them
        if (w.readers === 0 && idx < this.frontier - 1 && this.windows.get(idx) === w) this.evict(idx, w);
        this.maybeRecycle(w);
      }
    }
    this.served += done;
    return done;
  }

  /** The window a read starts in: moves the frontier and the read-ahead, or jumps. */
  private window(idx: number): Window {
    // a read a little behind the frontier (the window kept before it) is no jump either
    const behind = idx < this.frontier ? this.windows.get(idx) : undefined;
    if (behind) return behind;
    const sequential = idx === this.frontier || idx === this.frontier + 1;
    this.frontier = idx;
    const last = Math.floor(Math.max(this.size - 1, 0) / this.p.partSize);
    const ahead = sequential ? this.p.concurrency : 1;
    // keep the window before the frontier (slightly out of order reads), the read-ahead and,
    // on a sequential move, the windows behind that reads are still in (a burst of pipelined
    // reads spans several small windows: their continuations must find them, not fetch them
    // again; their buffers are held by those reads anyway). The furthest are dropped first:
    // a run cut short by its first dropped window would otherwise start single GETs for the
    // windows after it, dropped a moment later.
    const dropped = [...this.windows]
      .filter(([k, w]) => k >= idx + ahead + 1 || (k < idx - 1 && (w.readers === 0 || !sequential)))
      .sort(([a], [b]) => b - a);
    for (const [k, w] of dropped) this.evict(k, w);
    for (let i = idx; i < idx + ahead && i <= last; i++) {
      if (!this.windows.has(i)) this.windows.set(i, this.fetch(i, sequential));
    }
    return this.windows.get(idx) as Window;
  }

  /**
   * The next window of a read already in progress. Behind the frontier it
   * changes nothing (the read-ahead belongs to the reads that moved on); a
   * window dropped meanwhile is fetched for this read alone.
   */
  private continued(idx: number): Window {
    if (idx > this.frontier) return this.window(idx);
    const kept = this.windows.get(idx);
    if (kept) return kept;
    const alone = this.fetch(idx);
    alone.evicted = true;
    return alone;
  }

  private evict(idx: number, w: Window): void {
    if (this.windows.get(idx) === w) this.windows.delete(idx);
    w.evicted = true;
    if (!w.settled && w.readers === 0) w.cancel.abort();
    this.maybeRecycle(w);
  }

  private maybeRecycle(w: Window): void {
    if (w.recycled || !w.evicted || !w.settled || w.readers > 0) return;
    w.recycled = true;
    if (!this.closed && w.buf.length === this.p.partSize && this.pool.length < this.p.concurrency + 2) this.pool.push(w.buf);
  }

  private fetch(idx: number, sequential = false): Window {
    const start = idx * this.p.partSize;
    const end = Math.min(start + this.p.partSize, this.size) - 1;
    const cancel = new AbortController();
    const signals = [this.stop.signal, cancel.signal];
    if (this.p.partMaxTime > 0) signals.push(AbortSignal.timeout(this.p.partMaxTime));
    const signal = AbortSignal.any(signals);
    const want = end - start + 1;
    const pooled = want === this.p.partSize ? this.pool.pop() : undefined;
    const buf = pooled ?? Buffer.allocUnsafe(want);
    const data = (sequential ? this.fromRun(start, buf, want, signal) : this.p.fetchRange(start, end, buf, signal))
      .then((fill) => buf.subarray(0, fill));
    const w: Window = { buf, cancel, data, readers: 0, settled: false, evicted: false, recycled: false };
    const settle = (): void => { w.settled = true; this.maybeRecycle(w); };
    w.data = data.then((d) => { settle(); return d; }, (e: unknown) => {
      // a cancelled read-ahead is no failed transfer
      if (!cancel.signal.aborted) this.failed = true;
      settle();
      // a failed window is forgotten so a retry by the client asks again
      this.evict(idx, w);
      throw this.p.mapError(e, `read ${this.p.name} at ${start}`);
    });
    // read-ahead that nobody awaits must not become an unhandled rejection
    w.data.catch(() => undefined);
    return w;
  }

  /** A read-ahead window through the current run, or a new run when the window does not follow it. */
  private fromRun(start: number, buf: Buffer, want: number, signal: AbortSignal): Promise<number> {
    const open = this.p.openRun;
    if (!open) return this.p.fetchRange(start, start + want - 1, buf, signal);
    if (!this.run?.usable || this.run.next !== start) {
      // the old run's windows still wanted are fetched alone; its GET and socket end here
      this.run?.close();
      this.run = new StreamedRun(start, this.size - 1, open, this.p.fetchRange);
    }
    return this.run.read(buf, want, signal);
  }

  createReadStream(start: number, end?: number): Readable {
    return readStreamFrom((b, o, l, pos) => this.readAt(b, o, l, pos), this.size, start, end);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stop.abort();
    this.run?.close();
    this.windows.clear();
    this.pool.length = 0;
    this.p.metrics.transferCompleted(this.p.backend, 'download', this.served, this.failed);
  }
}
