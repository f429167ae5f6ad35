/**
 * One keep-alive connection of the raw-socket ranged GETs (direct-get.ts):
 * writes a signed GET, parses the answer's head from a small scratch buffer,
 * then has the socket read the body straight into the sink's room (the
 * window buffers). Reads are limited to the body bytes still expected, so
 * nothing of a later answer ever lands in a window.
 *
 * While no window has room the socket stops reading (the `onread` callback
 * answers false) and bytes already read wait, as a view of the scratch
 * buffer, until the sink is given room again: the scratch is not read into
 * before they are out.
 */
import { connect, type Socket } from 'node:net';
import { copyIntoSink, type RunBody, type RunSink } from '../run-body';
import { s3ErrorFrom } from './hot-errors';
import { bodyFraming, decodeChunked, HttpProtocolError, parseResponseHead, type BodyFraming, type ResponseHead } from './http-head';

/** the head and small reads land here; 64 KiB is what node:http reads at a time too */
const SCRATCH_BYTES = 64 * 1024;
/** an error document is a few hundred bytes: more is not read */
const MAX_ERROR_BODY = 64 * 1024;

export interface DirectGetOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
  /** an exchange whose socket is silent this long fails (not counted while the body waits for room) */
  socketTimeoutMs: number;
  /** an idle connection is closed after this long */
  idleCloseMs: number;
  /** idle connections kept at most */
  maxIdle: number;
}

/** One ranged GET, signed. */
export interface DirectGetRequest {
  /** the request target: the encoded path and query, as signed */
  target: string;
  /** the signed headers, host included */
  headers: Record<string, string>;
  /** the bytes of the range: a 2xx body longer than this is refused */
  length: number;
  /** the range starts at byte 0: a 200 (the server ignored Range and sends the object) is usable */
  wholeOk: boolean;
  /** the object, for messages */
  what: string;
}

/** the network error of a connection lost before or during an answer (its code is one the retry rule knows) */
export function connectionLost(message: string, code = 'ECONNRESET'): Error {
  return Object.assign(new Error(`s3: ${message}`), { code });
}

/** What a 2xx head must be for a ranged read: returns the body length. */
export function checkRangedHead(status: number, framing: BodyFraming, req: DirectGetRequest): number {
  if (status !== 206 && !(status === 200 && req.wholeOk)) {
    throw new Error(`s3 read of ${req.what}: the server ignored the range (status ${status})`);
  }
  if (framing.kind !== 'length') {
    throw new HttpProtocolError(`read of ${req.what}: a ${status} answer without Content-Length (${framing.kind} body) is refused for a ranged read`);
  }
  if (framing.length > req.length) {
    throw new HttpProtocolError(`read of ${req.what}: ${framing.length} bytes answered for a range of ${req.length}`);
  }
  return framing.length;
}

/** The error an S3 error answer describes, from its (possibly chunked) body. */
export function errorFromAnswer(status: number, framing: BodyFraming, raw: Buffer, requestId: string | undefined): Error {
  let body = raw;
  if (framing.kind === 'chunked') {
    try { body = decodeChunked(raw) ?? raw; } catch { body = raw; }
  }
  return s3ErrorFrom(status, body.toString('utf8'), requestId);
}


/** A kept-alive connection closed by the server before any byte of the answer: worth one fresh connection. */
export class StaleConnection extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message);
    this.name = 'StaleConnection';
  }
}

/** One request on a connection, from the write to the body's last byte. */
export interface Exchange {
  readonly req: DirectGetRequest;
  readonly sink: RunSink;
  readonly signal: AbortSignal;
  /** settles the request: a 2xx head came (the body then flows into the sink) */
  resolve(body: RunBody): void;
  /** settles the request: an error answer, a protocol or network error before a 2xx head */
  reject(e: unknown): void;
}

export interface ConnectionHooks {
  /** the answer was read whole and the connection can carry another request */
  released(c: Connection): void;
  /** the socket is gone */
  closed(c: Connection): void;
}

type Phase = 'idle' | 'head' | 'body' | 'error-body';

interface Current {
  readonly ex: Exchange;
  readonly onAbort: () => void;
  /** any byte of the answer came (a close before that, on a reused connection, is a stale keep-alive) */
  answered: boolean;
  /** the 2xx head came: failures go to the sink from now on */
  flowing: boolean;
  /** body bytes still expected */
  remaining: number;
  keepAlive: boolean;
  /** body bytes read into the scratch that found no room yet (a view of the scratch: reading waits until they are out) */
  spare?: Buffer;
  head?: ResponseHead;
  framing?: BodyFraming;
  /** the error answer's body so far */
  errorBody: Buffer[];
  errorBytes: number;
}

export class Connection {
  idleSince = 0;
  private readonly socket: Socket;
  private readonly scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  /** bytes of the head so far, at the start of the scratch */
  private headBytes = 0;
  /** where the read in progress lands: the scratch, or the sink's room */
  private target: 'scratch' | 'room' = 'scratch';
  private phase: Phase = 'idle';
  private cur?: Current;
  /** answers read whole on this connection */
  private exchanges = 0;
  private closed = false;
  private connectTimer?: NodeJS.Timeout;

