/**
 * The HTTPFs wire client (SFTPGo's openapi/httpfs.yaml): every operation is
 * `<endpoint>/<op>/<path-escaped name>[?query]`, authenticated with HTTP
 * basic auth (username/password) and/or the `X-API-KEY` header. Answers are
 * mapped as SFTPGo maps them: 200/201 success, 401/403 permission denied,
 * 404 not found, 501 unsupported, anything else a failure (the service's
 * own error text goes to the log, never to the client).
 *
 * Metadata calls are bounded: the whole answer must arrive within the
 * timeout (SFTPGo: 30 s) and within a size limit (SFTPGo: 1 MiB, 10 MiB for
 * a directory listing). Transfers wait at most the timeout for the answer's
 * headers; their bodies stream for as long as the client keeps them going.
 */
import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { FsError } from '../../common/errors';
import { isUnreachable } from '../backend-errors';
import type { StoredSecret as Secret } from '../fs';
import type { HttpFsOptions } from './config';

export const MAX_RESPONSE = 1024 * 1024;
export const MAX_LISTING_RESPONSE = 10 * MAX_RESPONSE;
/** how much of an error answer is read for the log line */
const MAX_ERROR_BODY = 4096;

export type SecretDecrypter = (s: Secret) => Promise<string>;

export interface HttpFsClientDeps {
  decrypt: SecretDecrypter;
  warn: (msg: string) => void;
  /** ms for a metadata call, and for a transfer's answer headers */
  timeoutMs: number;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

interface Credentials { authorization?: string; apiKey?: string }

/** An open exchange: the request (a body may still be streamed into it) and its answer. */
export interface Exchange {
  req: ClientRequest;
  /** the answer once its status is a success; rejects with an FsError otherwise */
  response: Promise<IncomingMessage>;
}

export class HttpFsClient {
  private readonly agent: http.Agent;
  private credentials: Promise<Credentials> | undefined;
  private inFlight = 0;
  private closed = false;

  constructor(private readonly o: HttpFsOptions, private readonly deps: HttpFsClientDeps) {
    const common = { keepAlive: true, ...(o.socketPath ? { socketPath: o.socketPath } : {}) };
    this.agent = o.secure ? new https.Agent({ ...common, rejectUnauthorized: !o.skipTlsVerify }) : new http.Agent(common);
  }

  private creds(): Promise<Credentials> {
    this.credentials ??= (async (): Promise<Credentials> => {
      const out: Credentials = {};
      const password = this.o.password ? await this.deps.decrypt(this.o.password) : '';
      if (this.o.username !== '' || password !== '') {
        out.authorization = 'Basic ' + Buffer.from(`${this.o.username}:${password}`).toString('base64');
      }
      const key = this.o.apiKey ? await this.deps.decrypt(this.o.apiKey) : '';
      if (key !== '') out.apiKey = key;
      return out;
    })().catch((e: unknown) => {
      this.credentials = undefined;
      const msg = `httpfs ${this.o.endpoint}: cannot decrypt the credentials: ${(e as Error).message}`;
      this.deps.warn(msg);
      throw new FsError('Generic', msg);
    });
    return this.credentials;
  }

  private pathOf(op: string, name: string, query: string): string {
    return `${this.o.basePath}/${op}/${encodeURIComponent(name)}${query ? `?${query}` : ''}`;
  }

  /** An FsError for a transport failure, logged with the cause (refused, reset, TLS, timeout...). */
  transportError(op: string, name: string, e: unknown): FsError {
    if (e instanceof FsError) return e;
    const err = e as NodeJS.ErrnoException;
    const msg = `httpfs ${this.o.endpoint}: ${op} ${name}: ${err.code ? `${err.code} ` : ''}${err.message}`;
    this.deps.warn(msg);
    return new FsError(isUnreachable(e) ? 'Unavailable' : 'Generic', msg, e);
  }

  /** SFTPGo getErrorFromResponseCode; the service's error text is only logged. */
  private async statusError(op: string, name: string, res: IncomingMessage): Promise<FsError> {
    const status = res.statusCode ?? 0;
    const detail = await readBody(res, MAX_ERROR_BODY).then(errorText, () => '');
    const msg = `httpfs ${this.o.endpoint}: ${op} ${name}: response code ${status}${detail ? `: ${detail}` : ''}`;
    if (status === 404) return new FsError('NotFound', msg);
    if (status === 501) return new FsError('Unsupported', msg);
    this.deps.warn(msg);
    if (status === 401 || status === 403) return new FsError('PermissionDenied', msg);
    // a service answers 500 for any failure (SFTPGo's contract: not empty, bad name...): only a gateway/unavailable answer means the storage is down
    return new FsError(status === 502 || status === 503 || status === 504 ? 'Unavailable' : 'Generic', msg);
  }

