/**
 * The S3 data path sent without the SDK (src/vfs/s3/hot.ts), against a
 * scripted S3 endpoint on a loopback port (s3rver has no SSE-C and cannot be
 * told to fail): SSE-C headers, the session token and the key prefix on
 * UploadPart and the ranged GET (sent and signed), bounded retries of 5xx
 * answers and resets, and S3 error answers mapped to the FsError kinds the
 * SDK path gave (NotFound, PermissionDenied, Unavailable, Generic).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FsError } from '../../../src/common/errors';
import { NO_STORAGE_METRICS } from '../../../src/metrics/storage';
import { s3Options } from '../../../src/vfs/s3/config';
import { S3Fs } from '../../../src/vfs/s3/s3fs';

const MB = 1024 * 1024;
const OBJECT = Buffer.from(Array.from({ length: 3 * MB }, (_v, i) => (i * 7) & 0xff));
const ETAG = '"object-etag"';

interface Rec { method: string; path: string; query: URLSearchParams; headers: IncomingMessage['headers']; bytes: number }
type Answer = { status: number; body?: string } | 'reset' | undefined;

let server: Server;
let endpoint = '';
let requests: Rec[] = [];
/** decides the answer of a part PUT or a ranged GET; undefined = the normal answer */
let script: (r: Rec, attempt: number) => Answer = () => undefined;
const attempts = new Map<string, number>();

function normal(r: Rec, res: ServerResponse): void {
  const q = r.query;
  if (r.method === 'HEAD') {
    res.writeHead(200, { 'content-length': String(OBJECT.length), etag: ETAG, 'content-type': 'application/octet-stream' });
    return void res.end();
  }
  if (r.method === 'GET') {
    const m = /^bytes=(\d+)-(\d+)$/.exec(String(r.headers.range));
    if (!m) { res.writeHead(200); return void res.end(OBJECT); }
    const [start, end] = [Number(m[1]), Math.min(Number(m[2]), OBJECT.length - 1)];
    res.writeHead(206, { 'content-length': String(end - start + 1), etag: ETAG });
    return void res.end(OBJECT.subarray(start, end + 1));
  }
  const xml = (s: string): void => { res.writeHead(200, { 'content-type': 'application/xml' }); res.end(s); };
  if (r.method === 'POST' && q.has('uploads')) return xml('<InitiateMultipartUploadResult><UploadId>up-1</UploadId></InitiateMultipartUploadResult>');
  if (r.method === 'POST' && q.has('uploadId')) return xml('<CompleteMultipartUploadResult><ETag>"e"</ETag></CompleteMultipartUploadResult>');
  if (r.method === 'PUT' && q.has('partNumber')) { res.writeHead(200, { etag: `"part-${q.get('partNumber')}"` }); return void res.end(); }
  res.writeHead(r.method === 'DELETE' ? 204 : 200, { etag: '"x"' });
  res.end();
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  let bytes = 0;
  req.on('data', (c: Buffer) => { bytes += c.length; });
  req.on('end', () => {
    const r: Rec = { method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, bytes };
    requests.push(r);
    const hot = (r.method === 'PUT' && r.query.has('partNumber')) || r.method === 'GET';
    const id = `${r.method} ${r.query.get('partNumber') ?? String(r.headers.range)}`;
    const attempt = (attempts.get(id) ?? 0) + 1;
    attempts.set(id, attempt);
    const a = hot ? script(r, attempt) : undefined;
    if (a === 'reset') return void req.socket.destroy();
    if (a) { res.writeHead(a.status, { 'content-type': 'application/xml' }); return void res.end(a.body ?? ''); }
    normal(r, res);
  });
}

before(async () => {
  server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

function fresh(extra: Record<string, unknown> = {}): S3Fs {
  requests = [];
  attempts.clear();
  script = () => undefined;
  const o = s3Options({
    bucket: 'b', region: 'eu-west-3', endpoint, force_path_style: true, access_key: 'k', access_secret: { status: 'Plain', payload: 's' },
    upload_part_size: 5, download_part_size: 1, ...extra,
  });
  return new S3Fs(o, { decrypt: async (s) => s.payload ?? '', metrics: NO_STORAGE_METRICS, renameMode: 0, warn: () => undefined });
}

const NEW = { create: true, truncate: true, append: false, exclusive: false, read: false };

async function upload(fs: S3Fs, size: number): Promise<void> {
  const w = await fs.openWrite('/f.bin', NEW);
  const chunk = Buffer.alloc(MB, 1);
  for (let pos = 0; pos < size; pos += chunk.length) await w.writeAt(chunk.subarray(0, Math.min(chunk.length, size - pos)), pos);
  await w.close();
}

async function readAll(fs: S3Fs): Promise<Buffer> {
  const r = await fs.openRead('/f.bin');
  try {
    const buf = Buffer.alloc(r.size);
    let done = 0;
    // bounded: every read returns at least one byte before the end
    while (done < r.size) done += await r.readAt(buf, done, Math.min(256 * 1024, r.size - done), done);
    return buf;
  } finally {
    await r.close();
  }
}

async function failureOf(p: Promise<unknown>): Promise<FsError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof FsError, String(e));
    return e;
  }
  assert.fail('expected a failure');
}