  constructor(private readonly o: DirectGetOptions, private readonly hooks: ConnectionHooks) {
    this.socket = connect({
      host: o.host, port: o.port,
      onread: { buffer: () => this.nextBuffer(), callback: (n: number, buf: Uint8Array) => this.onRead(n, buf) },
    });
    this.socket.setNoDelay(true);
    this.connectTimer = setTimeout(() => this.fail(connectionLost('connection timed out', 'ETIMEDOUT')), o.connectTimeoutMs);
    this.socket.once('connect', () => clearTimeout(this.connectTimer));
    this.socket.on('timeout', () => this.fail(connectionLost('the socket was idle too long', 'ETIMEDOUT')));
    this.socket.on('error', (e) => this.fail(e));
    this.socket.on('end', () => this.fail(this.eofError()));
    this.socket.on('close', () => this.fail(this.eofError()));
  }

  /** Sends the request of ex on this (connected or connecting) socket. */
  start(ex: Exchange): void {
    if (this.closed || this.cur) { ex.reject(connectionLost('the connection is not usable')); return; }
    const cur: Current = {
      ex, onAbort: () => this.aborted(cur), answered: false, flowing: false, remaining: 0, keepAlive: false, errorBody: [], errorBytes: 0,
    };
    this.cur = cur;
    this.phase = 'head';
    this.headBytes = 0;
    ex.signal.addEventListener('abort', cur.onAbort, { once: true });
    this.socket.setTimeout(this.o.socketTimeoutMs);
    let text = `GET ${ex.req.target} HTTP/1.1\r\n`;
    for (const [k, v] of Object.entries(ex.req.headers)) text += `${k}: ${v}\r\n`;
    this.socket.write(`${text}\r\n`, 'latin1');
    // an idle connection reads (to see the server close it); a fresh one starts once connected
    this.socket.resume();
  }

  /** Closes the socket; an exchange in progress fails. Idempotent. */
  close(): void {
    this.fail(connectionLost('the connection was closed'));
  }

  /** The buffer the next read lands in: the head's end of the scratch, or the sink's room limited to the body left. */
  private nextBuffer(): Uint8Array {
    const cur = this.cur;
    if (this.phase === 'body' && cur && !cur.spare) {
      const room = cur.ex.sink.room();
      if (room && room.length > 0) {
        this.target = 'room';
        return room.length > cur.remaining ? room.subarray(0, cur.remaining) : room;
      }
    }
    this.target = 'scratch';
    if (this.phase === 'head') return this.scratch.subarray(this.headBytes);
    if (this.phase === 'body' && cur) return this.scratch.subarray(0, Math.min(SCRATCH_BYTES, cur.remaining));
    return this.scratch;
  }

  /** A read landed in the buffer nextBuffer gave; answers whether to keep reading. */
  private onRead(n: number, buf: Uint8Array): boolean {
    const cur = this.cur;
    if (!cur || this.phase === 'idle') {
      this.fail(new HttpProtocolError('bytes came on an idle connection'));
      return false;
    }
    cur.answered = true;
    if (this.target === 'room') {
      cur.remaining -= n;
      cur.ex.sink.wrote(n);
      return this.afterBody(cur);
    }
    const data = Buffer.from(buf.buffer, buf.byteOffset, n);
    if (this.phase === 'head') {
      this.headBytes += n;
      return this.onHeadBytes(cur);
    }
    if (this.phase === 'body') return this.onBodyBytes(cur, data);
    return this.onErrorBytes(cur, data);
  }

  private onHeadBytes(cur: Current): boolean {
    let head: ResponseHead | undefined;
    let framing: BodyFraming;
    try {
      head = parseResponseHead(this.scratch, this.headBytes);
      if (!head) return true;
      framing = bodyFraming(head);
    } catch (e) {
      this.fail(e);
      return false;
    }
    if (head.status >= 100 && head.status < 200) {
      // an interim answer (100 Continue): the real one follows
      this.scratch.copy(this.scratch, 0, head.length, this.headBytes);
      this.headBytes -= head.length;
      return this.onHeadBytes(cur);
    }
    cur.head = head;
    cur.framing = framing;
    cur.keepAlive = head.keepAlive;
    const rest = this.scratch.subarray(head.length, this.headBytes);
    if (head.status < 200 || head.status > 299) {
      this.phase = 'error-body';
      return this.onErrorBytes(cur, rest);
    }
    try {
      cur.remaining = checkRangedHead(head.status, framing, cur.ex.req);
    } catch (e) {
      this.fail(e);
      return false;
    }
    this.phase = 'body';
    cur.flowing = true;
    cur.ex.resolve({ resume: () => this.resumeBody(cur), destroy: () => this.abandon(cur) });
    return this.onBodyBytes(cur, rest);
  }

