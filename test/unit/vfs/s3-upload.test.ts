/**
 * The S3 upload rules s3rver cannot check (no AbortMultipartUpload, no part
 * size checks), against a recording S3 endpoint on a loopback port: part
 * sizes and order, bounded parts in flight, abort instead of complete on
 * failure or cancel, a single PUT for small files.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FsError } from '../../../src/common/errors';
import { NO_STORAGE_METRICS } from '../../../src/metrics/storage';
import { s3Options } from '../../../src/vfs/s3/config';
import { S3Fs } from '../../../src/vfs/s3/s3fs';

interface Rec { method: string; path: string; query: URLSearchParams; bytes: number }

const MB = 1024 * 1024;
let server: Server;
let endpoint = '';
let requests: Rec[] = [];
const warnings: string[] = [];
let inFlightParts = 0;
let maxInFlightParts = 0;
let failPart = 0;
/** parts are answered only when this many are in flight (or the upload ends): concurrency becomes visible */
let holdParts = 0;
const held: (() => void)[] = [];

function reply(res: ServerResponse, status: number, body = '', headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/xml', ...headers });
  res.end(body);
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  let bytes = 0;
  req.on('data', (c: Buffer) => { bytes += c.length; });
  req.on('end', () => {
    const rec: Rec = { method: req.method ?? '', path: url.pathname, query: url.searchParams, bytes };
    requests.push(rec);
    const q = url.searchParams;
    if (req.method === 'HEAD') return reply(res, 404);
    if (req.method === 'GET' && q.get('list-type') === '2') {
      return reply(res, 200, '<ListBucketResult><Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>');
    }
    if (req.method === 'POST' && q.has('uploads')) {
      return reply(res, 200, '<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>up-1</UploadId></InitiateMultipartUploadResult>');
    }
    if (req.method === 'PUT' && q.has('partNumber')) {
      const n = Number(q.get('partNumber'));
      if (n === failPart) return reply(res, 500, '<Error><Code>InternalError</Code><Message>part refused</Message></Error>');
      inFlightParts++;
      maxInFlightParts = Math.max(maxInFlightParts, inFlightParts);
      const answer = (): void => { inFlightParts--; reply(res, 200, '', { etag: `"etag-${n}"` }); };
      held.push(answer);
      // the last (short) part cannot wait for company
      if (held.length >= holdParts || bytes < 5 * MB) for (const a of held.splice(0)) a();
      return;
    }
    if (req.method === 'POST' && q.has('uploadId')) {
      return reply(res, 200, '<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><ETag>"e"</ETag></CompleteMultipartUploadResult>');
    }
    if (req.method === 'DELETE' && q.has('uploadId')) return reply(res, 204);
    if (req.method === 'PUT') return reply(res, 200, '', { etag: '"single"' });
    reply(res, 400);
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

function fresh(concurrency: number, hold: number): S3Fs {
  requests = []; inFlightParts = 0; maxInFlightParts = 0; failPart = 0; holdParts = hold;
  const o = s3Options({
    bucket: 'b', region: 'us-east-1', endpoint, force_path_style: true, access_key: 'k', access_secret: { status: 'Plain', payload: 's' },
    upload_part_size: 5, upload_concurrency: concurrency,
  });
  return new S3Fs(o, { decrypt: async (s) => s.payload ?? '', metrics: NO_STORAGE_METRICS, renameMode: 0, warn: (m) => { warnings.push(m); } });
}

const NEW = { create: true, truncate: true, append: false, exclusive: false, read: false };

async function writeMB(fs: S3Fs, mb: number): Promise<{ abort(e: Error): Promise<void>; close(): Promise<void> }> {
  const w = await fs.openWrite('/f.bin', NEW);
  const chunk = Buffer.alloc(MB / 4, 1);
  for (let pos = 0; pos < mb * MB; pos += chunk.length) await w.writeAt(chunk, pos);
  return w;
}

test('multipart: 5 MiB parts in order, the last one smaller, at most upload_concurrency in flight, then complete', async () => {
  const fs = fresh(2, 2);
  try {
    const w = await writeMB(fs, 12);
    await w.close();
    const parts = requests.filter((r) => r.method === 'PUT' && r.query.has('partNumber'));
    assert.deepEqual(parts.map((p) => Number(p.query.get('partNumber'))).sort(), [1, 2, 3]);
    const sizes = parts.sort((a, b) => Number(a.query.get('partNumber')) - Number(b.query.get('partNumber'))).map((p) => p.bytes);
    assert.deepEqual(sizes, [5 * MB, 5 * MB, 2 * MB]);
    assert.equal(maxInFlightParts, 2, 'both slots were used and never more');
    assert.equal(requests.filter((r) => r.method === 'POST' && r.query.has('uploadId')).length, 1, 'completed once');
    assert.equal(requests.some((r) => r.method === 'DELETE'), false);
  } finally {
    await fs.close();
  }
});

test('a cancelled upload aborts the multipart upload and never completes it', async () => {
  const fs = fresh(3, 1);
  try {
    const w = await writeMB(fs, 7);
    await w.abort(new FsError('Aborted', 'client went away'));
    assert.ok(requests.some((r) => r.method === 'DELETE' && r.query.get('uploadId') === 'up-1'), `AbortMultipartUpload sent: ${JSON.stringify(requests.map((r) => `${r.method} ${r.query.toString()}`))} ${warnings.join()}`);
    assert.equal(requests.some((r) => r.method === 'POST' && r.query.has('uploadId')), false, 'never completed');
  } finally {
    await fs.close();
  }
});

test('a part the backend refuses fails the upload: abort, no complete, the error names S3', async () => {
  const fs = fresh(2, 1);
  failPart = 2;
  try {
    const w = await fs.openWrite('/f.bin', NEW);
    const chunk = Buffer.alloc(MB, 2);
    let failed: unknown;
    try {
      for (let pos = 0; pos < 16 * MB; pos += MB) await w.writeAt(chunk, pos);
      await w.close();
    } catch (e) {
      failed = e;
      await w.abort(e as Error);
    }
    assert.ok(failed instanceof FsError && /s3 upload part 2/.test(failed.message), String(failed));
    assert.ok(requests.some((r) => r.method === 'DELETE' && r.query.get('uploadId') === 'up-1'));
    assert.equal(requests.some((r) => r.method === 'POST' && r.query.has('uploadId')), false);
  } finally {
    await fs.close();
  }
});

test('a file smaller than one part is a single PUT; an aborted small upload sends nothing', async () => {
  const fs = fresh(2, 1);
  try {
    const w = await fs.openWrite('/small', NEW);
    await w.writeAt(Buffer.from('tiny'), 0);
    await w.close();
    const puts = requests.filter((r) => r.method === 'PUT');
    assert.equal(puts.length, 1);
    assert.equal(puts[0]!.bytes, 4);
    assert.equal(requests.some((r) => r.query.has('uploads')), false);
    requests = [];
    const a = await fs.openWrite('/small2', NEW);
    await a.writeAt(Buffer.from('partial'), 0);
    await a.abort(new FsError('QuotaExceeded'));
    assert.deepEqual(requests.filter((r) => r.method !== 'HEAD' && r.method !== 'GET'), [], 'nothing reached the bucket');
  } finally {
    await fs.close();
  }
});
