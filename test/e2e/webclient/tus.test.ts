/**
 * Resumable uploads (tus 1.0.0 under /web/client/tus) over real HTTP: an
 * upload whose connection drops half way keeps what arrived and resumes from
 * HEAD's Upload-Offset; with upload_mode 1 (atomic) nothing is visible at the
 * target until the last byte; wrong offsets, other users, CSRF, termination
 * and quota are refused as they must be.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { request } from 'node:http';
import * as path from 'node:path';
import { startServer, type TestServer } from '../httpd/support';
import { Browser } from './httpclient';

let s: TestServer;
let b: Browser;
let csrf: string;
let home: string;
const TUS = { 'tus-resumable': '1.0.0' };
const b64 = (v: string): string => Buffer.from(v).toString('base64');

async function tus(method: string, url: string, headers: Record<string, string> = {}, body?: Buffer, who = b): Promise<Response> {
  const cookie = [...who.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  return fetch(s.base + url, { method, headers: { ...TUS, 'x-csrf-token': who === b ? csrf : '', cookie, ...headers }, body });
}

async function create(name: string, length: number): Promise<string> {
  const r = await tus('POST', '/web/client/tus', { 'upload-length': String(length), 'upload-metadata': `filename ${b64(name)},path ${b64('/in')}` });
  assert.equal(r.status, 201, await r.text());
  return r.headers.get('location') ?? '';
}

/** Sends `data` as a PATCH body and drops the connection after `cut` bytes, resolving once the socket is closed. */
function patchAndDrop(url: string, offset: number, data: Buffer, cut: number): Promise<void> {
  return new Promise((resolve) => {
    const u = new URL(s.base + url);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'PATCH', headers: {
      ...TUS, 'x-csrf-token': csrf, cookie: [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
      'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset), 'content-length': String(data.length),
    } });
    req.on('error', () => undefined);
    req.on('close', () => resolve());
    req.write(data.subarray(0, cut), () => { req.destroy(); });
  });
}

async function offsetOf(url: string): Promise<number> {
  const r = await tus('HEAD', url);
  assert.equal(r.status, 200);
  return Number(r.headers.get('upload-offset'));
}

before(async () => {
  s = await startServer({ binding: { enable_web_client: true }, configure: (c) => { c.common.upload_mode = 1; } });
  home = path.join(s.dir, 'homes', 'tusu');
  await s.ctx.provider.addUser({ username: 'tusu', password: 'Tus-pw-1', status: 1, home_dir: home, permissions: { '/': ['*'] } });
  await s.ctx.provider.addUser({ username: 'small', password: 'Tus-pw-2', status: 1, home_dir: path.join(s.dir, 'homes', 'small'), permissions: { '/': ['*'] }, quota_size: 1000 });
  fs.mkdirSync(path.join(home, 'in'), { recursive: true });
  b = new Browser(s.base);
  assert.equal(await b.login('tusu', 'Tus-pw-1'), 303);
  csrf = b.csrf((await b.req('GET', '/web/client/files')).text);
});
after(async () => { await s.close(); });

test('a dropped PATCH keeps what arrived; the upload resumes from HEAD and is committed whole', async () => {
  const data = randomBytes(12 << 20);
  const url = await create('big.bin', data.length);
  assert.equal(await offsetOf(url), 0);
  await patchAndDrop(url, 0, data, 6 << 20);
  // the server notices the drop when the socket closes: wait for the writer to let go (bounded)
  let offset = 0;
  const deadline = Date.now() + 60_000;
  for (let i = 0; i < 100_000 && Date.now() < deadline; i++) {
    const r = await tus('PATCH', url, { 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' }, Buffer.alloc(0));
    offset = await offsetOf(url);
    if (r.status === 409 && offset > 0 && (await r.text()).includes('offset mismatch')) break;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  assert.ok(offset > 0 && offset <= 6 << 20, `kept ${offset} bytes`);
  assert.equal(fs.existsSync(path.join(home, 'in/big.bin')), false, 'atomic mode: nothing at the target before the end');
  const r = await tus('PATCH', url, { 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset) }, data.subarray(offset));
  assert.equal(r.status, 204, await r.text());
  assert.equal(r.headers.get('upload-offset'), String(data.length));
  assert.ok(fs.readFileSync(path.join(home, 'in/big.bin')).equals(data));
  assert.equal((await tus('HEAD', url)).status, 404, 'a finished upload is gone');
});

test('refusals: wrong offset, other users, missing CSRF, termination, quota', async () => {
  const url = await create('t.bin', 10);
  const wrong = await tus('PATCH', url, { 'content-type': 'application/offset+octet-stream', 'upload-offset': '5' }, Buffer.alloc(5));
  assert.equal(wrong.status, 409);
  const other = new Browser(s.base);
  await other.login('small', 'Tus-pw-2');
  const cookie = [...other.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  assert.equal((await fetch(s.base + url, { method: 'HEAD', headers: { ...TUS, cookie } })).status, 404);
  const noCsrf = await fetch(s.base + url, { method: 'PATCH', headers: { ...TUS, cookie: [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' }, body: Buffer.alloc(10) });
  assert.equal(noCsrf.status, 403);
  assert.equal((await tus('DELETE', url)).status, 204);
  assert.equal((await tus('HEAD', url)).status, 404);
  assert.equal(fs.existsSync(path.join(home, 'in/t.bin')), false);

  const ocsrf = other.csrf((await other.req('GET', '/web/client/files')).text);
  const mk = await fetch(`${s.base}/web/client/tus`, { method: 'POST', headers: { ...TUS, cookie, 'x-csrf-token': ocsrf, 'upload-length': '5000', 'upload-metadata': `filename ${b64('q.bin')}` } });
  assert.equal(mk.status, 201);
  const over = await fetch(s.base + (mk.headers.get('location') ?? ''), { method: 'PATCH', headers: { ...TUS, cookie, 'x-csrf-token': ocsrf, 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' }, body: Buffer.alloc(5000) });
  assert.equal(over.status, 413, 'over quota');
  assert.equal(fs.existsSync(path.join(s.dir, 'homes', 'small', 'q.bin')), false);
});
