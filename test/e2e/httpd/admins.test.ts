import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { HASH_RE, startServer, type TestServer } from './support';

let s: TestServer;
let token: string;
before(async () => {
  s = await startServer();
  token = await s.token();
});
after(async () => { await s.close(); });

type Json = Record<string, unknown>;
const adminBody = (username: string, permissions: string[], extra: Json = {}) => ({ status: 1, username, password: 'admin-pw-1', permissions, ...extra });
const userBody = (username: string) => ({ status: 1, username, password: 'pw', home_dir: join(s.dir, 'data', username), permissions: { '/': ['*'] } });

test('admins CRUD, duplicates, self protection', async () => {
  const c = await s.call('POST', '/api/v2/admins', { token, body: adminBody('bob', ['view_users']) });
  assert.equal(c.status, 201, c.text);
  assert.ok(!('password' in (c.json as Json)));
  assert.equal((await s.call('POST', '/api/v2/admins', { token, body: adminBody('bob', ['view_users']) })).status, 409);
  assert.equal((await s.call('POST', '/api/v2/admins', { token, body: adminBody('bad', ['fly']) })).status, 400);
  assert.equal((await s.call('GET', '/api/v2/admins/bad', { token })).status, 404);
  const g = await s.call('GET', '/api/v2/admins/bob', { token });
  assert.deepEqual((g.json as Json)['permissions'], ['view_users']);
  const list = await s.call('GET', '/api/v2/admins', { token });
  assert.deepEqual((list.json as Json[]).map((a) => a['username']).sort(), ['admin', 'bob']);
  const u = await s.call('PUT', '/api/v2/admins/bob', { token, body: { ...adminBody('bob', ['view_users', 'add_users']), password: undefined, description: 'x' } });
  assert.equal(u.status, 200, u.text);
  assert.equal(((await s.call('GET', '/api/v2/admins/bob', { token })).json as Json)['description'], 'x');
  // the old password still works after an update without one
  await s.token('bob', 'admin-pw-1');

  assert.equal((await s.call('DELETE', '/api/v2/admins/admin', { token })).status, 400);
  assert.equal((await s.call('PUT', '/api/v2/admins/admin', { token, body: { status: 0, username: 'admin', permissions: ['*'] } })).status, 400);
  assert.equal((await s.call('PUT', '/api/v2/admins/admin', { token, body: { status: 1, username: 'admin', permissions: ['view_users'] } })).status, 400);
  assert.equal((await s.call('DELETE', '/api/v2/admins/bob', { token })).status, 200);
  assert.equal((await s.call('DELETE', '/api/v2/admins/bob', { token })).status, 404);
});

test('a limited admin gets 403 with a message on routes outside its permissions', async () => {
  assert.equal((await s.call('POST', '/api/v2/admins', { token, body: adminBody('viewer', ['view_users']) })).status, 201);
  const vt = await s.token('viewer', 'admin-pw-1');
  assert.equal((await s.call('GET', '/api/v2/users', { token: vt })).status, 200);
  assert.equal((await s.call('GET', '/api/v2/version', { token: vt })).status, 200);
  const checks: [string, string, unknown?][] = [
    ['POST', '/api/v2/users', userBody('nope')],
    ['DELETE', '/api/v2/users/whoever'],
    ['GET', '/api/v2/admins'],
    ['GET', '/api/v2/folders'],
    ['GET', '/api/v2/connections'],
    ['GET', '/api/v2/status'],
    ['GET', '/api/v2/dumpdata?output-data=1'],
    ['POST', '/api/v2/loaddata', { version: 17 }],
    ['GET', '/api/v2/apikeys'],
    ['POST', '/api/v2/quotas/users/whoever/scan'],
  ];
  for (const [method, path, body] of checks) {
    const r = await s.call(method, path, { token: vt, body });
    assert.equal(r.status, 403, `${method} ${path}: ${r.text}`);
    assert.match((r.json as { message: string }).message, /permission/);
  }
  assert.equal((await s.call('GET', '/api/v2/users/nope', { token })).status, 404);
});

test('allow_list: token refused and existing tokens rejected from other IPs', async () => {
  assert.equal((await s.call('POST', '/api/v2/admins', { token, body: adminBody('far', ['*'], { filters: { allow_list: ['10.0.0.0/8'] } }) })).status, 201);
  const r = await s.call('GET', '/api/v2/token', { basic: ['far', 'admin-pw-1'] });
  assert.ok(r.status === 403 || r.status === 401, String(r.status));
  assert.equal((await s.call('POST', '/api/v2/admins', { token, body: adminBody('near', ['*']) })).status, 201);
  const nt = await s.token('near', 'admin-pw-1');
  assert.equal((await s.call('GET', '/api/v2/users', { token: nt })).status, 200);
  const upd = await s.call('PUT', '/api/v2/admins/near', { token, body: { status: 1, username: 'near', permissions: ['*'], filters: { allow_list: ['192.168.0.0/16'] } } });
  assert.equal(upd.status, 200, upd.text);
  const denied = await s.call('GET', '/api/v2/users', { token: nt });
  assert.equal(denied.status, 403);
  assert.match((denied.json as { message: string }).message, /IP/);
  // disabling the admin invalidates its tokens too
  assert.equal((await s.call('POST', '/api/v2/admins', { token, body: adminBody('temp', ['*']) })).status, 201);
  const tt = await s.token('temp', 'admin-pw-1');
  assert.equal((await s.call('PUT', '/api/v2/admins/temp', { token, body: { status: 0, username: 'temp', permissions: ['*'] } })).status, 200);
  assert.equal((await s.call('GET', '/api/v2/users', { token: tt })).status, 401);
});