  private release(): void {
    this.inFlight--;
    if (this.closed && this.inFlight === 0) this.agent.destroy();
  }

  /**
   * Starts a request; its answer's headers are awaited for at most the
   * timeout, except for an upload (`uploadType` set), whose body the caller
   * streams first. The caller always end()s the request; destroying it
   * cancels the exchange.
   */
  async start(method: Method, op: string, name: string, query = '', opts: { uploadType?: string } = {}): Promise<Exchange> {
    const c = await this.creds();
    const headers: Record<string, string> = {};
    if (c.authorization) headers.authorization = c.authorization;
    if (c.apiKey) headers['x-api-key'] = c.apiKey;
    // an upload streams its body chunked; every other call has an empty one
    if (opts.uploadType) headers['content-type'] = opts.uploadType;
    else if (method !== 'GET') headers['content-length'] = '0';
    const request = this.o.secure ? https.request : http.request;
    const req = request({
      agent: this.agent, method, host: this.o.host, port: this.o.port, path: this.pathOf(op, name, query), headers,
    });
    this.inFlight++;
    req.once('close', () => this.release());
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      // an upload is answered once its body is complete: its handle bounds the wait from there
      const timer = opts.uploadType ? undefined : setTimeout(() => req.destroy(timeoutError(`no answer within ${this.deps.timeoutMs} ms`)), this.deps.timeoutMs);
      timer?.unref();
      // on, not once: a second error from a torn-down socket must not go unhandled
      req.on('error', (e) => { clearTimeout(timer); reject(this.transportError(op, name, e)); });
      req.once('response', (res) => {
        clearTimeout(timer);
        const status = res.statusCode ?? 0;
        if (status === 200 || status === 201) { resolve(res); return; }
        this.statusError(op, name, res).then(reject, reject);
      });
    });
    // an answer nobody awaits yet (an upload still streaming) must not become an unhandled rejection
    response.catch(() => undefined);
    return { req, response };
  }

  /** A metadata call with no request body: the whole answer within the timeout and `limit` bytes. */
  async call(method: Method, op: string, name: string, query = '', limit = MAX_RESPONSE): Promise<Buffer> {
    const started = Date.now();
    const { req, response } = await this.start(method, op, name, query);
    req.end();
    const res = await response;
    // the body within what is left of the same deadline
    const left = Math.max(this.deps.timeoutMs - (Date.now() - started), 1);
    const timer = setTimeout(() => res.destroy(timeoutError(`no complete answer within ${this.deps.timeoutMs} ms`)), left);
    timer.unref();
    try {
      return await readBody(res, limit);
    } catch (e) {
      throw this.transportError(op, name, e);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A metadata call answered with JSON. */
  async json(method: Method, op: string, name: string, query = '', limit = MAX_RESPONSE): Promise<unknown> {
    const body = await this.call(method, op, name, query, limit);
    try {
      return JSON.parse(body.toString('utf8')) as unknown;
    } catch {
      throw this.transportError(op, name, new Error('the answer is not valid JSON'));
    }
  }

  /** Stops new keep-alive reuse; sockets go once the requests still running end. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.inFlight === 0) this.agent.destroy();
  }
}

/** A transport-level timeout (logged with the other transport failures). */
export function timeoutError(message: string): Error {
  return Object.assign(new Error(message), { code: 'ETIMEDOUT' });
}

/** Reads a whole body, refusing one larger than `limit`. */
export async function readBody(res: IncomingMessage, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of res) {
    total += (chunk as Buffer).length;
    if (total > limit) {
      res.destroy();
      throw new Error(`the answer is larger than ${limit} bytes`);
    }
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

/** The `error` (or `message`) of an ApiResponse, for logs. */
function errorText(body: Buffer): string {
  const text = body.toString('utf8');
  try {
    const v = JSON.parse(text) as { error?: unknown; message?: unknown };
    const e = typeof v.error === 'string' && v.error !== '' ? v.error : v.message;
    return typeof e === 'string' ? e.slice(0, 500) : '';
  } catch {
    return text.slice(0, 200).replace(/\s+/g, ' ').trim();
  }
}
