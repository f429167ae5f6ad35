/**
 * A GCS object opened for reading: ranged media GETs pinned to the generation
 * read at open (a replaced object answers 404 instead of new bytes), through
 * the shared windowed reader (vfs/windowed-read.ts); the sequential
 * read-ahead streams one GET per run of windows (vfs/streamed-run.ts).
 *
 * Why not the SDK's File.createReadStream: when such a stream is destroyed
 * before its end (a dropped window, a closed file, a run cut by a jump) the
 * SDK destroys the whole keep-alive agent it shares with every other GCS
 * request of the process, in-flight uploads of other sessions included.
 * Here the media GET is a plain JSON-API request (`alt=media`, `Range`,
 * `generation`) with the SDK's credentials, on an agent of its own; aborting
 * it destroys its socket alone. Behind an HTTP(S) proxy from the environment
 * (which the SDK honours and this request would not) the SDK path is kept.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';
import type { Bucket, File } from '@google-cloud/storage';
import { FsError } from '../../common/errors';
import type { StorageMetrics } from '../../metrics/storage';
import { drainInto } from '../drain-into';
import { WindowedReadHandle } from '../windowed-read';
import { runFromStreams } from '../run-body';
import { fromGcsError, GCS_CALL_TIMEOUT_MS } from './client';

const DOWNLOAD_PART = 5 * 1024 * 1024;
const DOWNLOAD_CONCURRENCY = 4;
/** attempts of one media GET that fails before its response (network error, 429, 5xx), as the SDK's maxRetries 2 */
const OPEN_ATTEMPTS = 3;
const RETRY_DELAY_MS = 200;

const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

export interface GcsDownloadParams {
  bucket: Bucket;
  key: string;
  size: number;
  /** the generation read at open; later GETs must come from it */
  generation?: number;
  metrics: StorageMetrics;
}

/** An error shaped like the SDK's (numeric code = HTTP status) so fromGcsError maps it the same way. */
class GcsMediaError extends Error {
  constructor(readonly code: number | string, message: string) {
    super(message);
    this.name = 'GcsMediaError';
  }
}

const proxied = (): boolean => ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy'].some((v) => (process.env[v] ?? '') !== '');

export function gcsReadHandle(p: GcsDownloadParams): WindowedReadHandle {
  const file = p.bucket.file(p.key, p.generation !== undefined ? { generation: p.generation } : {});
  const direct = !proxied();
  return new WindowedReadHandle({
    name: p.key, size: p.size, partSize: DOWNLOAD_PART, concurrency: DOWNLOAD_CONCURRENCY, partMaxTime: GCS_CALL_TIMEOUT_MS * 3,
    backend: 'gcs', metrics: p.metrics, mapError: (e, op) => fromGcsError(e, op),
    fetchRange: direct
      ? async (start, end, buf, signal) => drainInto(await openMedia(p, start, end, signal), buf, p.key)
      : (start, end, buf, signal) => sdkRange(file, p.key, start, end, buf, signal),
    openRun: direct ? runFromStreams((start, end, signal) => openMedia(p, start, end, signal)) : undefined,
  });
}

/** The SDK's ranged read (used behind a proxy): a cancelled one tears down the SDK's shared agent. */
function sdkRange(file: File, key: string, start: number, end: number, buf: Buffer, signal: AbortSignal): Promise<number> {
  const stream: Readable = file.createReadStream({ start, end, validation: false, decompress: false });
  const onAbort = (): void => { stream.destroy(new FsError('Aborted', 'read cancelled')); };
  signal.addEventListener('abort', onAbort, { once: true });
  return drainInto(stream, buf, key).finally(() => signal.removeEventListener('abort', onAbort));
}

