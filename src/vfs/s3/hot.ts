/**
 * The S3 requests on the data path, sent without the SDK: UploadPart and the
 * ranged GetObject. Each SDK request allocated some 300-400 KiB of JS objects
 * (middleware stack, signer) that lived as long as the 5 MiB part and was
 * freed only by a mark-compact: the first upload after start grew the
 * daemon's RSS by about 80 MiB. Here a request is a signed node:http(s) call
 * over a keep-alive agent of this filesystem's own; ranged GETs to a plain
 * http endpoint go on raw sockets instead (direct-get.ts: the body is read
 * straight into the window buffers: a 1 GiB SFTP download
 * took a median 3.73 -> 2.95 daemon CPU s, settled daemon 3.25-3.91 -> 2.55-2.75).
 *
 * What stays the SDK's: the endpoint (its S3 rules decide path style or
 * virtual host, resolved once per filesystem), the credentials (its resolved
 * provider: static keys decrypted through the kms, or the default chain,
 * cached and refreshed on expiry) and every other operation. An endpoint
 * whose rules ask for another auth scheme than SigV4 (S3 Express, access
 * point ARNs) keeps the SDK for these requests too (S3Requests.forClient
 * answers undefined).
 */
import { request as httpRequest, Agent as HttpAgent, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import type { S3Client } from '@aws-sdk/client-s3';
import { isServerError, isUnreachable } from '../backend-errors';
import type { S3Options } from './config';
import { canonicalQuery, encodeS3Path, SigV4Signer, UNSIGNED_PAYLOAD, EMPTY_SHA256, type SigningCredentials } from './sigv4';
import { S3ResponseError, readErrorResponse } from './hot-errors';
import type { SseParams } from './client';
import { streamRunBody, type RunBody, type RunSink } from '../run-body';
import { DirectGetPool, type DirectGetRequest } from './direct-get';

const CONNECT_TIMEOUT_MS = 10_000;
/** a socket silent this long fails its request (the SDK client's socketTimeout) */
const SOCKET_IDLE_TIMEOUT_MS = 60_000;
/** attempts of an idempotent request (the SDK client's maxAttempts) */
const MAX_ATTEMPTS = 3;
const BACKOFF_MS = 100;
/** raw-socket GET connections idle this long are closed (servers drop theirs after 5 s or more) */
const DIRECT_IDLE_CLOSE_MS = 2_000;

interface Target {
  protocol: 'http:' | 'https:';
  hostname: string;
  port: string;
  /** "" (virtual host) or "/bucket" (path style), with any endpoint path before it */
  basePath: string;
  signer: SigV4Signer;
}

function sseHeaders(sse: SseParams): Record<string, string> {
  if (!sse.SSECustomerAlgorithm) return {};
  return {
    'x-amz-server-side-encryption-customer-algorithm': sse.SSECustomerAlgorithm,
    'x-amz-server-side-encryption-customer-key': sse.SSECustomerKey ?? '',
    'x-amz-server-side-encryption-customer-key-md5': sse.SSECustomerKeyMD5 ?? '',
  };
}

/** A failure worth another attempt: the service was unreachable, reset the socket, throttled or failed (5xx). */
function retryable(e: unknown): boolean {
  if (e instanceof S3ResponseError) return isServerError(e.$metadata.httpStatusCode) || e.$metadata.httpStatusCode === 429;
  return isUnreachable(e);
}

function backoff(attempt: number, signal: AbortSignal): Promise<void> {
  const ms = BACKOFF_MS * 2 ** attempt * (0.5 + Math.random() / 2);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => { clearTimeout(timer); reject(signal.reason); };
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A request signed and ready for the wire. */
interface SignedRequest {
  /** path and canonical query, encoded as signed */
  target: string;
  headers: Record<string, string>;
}

export class S3Requests {
  private readonly agent: HttpAgent;
  /** ranged GETs on raw sockets (plain http endpoints only: https keeps node:https) */
  private readonly direct?: DirectGetPool;

  private constructor(private readonly client: S3Client, o: S3Options, private readonly target: Target) {
    const maxSockets = Math.max(o.uploadConcurrency, o.downloadConcurrency) + 4;
    this.agent = target.protocol === 'https:'
      ? new HttpsAgent({ keepAlive: true, maxSockets, rejectUnauthorized: !o.skipTlsVerify })
      : new HttpAgent({ keepAlive: true, maxSockets });
    if (target.protocol === 'http:') {
      this.direct = new DirectGetPool({
        host: target.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(target.port || 80),
        connectTimeoutMs: CONNECT_TIMEOUT_MS, socketTimeoutMs: SOCKET_IDLE_TIMEOUT_MS, idleCloseMs: DIRECT_IDLE_CLOSE_MS, maxIdle: maxSockets,
      });
    }
  }

  /** The data-path requests of a filesystem, or undefined when its endpoint needs another auth scheme than SigV4. */
  static async forClient(client: S3Client, o: S3Options): Promise<S3Requests | undefined> {
    const region = o.region || 'us-east-1';
    const resolved = client.config.endpointProvider({
      Bucket: o.bucket, Region: region, Endpoint: o.endpoint || undefined, ForcePathStyle: o.forcePathStyle,
      UseFIPS: await client.config.useFipsEndpoint(), UseDualStack: await client.config.useDualstackEndpoint(), Accelerate: false,
    });
    const scheme = (resolved.properties?.authSchemes as { name?: string; signingName?: string; signingRegion?: string }[] | undefined)?.[0];
    if (scheme && (scheme.name !== 'sigv4' || (scheme.signingName ?? 's3') !== 's3')) return undefined;
    const url = resolved.url;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return new S3Requests(client, o, {
      protocol: url.protocol, hostname: url.hostname, port: url.port,
      basePath: url.pathname.replace(/\/+$/, ''), signer: new SigV4Signer(scheme?.signingRegion ?? region),
    });
  }

  /** Sends one part of a multipart upload; resolves with its ETag. Retried on 5xx and network failures. */
  async uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer, sse: SseParams, signal: AbortSignal): Promise<string> {
    return this.withRetries(signal, async () => {
      const res = await this.send('PUT', key, { partNumber: String(partNumber), uploadId },
        { 'content-length': String(body.length), ...sseHeaders(sse) }, UNSIGNED_PAYLOAD, body, signal);
      res.resume();
      return res.headers.etag ?? '';
    });
  }

  /**
   * Opens bytes [start, end] of an object (pinned to `etag`) as a stream; the
   * opening is retried, the body is the caller's (it ends with the range).
   */
  openRange(key: string, start: number, end: number, etag: string | undefined, sse: SseParams, signal: AbortSignal): Promise<IncomingMessage> {
    return this.withRetries(signal, () => this.getRange(key, start, end, etag, sse, signal));
  }

  /**
   * Opens bytes [start, end] of an object (pinned to `etag`) as a body
   * flowing into sink: on raw sockets for http endpoints, through node:https
   * otherwise. The opening is retried; the body's failures go to the sink.
   */
  openRun(key: string, start: number, end: number, etag: string | undefined, sse: SseParams, sink: RunSink, signal: AbortSignal): Promise<RunBody> {
    const direct = this.direct;
    if (!direct) return this.openRange(key, start, end, etag, sse, signal).then((res) => streamRunBody(res, sink));
    return this.withRetries(signal, async () => direct.get(await this.directGet(key, start, end, etag, sse), sink, signal));
  }

  /** Downloads bytes [start, end] into buf, retrying the whole range on 5xx or a body cut short. */
  fetchRange(key: string, start: number, end: number, etag: string | undefined, sse: SseParams, buf: Buffer, signal: AbortSignal): Promise<number> {
    const direct = this.direct;
    if (direct) return this.withRetries(signal, async () => direct.fetchInto(await this.directGet(key, start, end, etag, sse), buf, signal));
    return this.withRetries(signal, async () => {
      const res = await this.getRange(key, start, end, etag, sse, signal);
      let fill = 0;
      for await (const chunk of res) {
        const c = chunk as Buffer;
        if (fill + c.length > buf.length) { res.destroy(); throw new Error(`s3 read of ${key}: more data than requested`); }
        fill += c.copy(buf, fill);
      }
      return fill;
    });
  }

  destroy(): void {
    this.agent.destroy();
    this.direct?.destroy();
  }

  /** The headers of a ranged GET: the range, the SSE-C key, the ETag it must still have. */
  private rangeHeaders(start: number, end: number, etag: string | undefined, sse: SseParams): Record<string, string> {
    const headers: Record<string, string> = { range: `bytes=${start}-${end}`, ...sseHeaders(sse) };
    if (etag) headers['if-match'] = etag;
    return headers;
  }

  private async directGet(key: string, start: number, end: number, etag: string | undefined, sse: SseParams): Promise<DirectGetRequest> {
    const signed = await this.sign('GET', key, {}, this.rangeHeaders(start, end, etag, sse), EMPTY_SHA256);
    return { ...signed, length: end - start + 1, wholeOk: start === 0, what: key };
  }

  private async getRange(key: string, start: number, end: number, etag: string | undefined, sse: SseParams, signal: AbortSignal): Promise<IncomingMessage> {
    const res = await this.send('GET', key, {}, this.rangeHeaders(start, end, etag, sse), EMPTY_SHA256, undefined, signal);
    // a server that ignores Range answers 200 with the whole object: usable only from its first byte
    if (res.statusCode !== 206 && start !== 0) {
      res.destroy();
      throw new Error(`s3 read of ${key}: the server ignored the range (status ${res.statusCode ?? 0})`);
    }
    return res;
  }

  private async withRetries<T>(signal: AbortSignal, attempt: () => Promise<T>): Promise<T> {
    // bounded: MAX_ATTEMPTS rounds
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (e) {
        if (signal.aborted) throw signal.reason;
        if (n >= MAX_ATTEMPTS || !retryable(e)) throw e;
        await backoff(n - 1, signal);
      }
    }
  }

  private async credentials(): Promise<SigningCredentials> {
    // the SDK's provider is memoized: it decrypts or fetches once and refreshes before expiry
    return this.client.config.credentials();
  }

  /** Signs a request: the headers to send (host, date, payload hash, token and authorization added) and the wire target. */
  private async sign(method: string, key: string, query: Record<string, string>, headers: Record<string, string>, payloadHash: string): Promise<SignedRequest> {
    const t = this.target;
    const path = encodeS3Path(t.basePath, key);
    const host = t.port ? `${t.hostname}:${t.port}` : t.hostname;
    // the SDK's clock correction (set when a metadata call saw RequestTimeTooSkewed) applies here too
    const now = new Date(Date.now() + (this.client.config.systemClockOffset ?? 0));
    const signed = t.signer.sign({ method, host, path, query, headers, payloadHash }, await this.credentials(), now);
    // the wire query is the canonical one: what is signed is exactly what is sent
    const qs = canonicalQuery(query);
    return { target: qs ? `${path}?${qs}` : path, headers: signed };
  }

  /** One signed request; resolves with a 2xx response (body unread), rejects with S3ResponseError or a transport error. */
  private async send(
    method: string, key: string, query: Record<string, string>, headers: Record<string, string>, payloadHash: string,
    body: Buffer | undefined, signal: AbortSignal,
  ): Promise<IncomingMessage> {
    if (signal.aborted) throw signal.reason;
    const t = this.target;
    const signed = await this.sign(method, key, query, headers, payloadHash);
    const send = t.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send({
      protocol: t.protocol, hostname: t.hostname, port: t.port || undefined, method, agent: this.agent, headers: signed.headers,
      path: signed.target, timeout: SOCKET_IDLE_TIMEOUT_MS,
    });
    return new Promise<IncomingMessage>((resolve, reject) => {
      const onAbort = (): void => { req.destroy(signal.reason as Error); };
      signal.addEventListener('abort', onAbort, { once: true });
      // the listener goes with the response (or the failure), not with the headers: the body still reads under the signal
      const done = (): void => signal.removeEventListener('abort', onAbort);
      watchConnect(req);
      req.on('timeout', () => req.destroy(Object.assign(new Error('s3: the socket was idle too long'), { code: 'ETIMEDOUT' })));
      req.on('error', (e) => { done(); reject(e); });
      req.on('response', (res: IncomingMessage) => {
        res.on('close', done);
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) { resolve(res); return; }
        readErrorResponse(res, status).then(reject, reject);
      });
      req.end(body);
    });
  }
}

/** Fails a connection attempt that takes longer than CONNECT_TIMEOUT_MS (the idle timeout is longer). */
function watchConnect(req: ClientRequest): void {
  req.once('socket', (socket) => {
    if (!socket.connecting) return;
    const timer = setTimeout(() => {
      req.destroy(Object.assign(new Error('s3: connection timed out'), { code: 'ETIMEDOUT' }));
    }, CONNECT_TIMEOUT_MS);
    socket.once('connect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
  });
}
