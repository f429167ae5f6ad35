/**
 * The HTTP client of hooks, configured by the `http` section exactly like
 * SFTPGo's internal/httpclient: a whole-request timeout (`timeout`, seconds,
 * may be fractional), extra trusted CAs (`ca_certificates`, added to the
 * system roots), client certificates for mutual TLS (`certificates`),
 * `skip_tls_verify`, and `headers` (set when `url` is empty or a prefix of
 * the request URL). Notification hooks (post-connect, post-disconnect,
 * post-login, startup) use the retrying variant: go-retryablehttp's policy,
 * i.e. retry on connection errors, 429 and 5xx except 501, waiting
 * retry_wait_min * 2^attempt capped at retry_wait_max (or Retry-After on
 * 429/503), at most retry_max more attempts. Response bodies are read up to
 * 1 MiB; more is a failure.
 */
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { HttpClientConfig } from '../config/types';
import { ConfigError } from '../config/errors';
import { HOOK_SENDER, HookError, MAX_HOOK_RESPONSE_BYTES, type HookName } from './types';

export interface HookHttpResponse { status: number; body: Buffer }

export interface HookHttpRequest {
  hook: HookName;
  method: 'GET' | 'POST';
  url: string;
  /** JSON body (POST); may hold a password: never logged */
  body?: string;
  retry: boolean;
}

export interface HttpClientOptions {
  /** waits between retries; tests inject an immediate one */
  sleep?: (ms: number) => Promise<void>;
}

interface TlsMaterial { ca?: (string | Buffer)[]; cert?: Buffer[]; key?: Buffer[]; rejectUnauthorized: boolean }

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function resolvePath(configDir: string, p: string): string {
  return path.isAbsolute(p) ? p : path.join(configDir, p);
}

