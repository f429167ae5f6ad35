/**
 * Shares over real HTTP: the user's CRUD (password redacted), the public API
 * with Basic-auth passwords, zip and browse confined to the shared folder
 * ("/a" never reaches "/ab", "../" is cleaned first), max_tokens, expiry,
 * allow_from, write (drop box) shares and uploads that try to leave them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startServer, type TestServer } from '../httpd/support';
import { curl } from '../crossproto/env';

let s: TestServer;
let admin: string;
let home: string;
let token: string;

const q = (p: string): string => encodeURIComponent(p);
const basic = (pw: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`x:${pw}`).toString('base64')}` });

async function addShare(body: Record<string, unknown>): Promise<string> {
  const r = await s.call('POST', '/api/v2/user/shares', { token, body });
  assert.equal(r.status, 201, r.text);
  return r.headers.get('x-object-id') ?? '';
}

async function zipNames(id: string, headers: Record<string, string> = {}): Promise<string[]> {
  const res = await fetch(`${s.base}/api/v2/shares/${id}`, { headers });
  assert.equal(res.status, 200, await res.clone().text());
  const file = path.join(s.dir, `z-${id}.zip`);
  fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  execFileSync('unzip', ['-tq', file]);
  return execFileSync('unzip', ['-Z1', file], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
}

before(async () => {
  s = await startServer();
  admin = await s.token();
  home = path.join(s.dir, 'homes', 'sharer');
  const r = await s.call('POST', '/api/v2/users', { token: admin, body: {
    username: 'sharer', password: 'pw-sharer', status: 1, home_dir: home, permissions: { '/': ['*'] },
  } });
  assert.equal(r.status, 201, r.text);
  for (const d of ['a/sub', 'ab', 'in', 'b']) fs.mkdirSync(path.join(home, d), { recursive: true });
  fs.writeFileSync(path.join(home, 'a/f.txt'), 'in a');
  fs.writeFileSync(path.join(home, 'a/sub/g.txt'), 'in a/sub');
  fs.writeFileSync(path.join(home, 'ab/secret.txt'), 'must not leak');
  fs.writeFileSync(path.join(home, 'b/other.txt'), 'must not leak either');
  const t = await s.call('GET', '/api/v2/user/token', { basic: ['sharer', 'pw-sharer'] });
  token = (t.json as { access_token: string }).access_token;
});
after(async () => { await s.close(); });

test('user CRUD: created with a hashed password, listed redacted, updated, deleted', async () => {
  const id = await addShare({ name: 'crud', scope: 1, paths: ['/a'], password: 'share-pw' });
  let r = await s.call('GET', '/api/v2/user/shares', { token });
  const listed = (r.json as { id: string; password: string; username: string }[]).find((x) => x.id === id);
  assert.equal(listed?.password, '[**redacted**]');
  assert.equal(listed?.username, 'sharer');
  r = await s.call('PUT', `/api/v2/user/shares/${id}`, { token, body: { ...listed, description: 'changed' } });
  assert.equal(r.status, 200, r.text);
  r = await s.call('GET', `/api/v2/user/shares/${id}`, { token });
  assert.equal((r.json as { description: string }).description, 'changed');
  assert.equal((await s.call('GET', `/api/v2/shares/${id}/dirs`, { headers: basic('share-pw') })).status, 200, 'password kept by the redacted update');
  assert.equal((await s.call('POST', '/api/v2/user/shares', { token, body: { name: 'bad', scope: 2, paths: ['/a', '/b'] } })).status, 400);
  assert.equal((await s.call('DELETE', `/api/v2/user/shares/${id}`, { token })).status, 200);
  assert.equal((await s.call('GET', `/api/v2/shares/${id}/dirs`, { headers: basic('share-pw') })).status, 404);
  assert.ok(!s.bodies.some((b) => /\$2[aby]\$/.test(b)), 'no hash in any response');
});

test('read share: password, zip and browsing stay inside /a (not /ab, not /a/../b)', async () => {
  const id = await addShare({ name: 'docs', scope: 1, paths: ['/a'], password: 'share-pw' });
  assert.equal((await s.call('GET', `/api/v2/shares/${id}`)).status, 401);
  assert.equal((await s.call('GET', `/api/v2/shares/${id}`, { headers: basic('wrong') })).status, 401);
  assert.deepEqual(await zipNames(id, basic('share-pw')), ['f.txt', 'sub/', 'sub/g.txt']);
  let r = await s.call('GET', `/api/v2/shares/${id}/dirs?path=${q('sub')}`, { headers: basic('share-pw') });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual((r.json as { name: string }[]).map((e) => e.name), ['g.txt']);
  for (const escape of ['../ab', '../ab/secret.txt', '../b/other.txt', '/../../ab/secret.txt', '..']) {
    const d = await s.call('GET', `/api/v2/shares/${id}/files?path=${q(escape)}`, { headers: basic('share-pw') });
    assert.ok(!d.text.includes('must not leak'), `${escape} leaked`);
    assert.notEqual(d.status, 200, escape);
  }
  const raw = await curl(['-u', 'x:share-pw', `${s.base}/api/v2/shares/${id}/files?path=../ab/secret.txt`]);
  assert.equal(raw.status, 400, raw.body);
  r = await s.call('GET', `/api/v2/shares/${id}/files?path=${q('sub/g.txt')}`, { headers: basic('share-pw') });
  assert.equal(r.text, 'in a/sub');
  // several paths: names relative to "/", siblings with a common prefix stay out
  const multi = await addShare({ name: 'multi', scope: 1, paths: ['/a/f.txt', '/b'] });
  assert.deepEqual(await zipNames(multi), ['a/f.txt', 'b/', 'b/other.txt']);
});

test('max_tokens, expiry and allow_from', async () => {
  const id = await addShare({ name: 'twice', scope: 1, paths: ['/a/f.txt'], max_tokens: 2 });
  for (let i = 0; i < 2; i++) assert.equal((await s.call('GET', `/api/v2/shares/${id}?compress=false`)).text, 'in a');
  assert.equal((await s.call('GET', `/api/v2/shares/${id}?compress=false`)).status, 403);
  const ip = await addShare({ name: 'lan', scope: 1, paths: ['/a'], allow_from: ['10.0.0.0/8'] });
  assert.equal((await s.call('GET', `/api/v2/shares/${ip}/dirs`)).status, 403);
  const expired = { id: 'expiredshare', name: 'old', scope: 1, paths: ['/a'], username: 'sharer', expires_at: Date.now() - 60_000, password: '' };
  await s.ctx.provider.restore({ shares: [expired] }, 0);
  assert.equal((await s.call('GET', `/api/v2/shares/${expired.id}/dirs`)).status, 404);
});

test('write share: multipart and raw uploads land in /in only; reading it is refused', async () => {
  const id = await addShare({ name: 'drop', scope: 2, paths: ['/in'], max_tokens: 3 });
  const src = path.join(s.dir, 'drop-src');
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, '1.txt'), 'one');
  fs.writeFileSync(path.join(src, '2.txt'), 'two');
  let r = await curl(['-F', `filenames=@${path.join(src, '1.txt')};filename=../../escape1.txt`, '-F', `filenames=@${path.join(src, '2.txt')}`, `${s.base}/api/v2/shares/${id}`]);
  assert.equal(r.status, 201, r.body);
  assert.equal(fs.readFileSync(path.join(home, 'in/escape1.txt'), 'utf8'), 'one', 'a multipart name is reduced to its base name');
  assert.equal(fs.readFileSync(path.join(home, 'in/2.txt'), 'utf8'), 'two');
  r = await curl(['--path-as-is', '-H', 'Content-Type: text/plain', '--data-binary', 'x', `${s.base}/api/v2/shares/${id}/..%2F..%2Fescape2.txt`]);
  assert.ok(r.status === 403 || r.status === 400 || r.status === 404, `${r.status} ${r.body}`);
  assert.equal(fs.existsSync(path.join(home, 'escape2.txt')), false);
  assert.equal(fs.existsSync(path.join(s.dir, 'homes', 'escape2.txt')), false);
  r = await curl(['-H', 'Content-Type: text/plain', '--data-binary', 'raw', `${s.base}/api/v2/shares/${id}/raw.txt`]);
  assert.equal(r.status, 201, r.body);
  assert.equal(fs.readFileSync(path.join(home, 'in/raw.txt'), 'utf8'), 'raw');
  r = await curl(['-H', 'Content-Type: text/plain', '--data-binary', 'raw', `${s.base}/api/v2/shares/${id}/more.txt`]);
  assert.equal(r.status, 403, 'three tokens spent');
  assert.equal((await s.call('GET', `/api/v2/shares/${id}`)).status, 403, 'a write share cannot be read');
  assert.equal(fs.readdirSync(home).includes('escape1.txt'), false);
});

test('admins list a user\'s shares (redacted) and revoke one', async () => {
  const id = await addShare({ name: 'leaked', scope: 1, paths: ['/a'], password: 'pw' });
  let r = await s.call('GET', '/api/v2/users/sharer/shares', { token: admin });
  assert.equal(r.status, 200, r.text);
  const mine = (r.json as { id: string; password: string }[]).find((x) => x.id === id);
  assert.equal(mine?.password, '[**redacted**]');
  assert.equal((await s.call('GET', '/api/v2/users/sharer/shares', { token })).status, 401, 'a user token is not an admin token');
  r = await s.call('DELETE', `/api/v2/users/sharer/shares/${id}`, { token: admin });
  assert.equal(r.status, 200, r.text);
  assert.equal((await s.call('GET', `/api/v2/shares/${id}/dirs`, { headers: basic('pw') })).status, 404);
  assert.equal((await s.call('GET', '/api/v2/users/ghost/shares', { token: admin })).status, 404);
});

test('shares-disabled users cannot manage shares and their shares stop working', async () => {
  const id = await addShare({ name: 'soon-off', scope: 1, paths: ['/a'] });
  const u = await s.call('GET', '/api/v2/users/sharer', { token: admin });
  const user = u.json as Record<string, unknown> & { filters?: Record<string, unknown> };
  const r = await s.call('PUT', '/api/v2/users/sharer', { token: admin, body: { ...user, filters: { ...user.filters, web_client: ['shares-disabled'] } } });
  assert.equal(r.status, 200, r.text);
  assert.equal((await s.call('GET', '/api/v2/user/shares', { token })).status, 403);
  assert.equal((await s.call('GET', `/api/v2/shares/${id}/dirs`)).status, 404);
});
