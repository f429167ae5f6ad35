/**
 * The HTTP action (SFTPGo executeHTTPRuleAction): method, endpoint, query
 * parameters, headers and body with placeholders (JSON-escaped when the
 * Content-Type is JSON), basic auth with the stored password, multipart
 * bodies whose file parts are streamed from the user's files, a timeout on
 * the whole exchange, 200-204 = success. Response bodies are not kept.
 * Connections are kept alive and reused as Go's default transport (which
 * SFTPGo's actions use) does: one pool for plain HTTP, one per
 * skip_tls_verify setting for HTTPS.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { HttpActionConfig } from '../../dataprovider/event-models';

export interface HttpActionEnv {
  /** placeholder replacement; mode 1 = JSON escaped */
  replace(s: string, escapeMode: 0 | 1): string;
  /** opens a file of the user concerned (virtual path) */
  openFile(vpath: string): Promise<{ stream: Readable; close(): Promise<void> }>;
  /** the decrypted basic auth password, if any */
  password: string;
}

type Chunk = Buffer | { file: string };

/** Go's default transport keeps idle connections 90 s. */
const IDLE_SOCKET_MS = 90_000;
const agents: { http?: http.Agent; verified?: https.Agent; unverified?: https.Agent } = {};

function agentFor(isHttps: boolean, skipVerify: boolean): http.Agent {
  const base = { keepAlive: true, scheduling: 'lifo' as const, timeout: IDLE_SOCKET_MS };
  if (!isHttps) return (agents.http ??= new http.Agent(base));
  // the agent's TLS options win over a request's: one pool per verification setting
  if (skipVerify) return (agents.unverified ??= new https.Agent({ ...base, rejectUnauthorized: false }));
  return (agents.verified ??= new https.Agent({ ...base, rejectUnauthorized: true }));
}

/**
 * Placeholders in the endpoint become escaped values, so a value can never
 * add a query parameter or change the host: path-escaped ("/" kept) in the
 * path, fully escaped in the query string.
 */
function escapeValues(s: string, env: HttpActionEnv, keepSlash: boolean): string {
  return s.replace(/\{\{\.\w+\}\}/g, (ph) => {
    const v = env.replace(ph, 0);
    if (v === ph) return ph;
    const e = encodeURIComponent(v);
    return keepSlash ? e.replace(/%2F/g, '/') : e;
  });
}

export function buildEndpoint(c: HttpActionConfig, env: HttpActionEnv): URL {
  const raw = c.endpoint ?? '';
  const q = raw.indexOf('?');
  const base = q >= 0 ? raw.slice(0, q) : raw;
  const url = new URL(escapeValues(base, env, true) + (q >= 0 ? escapeValues(raw.slice(q), env, false) : ''));
  for (const kv of c.query_parameters ?? []) url.searchParams.append(kv.key, env.replace(kv.value, 0));
  return url;
}

function isJson(c: HttpActionConfig): boolean {
  return (c.headers ?? []).some((h) => h.key.toLowerCase() === 'content-type' && h.value.toLowerCase().includes('application/json'));
}

