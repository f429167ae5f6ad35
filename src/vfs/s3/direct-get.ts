/**
 * Ranged GETs on raw sockets for plain-http S3 endpoints: the response body
 * is read by the kernel straight into the window buffers (net's `onread`
 * option: each read lands in the view the buffer function gave), with no
 * chunk allocated, queued and copied per 64 KiB as node:http does. On a
 * 1 GiB download that was most of the daemon's CPU left after signing moved
 * out of the SDK. https endpoints keep node:https (hot.ts): TLS decrypts
 * into its own buffers anyway.
 *
 * Strict on what comes back: a 2xx must have a Content-Length no larger than
 * the range asked (a chunked or close-delimited body is refused: the bytes
 * land in buffers sized for the range); an error answer (4xx/5xx with its
 * XML document) is read whole and becomes the S3ResponseError the SDK path
 * gave. A socket error, an idle timeout, or a close before the body's end
 * fails the request (or the body) with a network error code the retry rule
 * knows; nothing waits forever.
 *
 * Connections are kept alive in a small pool per filesystem and closed once
 * idle for idleCloseMs (2 s from hot.ts; one timer for the pool, not one per request),
 * before servers usually drop them (s3rver/Node: 5 s).
 */
import type { RunBody, RunSink } from '../run-body';
import { Connection, StaleConnection, type DirectGetOptions, type DirectGetRequest, type Exchange } from './direct-connection';

export type { DirectGetOptions, DirectGetRequest } from './direct-connection';

export class DirectGetPool {
  /** idle connections, oldest first (reuse takes the newest: the oldest expire) */
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private sweepTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly o: DirectGetOptions) {}

  /** connections open now (idle or busy), for tests and metrics */
  get openConnections(): number {
    return this.all.size;
  }

  /**
   * Sends the GET; resolves once a 2xx head came, the body then flowing into
   * sink. Rejects with S3ResponseError (an error answer), HttpProtocolError,
   * a network error, or the signal's reason. A kept-alive connection that the
   * server closed before answering is replaced once, transparently (the GET
   * is idempotent and nothing reached the sink).
   */
  async get(req: DirectGetRequest, sink: RunSink, signal: AbortSignal): Promise<RunBody> {
    if (this.closed) throw new Error('s3: the filesystem is closed');
    if (signal.aborted) throw signal.reason;
    const reused = this.idle.pop();
    try {
      return await this.exchange(reused ?? this.open(), req, sink, signal);
    } catch (e) {
      if (!reused || !(e instanceof StaleConnection)) throw unwrapStale(e);
      return this.exchange(this.open(), req, sink, signal).catch((e2: unknown) => { throw unwrapStale(e2); });
    }
  }

  /** The GET's body into buf (at most req.length bytes, which buf must hold); resolves with the bytes written. */
  fetchInto(req: DirectGetRequest, buf: Buffer, signal: AbortSignal): Promise<number> {
    if (req.length > buf.length) return Promise.reject(new Error(`s3 read of ${req.what}: the buffer is smaller than the range`));
    return new Promise<number>((resolve, reject) => {
      let fill = 0;
      const sink: RunSink = {
        room: () => buf.subarray(fill, req.length),
        wrote: (n) => { fill += n; },
        ended: () => resolve(fill),
        failed: reject,
      };
      // the body flows by itself: the sink always has room for the whole range
      this.get(req, sink, signal).catch(reject);
    });
  }

  /** Closes every connection, busy ones included (their requests fail). */
  destroy(): void {
    this.closed = true;
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const c of [...this.all]) c.close();
    this.idle.length = 0;
  }

  private exchange(c: Connection, req: DirectGetRequest, sink: RunSink, signal: AbortSignal): Promise<RunBody> {
    return new Promise<RunBody>((resolve, reject) => {
      const ex: Exchange = { req, sink, signal, resolve, reject };
      c.start(ex);
    });
  }

  private open(): Connection {
    const c = new Connection(this.o, {
      released: (conn) => this.release(conn),
      closed: (conn) => this.forget(conn),
    });
    this.all.add(c);
    return c;
  }

  private release(c: Connection): void {
    if (this.closed || this.idle.length >= this.o.maxIdle) { c.close(); return; }
    c.idleSince = Date.now();
    this.idle.push(c);
    this.scheduleSweep();
  }

  private forget(c: Connection): void {
    this.all.delete(c);
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
  }

  /** One timer for the pool: it fires when the oldest idle connection expires and closes every expired one. */
  private scheduleSweep(): void {
    if (this.sweepTimer || this.idle.length === 0 || this.closed) return;
    const wait = Math.max(0, this.idle[0].idleSince + this.o.idleCloseMs - Date.now());
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      const cutoff = Date.now() - this.o.idleCloseMs;
      // bounded: the idle list only shrinks here
      while (this.idle.length > 0 && this.idle[0].idleSince <= cutoff) (this.idle.shift() as Connection).close();
      this.scheduleSweep();
    }, wait);
    // idle connections never keep the process alive
    this.sweepTimer.unref();
  }
}

function unwrapStale(e: unknown): unknown {
  return e instanceof StaleConnection ? e.cause : e;
}