/** Loads certificates at start-up: a missing or unreadable file stops the server, as in SFTPGo. */
function loadTls(c: HttpClientConfig, configDir: string): TlsMaterial {
  const out: TlsMaterial = { rejectUnauthorized: !c.skip_tls_verify };
  if (c.ca_certificates.length > 0) {
    out.ca = [...tls.rootCertificates];
    for (const ca of c.ca_certificates) {
      try {
        out.ca.push(readFileSync(resolvePath(configDir, ca)));
      } catch (err) {
        throw new ConfigError(`http.ca_certificates: unable to load CA certificate "${ca}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
  }
  for (const pair of c.certificates) {
    try {
      const cert = readFileSync(resolvePath(configDir, pair.cert));
      const key = readFileSync(resolvePath(configDir, pair.key));
      tls.createSecureContext({ cert, key }); // proves the pair loads and matches
      (out.cert ??= []).push(cert);
      (out.key ??= []).push(key);
    } catch (err) {
      throw new ConfigError(`http.certificates: unable to load key pair "${pair.cert}", "${pair.key}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  return out;
}

export class HookHttpClient {
  private readonly tls: TlsMaterial;
  private readonly headers: { key: string; value: string; url: string }[];
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly cfg: HttpClientConfig, configDir: string, opts: HttpClientOptions = {}) {
    if (!(cfg.timeout > 0)) throw new ConfigError(`http.timeout: invalid timeout ${cfg.timeout}`);
    this.tls = loadTls(cfg, configDir);
    this.headers = cfg.headers.filter((h) => h.key !== '' && h.value !== '');
    this.sleep = opts.sleep ?? defaultSleep;
  }

  async send(req: HookHttpRequest): Promise<HookHttpResponse> {
    const sender = HOOK_SENDER[req.hook];
    const attempts = req.retry ? Math.max(0, this.cfg.retry_max) + 1 : 1;
    let last: HookError | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      let res: HookHttpResponse | undefined;
      let retryAfterMs: number | undefined;
      try {
        const r = await this.once(req);
        res = r.res;
        retryAfterMs = r.retryAfterMs;
      } catch (err) {
        last = err instanceof HookError ? err : new HookError(req.hook, 'http-error', `${sender}: ${(err as Error).message}`);
        if (last.failure === 'output-too-large' || !isRetryableError(err)) throw last;
      }
      if (res && !(req.retry && isRetryableStatus(res.status))) return res;
      if (res) last = new HookError(req.hook, 'http-status', `${sender}: HTTP status ${res.status}`);
      if (attempt + 1 < attempts) await this.sleep(retryAfterMs ?? this.backoffMs(attempt));
    }
    throw new HookError(req.hook, last?.failure ?? 'http-error',
      attempts > 1 ? `${last?.message ?? sender}, giving up after ${attempts} attempts` : last?.message ?? sender);
  }

  private backoffMs(attempt: number): number {
    const min = Math.max(0, this.cfg.retry_wait_min) * 1000;
    const max = Math.max(0, this.cfg.retry_wait_max) * 1000;
    return Math.min(min * 2 ** attempt, max);
  }

  private once(req: HookHttpRequest): Promise<{ res: HookHttpResponse; retryAfterMs?: number }> {
    const sender = HOOK_SENDER[req.hook];
    return new Promise((resolve, reject) => {
      let url: URL;
      try {
        url = new URL(req.url);
      } catch {
        reject(new HookError(req.hook, 'invalid-hook', `${sender}: invalid URL`));
        return;
      }
      const isHttps = url.protocol === 'https:';
      if (!isHttps && url.protocol !== 'http:') {
        reject(new HookError(req.hook, 'invalid-hook', `${sender}: unsupported URL scheme ${url.protocol}`));
        return;
      }
      const headers: Record<string, string> = {};
      if (req.body !== undefined) {
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = String(Buffer.byteLength(req.body));
      }
      for (const h of this.headers) if (h.url === '' || req.url.startsWith(h.url)) headers[h.key] = h.value;
      const options: https.RequestOptions = { method: req.method, headers, agent: false };
      if (isHttps) Object.assign(options, this.tls);
      const r = (isHttps ? https : http).request(url, options, (resp) => {
        const chunks: Buffer[] = [];
        let size = 0;
        resp.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_HOOK_RESPONSE_BYTES) {
            fail(new HookError(req.hook, 'output-too-large', `${sender}: response larger than ${MAX_HOOK_RESPONSE_BYTES} bytes`));
            return;
          }
          chunks.push(c);
        });
        resp.on('error', (e) => fail(new HookError(req.hook, 'http-error', `${sender}: ${e.message}`)));
        resp.on('end', () => {
          clearTimeout(timer);
          const status = resp.statusCode ?? 0;
          const ra = Number(resp.headers['retry-after']);
          const retryAfterMs = (status === 429 || status === 503) && Number.isFinite(ra) && ra >= 0 ? ra * 1000 : undefined;
          resolve({ res: { status, body: Buffer.concat(chunks) }, retryAfterMs });
        });
      });
      const fail = (e: HookError): void => {
        clearTimeout(timer);
        r.destroy();
        reject(e);
      };
      // Go's http.Client.Timeout bounds the whole exchange, body included
      const timer = setTimeout(() => fail(new HookError(req.hook, 'timeout', `${sender}: no complete response within ${this.cfg.timeout} s`)), this.cfg.timeout * 1000);
      r.on('error', (e: NodeJS.ErrnoException) => fail(new HookError(req.hook, 'http-error', `${sender}: ${e.code ?? e.message}`)));
      // a login waits on this exchange: no Nagle delay between the request's segments
      r.setNoDelay(true);
      r.end(req.body);
    });
  }
}

/** go-retryablehttp: retry on 429 and on 5xx except 501 (and on an invalid 0 status). */
function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 0 || (status >= 500 && status !== 501);
}

/** Connection-level failures are retried; a certificate the client does not trust is not (go-retryablehttp). */
function isRetryableError(err: unknown): boolean {
  if (!(err instanceof HookError)) return true;
  if (err.failure === 'invalid-hook') return false;
  return !/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(err.message);
}