test('profile, change password', async () => {
  assert.equal((await s.call('POST', '/api/v2/admins', { token, body: adminBody('carol', ['view_users']) })).status, 201);
  const ct = await s.token('carol', 'admin-pw-1');
  const p = await s.call('GET', '/api/v2/admin/profile', { token: ct });
  assert.deepEqual(p.json, { email: '', description: '', allow_api_key_auth: false });
  assert.equal((await s.call('PUT', '/api/v2/admin/profile', { token: ct, body: { email: 'c@example.com', description: 'me' } })).status, 200);
  assert.equal((await s.call('PUT', '/api/v2/admin/profile', { token: ct, body: { unknown: 1 } })).status, 400);
  assert.deepEqual((await s.call('GET', '/api/v2/admin/profile', { token: ct })).json, { email: 'c@example.com', description: 'me', allow_api_key_auth: false });
  const wrong = await s.call('PUT', '/api/v2/admin/changepwd', { token: ct, body: { current_password: 'nope', new_password: 'n3w-pass' } });
  assert.equal(wrong.status, 400, wrong.text);
  assert.equal((await s.call('PUT', '/api/v2/admin/changepwd', { token: ct, body: { current_password: 'admin-pw-1' } })).status, 400);
  const ok = await s.call('PUT', '/api/v2/admin/changepwd', { token: ct, body: { current_password: 'admin-pw-1', new_password: 'n3w-pass' } });
  assert.equal(ok.status, 200, ok.text);
  await s.token('carol', 'n3w-pass');
  assert.equal((await s.call('GET', '/api/v2/token', { basic: ['carol', 'admin-pw-1'] })).status, 401);
});

test('API keys: created once, usable for admin APIs, refused where SFTPGo refuses them', async () => {
  assert.equal((await s.call('PUT', '/api/v2/admin/profile', { token, body: { allow_api_key_auth: true } })).status, 200);
  const c = await s.call('POST', '/api/v2/apikeys', { token, body: { name: 'k1', scope: 1, admin: 'admin', description: 'test key' } });
  assert.equal(c.status, 201, c.text);
  const { key } = c.json as { key: string; message: string };
  const keyId = c.headers.get('x-object-id');
  assert.ok(keyId && key.startsWith(`${keyId}.`));
  assert.equal(c.headers.get('location'), `/api/v2/apikeys/${keyId}`);
  const g = await s.call('GET', `/api/v2/apikeys/${keyId}`, { token });
  assert.equal(g.status, 200);
  assert.equal((g.json as Json)['id'], keyId);
  assert.equal((g.json as Json)['name'], 'k1');
  assert.ok(!('key' in (g.json as Json)));
  const list = await s.call('GET', '/api/v2/apikeys', { token });
  assert.equal((list.json as Json[]).length, 1);
  assert.ok(!list.text.includes(key.split('.')[1]));

  assert.equal((await s.call('GET', '/api/v2/users', { apiKey: key })).status, 200);
  assert.equal((await s.call('POST', '/api/v2/users', { apiKey: key, body: userBody('bykey') })).status, 201);
  assert.equal((await s.call('GET', '/api/v2/users', { apiKey: `${keyId}.wrongsecret` })).status, 401);
  assert.equal((await s.call('GET', '/api/v2/users', { apiKey: 'garbage' })).status, 401);
  for (const [m, p] of [['GET', '/api/v2/apikeys'], ['GET', '/api/v2/logout'], ['GET', '/api/v2/admin/profile'], ['PUT', '/api/v2/admin/changepwd']]) {
    const r = await s.call(m, p, { apiKey: key, body: m === 'PUT' ? { current_password: 'a', new_password: 'b' } : undefined });
    assert.equal(r.status, 403, `${m} ${p}`);
  }
  assert.equal((await s.call('PUT', `/api/v2/apikeys/${keyId}`, { token, body: { name: 'k1', scope: 1, admin: 'admin', description: 'renamed' } })).status, 200);
  assert.equal(((await s.call('GET', `/api/v2/apikeys/${keyId}`, { token })).json as Json)['description'], 'renamed');
  assert.equal((await s.call('DELETE', `/api/v2/apikeys/${keyId}`, { token })).status, 200);
  assert.equal((await s.call('GET', '/api/v2/users', { apiKey: key })).status, 401);
  assert.equal((await s.call('GET', `/api/v2/apikeys/${keyId}`, { token })).status, 404);
});

test('no password hash in any response body', () => {
  for (const b of s.bodies) assert.doesNotMatch(b, HASH_RE);
});
