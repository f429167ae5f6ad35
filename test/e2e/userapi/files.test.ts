/**
 * The user file API over real HTTP (fetch and curl): listing, mkdir with
 * parents, multipart uploads of several files, raw uploads with X-SFTPGO-MTIME,
 * ranged downloads, rename/move/copy, delete, metadata, a streamed zip read
 * back with unzip, per-request sessions in the connection manager with
 * protocol HTTP, quota and write-disabled refusals, and 2FA requirements.
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

async function addUser(username: string, extra: Record<string, unknown> = {}): Promise<string> {
  const home = path.join(s.dir, 'homes', username);
  const r = await s.call('POST', '/api/v2/users', { token: admin, body: {
    username, password: `pw-${username}`, status: 1, home_dir: home, permissions: { '/': ['*'] }, ...extra,
  } });
  assert.equal(r.status, 201, r.text);
  return home;
}

async function userToken(username: string): Promise<string> {
  const r = await s.call('GET', '/api/v2/user/token', { basic: [username, `pw-${username}`] });
  assert.equal(r.status, 200, r.text);
  return (r.json as { access_token: string }).access_token;
}

const q = (p: string): string => encodeURIComponent(p);

before(async () => {
  s = await startServer();
  admin = await s.token();
});
after(async () => { await s.close(); });

test('dirs: mkdir (with parents), list in SFTPGo JSON, rename, delete recursively', async () => {
  const home = await addUser('alice');
  const token = await userToken('alice');
  let r = await s.call('POST', `/api/v2/user/dirs?path=${q('/a/b/c')}`, { token });
  assert.equal(r.status, 404, 'without mkdir_parents the missing parent is an error');
  r = await s.call('POST', `/api/v2/user/dirs?path=${q('/a/b/c')}&mkdir_parents=true`, { token });
  assert.equal(r.status, 201, r.text);
  assert.ok(fs.statSync(path.join(home, 'a/b/c')).isDirectory());
  fs.writeFileSync(path.join(home, 'a/f.txt'), 'hello');
  r = await s.call('GET', `/api/v2/user/dirs?path=${q('/a')}`, { token });
  assert.equal(r.status, 200, r.text);
  const entries = r.json as { name: string; size?: number; mode: number; last_modified: string }[];
  const byName = new Map(entries.map((e) => [e.name, e]));
  assert.equal(byName.get('f.txt')?.size, 5);
  assert.ok((byName.get('b')!.mode & 2 ** 31) !== 0, 'directories carry Go ModeDir');
  assert.equal(byName.get('b')!.size, undefined);
  assert.match(byName.get('f.txt')!.last_modified, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  r = await s.call('POST', `/api/v2/user/file-actions/move?path=${q('/a/b')}&target=${q('/a/b2')}`, { token });
  assert.equal(r.status, 200, r.text);
  assert.ok(fs.existsSync(path.join(home, 'a/b2/c')));
  r = await s.call('DELETE', `/api/v2/user/dirs?path=${q('/a')}`, { token });
  assert.equal(r.status, 200, r.text);
  assert.equal(fs.existsSync(path.join(home, 'a')), false);
  fs.mkdirSync(path.join(home, 'etc'));
  fs.writeFileSync(path.join(home, 'etc/inside'), '');
  r = await s.call('GET', `/api/v2/user/dirs?path=${q('/../../etc')}`, { token });
  assert.equal(r.status, 200, 'paths are cleaned inside the home');
  assert.deepEqual((r.json as { name: string }[]).map((e) => e.name), ['inside']);
});

test('uploads: multipart with several files (curl -F), raw body with mtime, ranged download, copy, delete', async () => {
  const home = await addUser('bob', { quota_files: 100 });
  const token = await userToken('bob');
  const src = path.join(s.dir, 'src-bob');
  fs.mkdirSync(src);
  const big = Buffer.alloc(3 * 1024 * 1024 + 17);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
  fs.writeFileSync(path.join(src, 'one.bin'), big);
  fs.writeFileSync(path.join(src, 'two.txt'), 'second file\n');
  let r = await curl(['-H', `Authorization: Bearer ${token}`, '-F', `filenames=@${path.join(src, 'one.bin')}`,
    '-F', `filenames=@${path.join(src, 'two.txt')}`, `${s.base}/api/v2/user/files?path=${q('/up/deep')}&mkdir_parents=true`]);
  assert.equal(r.status, 201, r.body);
  assert.ok(fs.readFileSync(path.join(home, 'up/deep/one.bin')).equals(big));
  assert.equal(fs.readFileSync(path.join(home, 'up/deep/two.txt'), 'utf8'), 'second file\n');

  const mtime = Date.UTC(2020, 1, 2, 3, 4, 5);
  r = await curl(['-H', `Authorization: Bearer ${token}`, '-H', `X-SFTPGO-MTIME: ${mtime}`, '-H', 'Content-Type: application/octet-stream',
    '--data-binary', '@-', `${s.base}/api/v2/user/files/upload?path=${q('/raw/r.txt')}&mkdir_parents=true`], Buffer.from('raw body'));
  assert.equal(r.status, 201, r.body);
  assert.equal(fs.readFileSync(path.join(home, 'raw/r.txt'), 'utf8'), 'raw body');
  assert.equal(fs.statSync(path.join(home, 'raw/r.txt')).mtimeMs, mtime);

  r = await curl(['-H', `Authorization: Bearer ${token}`, '-H', 'Range: bytes=10-19', `${s.base}/api/v2/user/files?path=${q('/up/deep/one.bin')}`]);
  assert.equal(r.status, 206);
  assert.match(r.headers, /content-range: bytes 10-19\/3145745/i);
  assert.match(r.headers, /content-disposition: attachment; filename="one.bin"/i);
  const full = await fetch(`${s.base}/api/v2/user/files?path=${q('/up/deep/one.bin')}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(full.status, 200);
  assert.ok(Buffer.from(await full.arrayBuffer()).equals(big));

  r = await curl(['-X', 'POST', '-H', `Authorization: Bearer ${token}`, `${s.base}/api/v2/user/file-actions/copy?path=${q('/up/deep')}&target=${q('/copied')}`]);
  assert.equal(r.status, 200, r.body);
  assert.ok(fs.readFileSync(path.join(home, 'copied/one.bin')).equals(big));

  const meta = await s.call('PATCH', `/api/v2/user/files/metadata?path=${q('/copied/two.txt')}`, { token, body: { modification_time: mtime } });
  assert.equal(meta.status, 200, meta.text);
  assert.equal(fs.statSync(path.join(home, 'copied/two.txt')).mtimeMs, mtime);

  let d = await s.call('DELETE', `/api/v2/user/files?path=${q('/copied')}`, { token });
  assert.equal(d.status, 400, 'a directory is not deleted as a file');
  d = await s.call('DELETE', `/api/v2/user/files?path=${q('/copied/two.txt')}`, { token });
  assert.equal(d.status, 200, d.text);
  assert.equal(fs.existsSync(path.join(home, 'copied/two.txt')), false);

  // the transfers were logged with protocol HTTP by common (upload and download)
  const u = await s.ctx.provider.getUser('bob');
  assert.equal(u?.used_quota_files, 4, 'quota: 3 uploaded + 2 copied - 1 deleted');
});

test('streamzip: a streamed zip of a file and a folder, readable by unzip', async () => {
  const home = await addUser('carol');
  const token = await userToken('carol');
  fs.mkdirSync(path.join(home, 'd/sub'), { recursive: true });
  fs.writeFileSync(path.join(home, 'd/sub/x.txt'), 'xx');
  fs.writeFileSync(path.join(home, 'top.txt'), 'top');
  fs.writeFileSync(path.join(home, 'dd.txt'), 'not selected');
  const res = await fetch(`${s.base}/api/v2/user/streamzip`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(['/d', '/top.txt', '/d']),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-disposition') ?? '', /carol-download\.zip/);
  const zipFile = path.join(s.dir, 'carol.zip');
  fs.writeFileSync(zipFile, Buffer.from(await res.arrayBuffer()));
  const listing = execFileSync('unzip', ['-Z1', zipFile], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
  assert.deepEqual(listing, ['d/', 'd/sub/', 'd/sub/x.txt', 'top.txt']);
  execFileSync('unzip', ['-tq', zipFile]);
  assert.equal(execFileSync('unzip', ['-p', zipFile, 'd/sub/x.txt'], { encoding: 'utf8' }), 'xx');
  const denied = await s.call('POST', '/api/v2/user/streamzip', { token, body: ['/missing'] });
  assert.equal(denied.status, 404);
});

test('rules from common: permissions, quota, write-disabled, 2FA requirement, sessions registered as HTTP', async () => {
  const home = await addUser('dave', { permissions: { '/': ['list', 'download'], '/in': ['list', 'upload'] }, quota_size: 1000 });
  fs.mkdirSync(path.join(home, 'in'), { recursive: true });
  const token = await userToken('dave');
  let r = await s.call('POST', `/api/v2/user/files/upload?path=${q('/x.txt')}`, { token, raw: 'data', headers: { 'content-type': 'text/plain' } });
  assert.equal(r.status, 403, r.text);
  r = await s.call('POST', `/api/v2/user/files/upload?path=${q('/in/x.txt')}`, { token, raw: 'data', headers: { 'content-type': 'text/plain' } });
  assert.equal(r.status, 201, r.text);
  r = await s.call('POST', `/api/v2/user/files/upload?path=${q('/in/big.bin')}`, { token, raw: Buffer.alloc(200_000), headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(r.status, 413, r.text);
  assert.equal(fs.existsSync(path.join(home, 'in/big.bin')), false, 'nothing half-written stays');
  r = await s.call('DELETE', `/api/v2/user/files?path=${q('/in/x.txt')}`, { token });
  assert.equal(r.status, 403);

  await addUser('erin', { filters: { web_client: ['write-disabled'] } });
  const t2 = await userToken('erin');
  r = await s.call('POST', `/api/v2/user/dirs?path=${q('/x')}`, { token: t2 });
  assert.equal(r.status, 403);
  assert.equal((await s.call('GET', '/api/v2/user/dirs', { token: t2 })).status, 200, 'reading stays allowed');

  await addUser('frank', { filters: { two_factor_protocols: ['HTTP'] } });
  const t3 = await userToken('frank');
  assert.equal((await s.call('GET', '/api/v2/user/dirs', { token: t3 })).status, 403, 'HTTP 2FA required and not set up');
  assert.equal((await s.call('GET', '/api/v2/user/profile', { token: t3 })).status, 200);

  // a slow download keeps its session listed with protocol HTTP
  fs.writeFileSync(path.join(home, 'big.bin'), Buffer.alloc(8 << 20));
  const ctrl = new AbortController();
  const res = await fetch(`${s.base}/api/v2/user/files?path=${q('/big.bin')}`, { headers: { authorization: `Bearer ${token}` }, signal: ctrl.signal });
  assert.equal(res.status, 200);
  const seen = s.ctx.connections.list().filter((c) => c.username === 'dave');
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.protocol, 'HTTP');
  ctrl.abort();
  await res.arrayBuffer().catch(() => undefined);
});

test('user-scope API keys: accepted on file routes when the user allows them, never on profile routes', async () => {
  await addUser('kate', { filters: { allow_api_key_auth: true } });
  await addUser('liam');
  const mk = async (user: string): Promise<string> => {
    const r = await s.call('POST', '/api/v2/apikeys', { token: admin, body: { name: `k-${user}`, scope: 2, user } });
    assert.equal(r.status, 201, r.text);
    return (r.json as { key: string }).key;
  };
  const kate = await mk('kate');
  assert.equal((await s.call('POST', `/api/v2/user/dirs?path=${q('/viakey')}`, { apiKey: kate })).status, 201);
  assert.equal((await s.call('GET', '/api/v2/user/dirs', { apiKey: kate })).status, 200);
  assert.equal((await s.call('GET', '/api/v2/user/profile', { apiKey: kate })).status, 403, 'profile is JWT only, as SFTPGo');
  assert.equal((await s.call('GET', '/api/v2/user/dirs', { apiKey: `${kate}x` })).status, 401);
  assert.equal((await s.call('GET', '/api/v2/user/dirs', { apiKey: await mk('liam') })).status, 401, 'the user did not allow API keys');
  const closed = await startServer({ binding: { disabled_login_methods: 128 } });
  try {
    assert.equal((await closed.call('GET', '/api/v2/user/dirs', { apiKey: kate })).status, 403, 'bit 128 disables user API keys');
  } finally {
    await closed.close();
  }
});

test('profile and password change', async () => {
  await addUser('gina', { filters: { web_client: ['publickey-change-disabled'] } });
  const token = await userToken('gina');
  let r = await s.call('PUT', '/api/v2/user/profile', { token, body: { email: 'g@example.com', description: 'me', public_keys: ['ssh-ed25519 AAAA'] } });
  assert.equal(r.status, 200, r.text);
  r = await s.call('GET', '/api/v2/user/profile', { token });
  const p = r.json as { email: string; description: string; public_keys: string[] };
  assert.equal(p.email, 'g@example.com');
  assert.deepEqual(p.public_keys, [], 'public keys are not changeable for this user');
  r = await s.call('PUT', '/api/v2/user/changepwd', { token, body: { current_password: 'wrong', new_password: 'n3w-Passw0rd' } });
  assert.equal(r.status, 400);
  r = await s.call('PUT', '/api/v2/user/changepwd', { token, body: { current_password: 'pw-gina', new_password: 'n3w-Passw0rd' } });
  assert.equal(r.status, 200, r.text);
  assert.equal((await s.call('GET', '/api/v2/user/profile', { token })).status, 401, 'the token used is invalidated');
  assert.equal((await s.call('GET', '/api/v2/user/token', { basic: ['gina', 'n3w-Passw0rd'] })).status, 200);
  assert.ok(!s.bodies.some((b) => /\$2[aby]\$/.test(b)), 'no hash in any response');
});

// (an expired password takes the same gate: dataprovider/auth mustChangePassword, unit-tested with a clock)
test('a password to change (require_password_change): only the account routes until it is changed', async () => {
  await addUser('mustchange', { filters: { require_password_change: true } });
  for (const name of ['mustchange']) {
    const token = await userToken(name);
    let r = await s.call('GET', `/api/v2/user/dirs?path=${q('/')}`, { token });
    assert.equal(r.status, 403, `${name}: files refused until the password is changed`);
    assert.match(r.text, /Password change required/);
    r = await s.call('GET', '/api/v2/user/profile', { token });
    assert.equal(r.status, 200, r.text);
    r = await s.call('PUT', '/api/v2/user/changepwd', { token, body: { current_password: `pw-${name}`, new_password: `new-Pw-${name}-1234` } });
    assert.equal(r.status, 200, r.text);
    const fresh = await s.call('GET', '/api/v2/user/token', { basic: [name, `new-Pw-${name}-1234`] });
    assert.equal(fresh.status, 200, fresh.text);
    r = await s.call('GET', `/api/v2/user/dirs?path=${q('/')}`, { token: (fresh.json as { access_token: string }).access_token });
    assert.equal(r.status, 200, `${name}: files allowed after the change: ${r.text}`);
  }
});