const signedHeaders = (r: Rec): string[] => /SignedHeaders=([^,]+)/.exec(String(r.headers.authorization))?.[1].split(';') ?? [];

test('SSE-C key, session token and key prefix go with every part and ranged GET, signed', async () => {
  const fs = fresh({ sse_customer_key: { status: 'Plain', payload: 'not 32 bytes' }, session_token: 'session-tok', key_prefix: 'pre/' });
  const key = createHash('sha256').update('not 32 bytes').digest();
  try {
    await upload(fs, 6 * MB);
    assert.deepEqual(await readAll(fs), OBJECT);
    const hot = requests.filter((r) => r.method === 'GET' || r.query.has('partNumber'));
    assert.ok(hot.some((r) => r.method === 'GET') && hot.some((r) => r.method === 'PUT'), JSON.stringify(requests.map((r) => r.method)));
    for (const r of hot) {
      assert.equal(r.path, '/b/pre/f.bin');
      assert.equal(r.headers['x-amz-server-side-encryption-customer-algorithm'], 'AES256');
      assert.equal(r.headers['x-amz-server-side-encryption-customer-key'], key.toString('base64'));
      assert.equal(r.headers['x-amz-server-side-encryption-customer-key-md5'], createHash('md5').update(key).digest('base64'));
      assert.equal(r.headers['x-amz-security-token'], 'session-tok');
      assert.match(String(r.headers.authorization), /^AWS4-HMAC-SHA256 Credential=k\/\d{8}\/eu-west-3\/s3\/aws4_request, /);
      for (const h of ['host', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token', 'x-amz-server-side-encryption-customer-key']) {
        assert.ok(signedHeaders(r).includes(h), `${h} signed in ${r.method}`);
      }
    }
    const gets = hot.filter((r) => r.method === 'GET');
    assert.ok(gets.every((r) => r.headers['if-match'] === ETAG), 'reads pinned to the ETag read at open');
  } finally {
    await fs.close();
  }
});

test('a part answered 503 twice and a GET reset before its answer are sent again and succeed', async () => {
  const fs = fresh();
  try {
    script = (r, attempt) => {
      if (r.method === 'PUT' && r.query.get('partNumber') === '1' && attempt <= 2) return { status: 503, body: '<Error><Code>SlowDown</Code></Error>' };
      if (r.method === 'GET' && attempt === 1) return 'reset';
      return undefined;
    };
    await upload(fs, 6 * MB);
    assert.equal(requests.filter((r) => r.query.get('partNumber') === '1').length, 3, 'part 1 sent three times');
    assert.deepEqual(await readAll(fs), OBJECT);
  } finally {
    await fs.close();
  }
});

test('S3 error answers map to the same FsError kinds as the SDK path', async () => {
  const cases: { answer: Answer; kind: string; tries: number }[] = [
    { answer: { status: 404, body: '<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>' }, kind: 'NotFound', tries: 1 },
    { answer: { status: 403, body: '<Error><Code>AccessDenied</Code><Message>no</Message></Error>' }, kind: 'PermissionDenied', tries: 1 },
    { answer: { status: 500, body: '<Error><Code>InternalError</Code></Error>' }, kind: 'Unavailable', tries: 3 },
    { answer: 'reset', kind: 'Unavailable', tries: 3 },
    { answer: { status: 412, body: '<Error><Code>PreconditionFailed</Code></Error>' }, kind: 'Generic', tries: 1 },
  ];
  for (const c of cases) {
    const fs = fresh();
    try {
      script = () => c.answer;
      const err = await failureOf(readAll(fs));
      assert.equal(err.kind, c.kind, `${JSON.stringify(c.answer)}: ${err.message}`);
      assert.equal(requests.filter((r) => r.method === 'GET' && r.headers.range === 'bytes=0-3145727').length, c.tries, JSON.stringify(c.answer));
    } finally {
      await fs.close();
    }
  }
  const fs = fresh();
  try {
    script = (r) => (r.method === 'PUT' ? { status: 403, body: '<Error><Code>AccessDenied</Code></Error>' } : undefined);
    const err = await failureOf(upload(fs, 6 * MB));
    assert.equal(err.kind, 'PermissionDenied', err.message);
    assert.match(err.message, /s3 upload part \d of f\.bin: AccessDenied/);
  } finally {
    await fs.close();
  }
});