  /** Body bytes read into the scratch: into the sink as far as it has room, the rest waits with reading stopped. */
  private onBodyBytes(cur: Current, data: Buffer): boolean {
    let bytes = data;
    if (bytes.length > cur.remaining) {
      // bytes past the announced length: the connection's framing is lost, it carries nothing more
      cur.keepAlive = false;
      bytes = bytes.subarray(0, cur.remaining);
    }
    const n = copyIntoSink(cur.ex.sink, bytes);
    cur.remaining -= n;
    if (n < bytes.length) cur.spare = bytes.subarray(n);
    return this.afterBody(cur);
  }

  /** After body bytes: ends the exchange, keeps reading, or stops until the sink has room. */
  private afterBody(cur: Current): boolean {
    if (this.cur !== cur) return false;
    if (cur.remaining === 0) { this.bodyDone(cur); return !this.closed; }
    const room = cur.spare ? undefined : cur.ex.sink.room();
    if (room && room.length > 0) return true;
    // waiting for the client to read on is no idle server: the timeout counts again once reading resumes
    this.socket.setTimeout(0);
    return false;
  }

  private resumeBody(cur: Current): void {
    if (this.cur !== cur || this.phase !== 'body') return;
    if (cur.spare) {
      const n = copyIntoSink(cur.ex.sink, cur.spare);
      cur.remaining -= n;
      cur.spare = n < cur.spare.length ? cur.spare.subarray(n) : undefined;
      if (cur.remaining === 0) { this.bodyDone(cur); return; }
      if (cur.spare) return;
    }
    const room = cur.ex.sink.room();
    if (!room || room.length === 0) return;
    this.socket.setTimeout(this.o.socketTimeoutMs);
    // net's resume restarts reading into the user buffer (the callback's false stopped it)
    this.socket.resume();
  }

  private bodyDone(cur: Current): void {
    this.endExchange(cur);
    this.exchanges++;
    if (cur.keepAlive) this.hooks.released(this); else this.destroySocket();
    cur.ex.sink.ended();
  }

  private onErrorBytes(cur: Current, data: Buffer): boolean {
    const framing = cur.framing as BodyFraming;
    const room = MAX_ERROR_BODY - cur.errorBytes;
    // copied: the scratch is read into again
    if (data.length > 0) cur.errorBody.push(Buffer.from(data.subarray(0, Math.max(0, room))));
    cur.errorBytes += data.length;
    const raw = (): Buffer => Buffer.concat(cur.errorBody);
    let complete = cur.errorBytes >= MAX_ERROR_BODY;
    if (framing.kind === 'length') complete ||= cur.errorBytes >= framing.length;
    if (framing.kind === 'chunked' && !complete) {
      try { complete = decodeChunked(raw()) !== undefined; } catch { complete = true; }
    }
    if (!complete) return true;
    this.finishError(cur);
    return false;
  }

  private finishError(cur: Current): void {
    const head = cur.head as ResponseHead;
    this.endExchange(cur);
    // error answers are rare: their connection is not worth keeping
    this.destroySocket();
    cur.ex.reject(errorFromAnswer(head.status, cur.framing as BodyFraming, Buffer.concat(cur.errorBody), head.headers.get('x-amz-request-id')));
  }

  private aborted(cur: Current): void {
    if (this.cur !== cur) return;
    const reason: unknown = cur.ex.signal.reason;
    this.endExchange(cur);
    this.destroySocket();
    if (cur.flowing) cur.ex.sink.failed(reason); else cur.ex.reject(reason);
  }

  /** The body's owner gave up on it: the socket goes, the sink hears nothing more. */
  private abandon(cur: Current): void {
    if (this.cur !== cur) return;
    this.endExchange(cur);
    this.destroySocket();
  }

  private eofError(): Error {
    const cur = this.cur;
    if (cur?.flowing) return connectionLost(`the connection closed with ${cur.remaining} body bytes still to come`);
    return connectionLost('the connection closed before the answer');
  }

  /** The socket failed, timed out or closed: the exchange in progress (if any) fails with e. */
  private fail(e: unknown): void {
    const cur = this.cur;
    if (cur && this.phase === 'error-body' && cur.head) {
      // an answer delimited by the close (or cut short): its status still says what happened
      this.finishError(cur);
      return;
    }
    if (cur) this.endExchange(cur);
    this.destroySocket();
    if (!cur) return;
    if (cur.flowing) { cur.ex.sink.failed(e); return; }
    const err = e instanceof Error ? e : new Error(String(e));
    cur.ex.reject(this.exchanges > 0 && !cur.answered && !(e instanceof HttpProtocolError) ? new StaleConnection(err) : err);
  }

  private endExchange(cur: Current): void {
    cur.ex.signal.removeEventListener('abort', cur.onAbort);
    this.cur = undefined;
    this.phase = 'idle';
    if (!this.closed) this.socket.setTimeout(0);
  }

  private destroySocket(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.connectTimer);
    this.socket.destroy();
    this.hooks.closed(this);
  }
}