function multipart(c: HttpActionConfig, env: HttpActionEnv, boundary: string): Chunk[] {
  const out: Chunk[] = [];
  for (const p of c.parts ?? []) {
    const headers = (p.headers ?? []).map((h) => `${h.key}: ${env.replace(h.value, 0)}\r\n`).join('');
    const hasType = (p.headers ?? []).some((h) => h.key.toLowerCase() === 'content-type');
    if (p.filepath) {
      const file = env.replace(p.filepath, 0);
      const disp = `Content-Disposition: form-data; name="${p.name.replace(/"/g, '%22')}"; filename="${path.posix.basename(file).replace(/"/g, '%22')}"\r\n`;
      out.push(Buffer.from(`--${boundary}\r\n${disp}${headers}${hasType ? '' : 'Content-Type: application/octet-stream\r\n'}\r\n`), { file }, Buffer.from('\r\n'));
    } else {
      out.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name.replace(/"/g, '%22')}"\r\n${headers}\r\n`),
        Buffer.from(env.replace(p.body ?? '', isJson({ headers: p.headers }) ? 1 : 0)), Buffer.from('\r\n'));
    }
  }
  out.push(Buffer.from(`--${boundary}--\r\n`));
  return out;
}

/** Resolves on a 200-204 answer; rejects with the reason otherwise. */
export function runHttpAction(c: HttpActionConfig, env: HttpActionEnv): Promise<void> {
  const url = buildEndpoint(c, env);
  const headers: Record<string, string> = {};
  for (const h of c.headers ?? []) headers[h.key] = env.replace(h.value, 0);
  let chunks: Chunk[] = [];
  if ((c.parts ?? []).length > 0) {
    const boundary = randomBytes(16).toString('hex');
    headers['Content-Type'] = `multipart/form-data; boundary=${boundary}`;
    chunks = multipart(c, env, boundary);
  } else if ((c.body ?? '') !== '') {
    chunks = [Buffer.from(env.replace(c.body ?? '', isJson(c) ? 1 : 0))];
  }
  if (c.username) headers.Authorization = `Basic ${Buffer.from(`${env.replace(c.username, 0)}:${env.password}`).toString('base64')}`;
  const timeoutMs = (c.timeout ?? 20) * 1000;
  return sendWithFreshRetry(() => sendOnce(c, env, url, headers, chunks, timeoutMs));
}

/** A request failed on a reused connection before any answer: the peer had closed it while idle. */
class StaleConnection extends Error {}

/** A kept connection the peer closed costs a new attempt on a new connection (nothing was processed), never a failed action. */
async function sendWithFreshRetry(send: () => Promise<void>): Promise<void> {
  for (let tries = 0; ; tries++) {
    try {
      return await send();
    } catch (e) {
      // bounded: the pool holds a bounded number of idle connections
      if (!(e instanceof StaleConnection) || tries >= 8) throw e instanceof StaleConnection ? new Error(`error sending HTTP request: ${e.message}`) : e;
    }
  }
}

function sendOnce(c: HttpActionConfig, env: HttpActionEnv, url: URL, headers: Record<string, string>, chunks: Chunk[], timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let done = false;
    let answered = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) { req.destroy(); reject(err); } else resolve();
    };
    const isHttps = url.protocol === 'https:';
    const options: https.RequestOptions = { method: c.method ?? 'POST', headers, agent: agentFor(isHttps, c.skip_tls_verify === true) };
    const req = (isHttps ? https : http).request(url, options, (res) => {
      answered = true;
      res.resume();
      res.on('error', (e) => finish(e));
      res.on('end', () => {
        const s = res.statusCode ?? 0;
        finish(s >= 200 && s <= 204 ? undefined : new Error(`unexpected status code: ${s}`));
      });
    });
    const timer = setTimeout(() => finish(new Error(`no answer from ${url.host} within ${timeoutMs / 1000} s`)), timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => {
      const stale = req.reusedSocket && !answered && (e.code === 'ECONNRESET' || e.code === 'EPIPE');
      finish(stale ? new StaleConnection(`${e.code ?? ''} on a kept-alive connection`) : new Error(`error sending HTTP request: ${e.message}`));
    });
    // a destroyed request never drains: 'close' ends the wait too
    const drained = (): Promise<void> => new Promise((r) => { req.once('drain', () => r()); req.once('close', () => r()); });
    void (async () => {
      for (const ch of chunks) {
        if (done) return;
        if (Buffer.isBuffer(ch)) {
          if (!req.write(ch)) await drained();
          continue;
        }
        const f = await env.openFile(ch.file);
        try {
          for await (const data of f.stream) {
            if (done) return;
            if (!req.write(data as Buffer)) await drained();
          }
        } finally {
          await f.close();
        }
      }
      req.end();
    })().catch((e: Error) => finish(e));
  });
}