/** The media URL as the SDK builds it: its base URL (API endpoint or emulator host), bucket, object, generation. */
function mediaUrl(p: GcsDownloadParams): URL {
  const base = p.bucket.storage.baseUrl.replace(/\/+$/, '');
  const u = new URL(`${base}/b/${encodeURIComponent(p.bucket.name)}/o/${encodeURIComponent(p.key)}`);
  u.searchParams.set('alt', 'media');
  if (p.generation !== undefined) u.searchParams.set('generation', String(p.generation));
  return u;
}

/** The object's bytes [start, end] as one response body; retried while no response came or the server failed. */
export async function openMedia(p: GcsDownloadParams, start: number, end: number, signal: AbortSignal): Promise<Readable> {
  let last: unknown;
  // bounded: OPEN_ATTEMPTS rounds
  for (let attempt = 0; attempt < OPEN_ATTEMPTS; attempt++) {
    if (attempt > 0) await delay(RETRY_DELAY_MS * 2 ** (attempt - 1), signal);
    try {
      return await mediaGet(p, start, end, signal);
    } catch (e) {
      last = e;
      const code = e instanceof GcsMediaError ? e.code : undefined;
      // network errors (no GcsMediaError), no response in time, throttling, server failures
      const retryable = code === undefined || code === 'ETIMEDOUT' || code === 429 || (typeof code === 'number' && code >= 500);
      if (signal.aborted || !retryable) throw e;
    }
  }
  throw last;
}

async function mediaGet(p: GcsDownloadParams, start: number, end: number, signal: AbortSignal): Promise<Readable> {
  const url = mediaUrl(p);
  const storage = p.bucket.storage;
  // a custom endpoint (tests, emulators) gets no credentials, as the SDK does
  const auth = storage.customEndpoint && !storage.useAuthWithCustomEndpoint ? {} : await storage.authClient.getRequestHeaders(url.toString());
  const headers: Record<string, string> = { ...auth, range: `bytes=${start}-${end}`, 'cache-control': 'no-store' };
  const lib = url.protocol === 'https:' ? https : http;
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = lib.request(url, { method: 'GET', headers, agent: url.protocol === 'https:' ? agents.https : agents.http, signal });
    // the SDK's per-request timeout, up to the response headers: a slow reader may park the body for longer
    const timer = setTimeout(() => req.destroy(new GcsMediaError('ETIMEDOUT', `no response in ${GCS_CALL_TIMEOUT_MS} ms`)), GCS_CALL_TIMEOUT_MS);
    timer.unref();
    req.on('response', (r) => { clearTimeout(timer); resolve(r); });
    req.on('error', (e) => { clearTimeout(timer); reject(e); });
    req.end();
  });
  const status = res.statusCode ?? 0;
  if (status === 200 && start > 0) {
    // the whole object instead of the range asked for: not read
    res.destroy();
    throw new GcsMediaError('Generic', `GET ${p.key} bytes=${start}-${end}: the server ignored the range`);
  }
  if (status !== 206 && status !== 200) {
    const body = await readSmall(res);
    throw new GcsMediaError(status, `GET ${p.key} bytes=${start}-${end}: ${status} ${gcsMessage(body)}`);
  }
  if (status === 206) {
    const got = /^bytes (\d+)-(\d+)\//.exec(String(res.headers['content-range'] ?? ''));
    if (!got || Number(got[1]) !== start) {
      res.destroy();
      throw new GcsMediaError('Generic', `GET ${p.key}: asked bytes ${start}-${end}, got ${String(res.headers['content-range'])}`);
    }
  }
  return res;
}

/** An error body (a few KiB at most is read) */
async function readSmall(res: http.IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of res) {
    const b = c as Buffer;
    if (n < 16384) parts.push(b);
    n += b.length;
  }
  return Buffer.concat(parts).toString('utf8').slice(0, 16384);
}

function gcsMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string } };
    return parsed.error?.message ?? body;
  } catch {
    return body;
  }
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) { reject(signal.reason); return; }
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = (): void => { clearTimeout(timer); reject(signal.reason); };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
