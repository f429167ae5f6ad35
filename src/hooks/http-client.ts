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
 *
 * Connections are kept alive and reused (as Go's default transport does for
 * SFTPGo), one pool per client: service/app.ts builds one client for every
 * hook, action and event HTTP call, so a hook login does not pay a TCP (and
 * TLS) handshake per call. A kept connection the peer closed while idle
 * fails the next request before any answer: that request is sent once more
 * on a new connection (nothing was processed), so keep-alive never turns
 * into a refused login.
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

/** Go's http.Transport keeps idle connections 90 s; the peer's Keep-Alive hint shortens it (node's agent reads it). */
const IDLE_SOCKET_MS = 90_000;

/** A request failed on a reused connection before any answer: the peer had closed it while idle. */
class StaleConnection extends Error {}

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
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(private readonly cfg: HttpClientConfig, configDir: string, opts: HttpClientOptions = {}) {
    if (!(cfg.timeout > 0)) throw new ConfigError(`http.timeout: invalid timeout ${cfg.timeout}`);
    this.tls = loadTls(cfg, configDir);
    this.headers = cfg.headers.filter((h) => h.key !== '' && h.value !== '');
    this.sleep = opts.sleep ?? defaultSleep;
    // lifo: the most recently used connection is the one least likely to have been closed by the peer
    this.httpAgent = new http.Agent({ keepAlive: true, scheduling: 'lifo', timeout: IDLE_SOCKET_MS });
    // the `http` section's TLS settings are the agent's, so every pooled connection was made with them
    this.httpsAgent = new https.Agent({ keepAlive: true, scheduling: 'lifo', timeout: IDLE_SOCKET_MS, ...this.tls });
  }

  /** The pooled agent for a URL scheme (event HTTP actions reuse the same connections). */
  agentFor(protocol: string): http.Agent {
    return protocol === 'https:' ? this.httpsAgent : this.httpAgent;
  }

  /** Closes the kept connections (server stop). */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  async send(req: HookHttpRequest): Promise<HookHttpResponse> {
    const sender = HOOK_SENDER[req.hook];
    const attempts = req.retry ? Math.max(0, this.cfg.retry_max) + 1 : 1;
    let last: HookError | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      let res: HookHttpResponse | undefined;
      let retryAfterMs: number | undefined;
      try {
        const r = await this.onceFresh(req);
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

  /** One exchange; a stale kept connection costs one more try on a new one, never a failure. */
  private async onceFresh(req: HookHttpRequest): Promise<{ res: HookHttpResponse; retryAfterMs?: number }> {
    for (let tries = 0; ; tries++) {
      try {
        return await this.once(req);
      } catch (err) {
        // the pool keeps a bounded number of idle sockets: bound the loop the same way
        if (!(err instanceof StaleConnection) || tries >= 8) {
          throw err instanceof StaleConnection ? new HookError(req.hook, 'http-error', `${HOOK_SENDER[req.hook]}: ${err.message}`) : err;
        }
      }
    }
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
      const options: https.RequestOptions = { method: req.method, headers, agent: this.agentFor(url.protocol) };
      let answered = false;
      const r = (isHttps ? https : http).request(url, options, (resp) => {
        answered = true;
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
      const fail = (e: Error): void => {
        clearTimeout(timer);
        r.destroy();
        reject(e);
      };
      // Go's http.Client.Timeout bounds the whole exchange, body included
      const timer = setTimeout(() => fail(new HookError(req.hook, 'timeout', `${sender}: no complete response within ${this.cfg.timeout} s`)), this.cfg.timeout * 1000);
      r.on('error', (e: NodeJS.ErrnoException) => {
        if (r.reusedSocket && !answered && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) {
          fail(new StaleConnection(`${e.code} on a kept-alive connection`));
          return;
        }
        fail(new HookError(req.hook, 'http-error', `${sender}: ${e.code ?? e.message}`));
      });
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
