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

const userBody = (username: string, extra: Record<string, unknown> = {}) => ({
  status: 1, username, password: 'secret-pw-1', home_dir: join(s.dir, 'data', username), permissions: { '/': ['*'] }, ...extra,
});

type Json = Record<string, unknown>;

test('users CRUD', async () => {
  const c = await s.call('POST', '/api/v2/users', { token, body: userBody('alice', { description: 'first' }) });
  assert.equal(c.status, 201, c.text);
  const created = c.json as Json;
  assert.equal(created['username'], 'alice');
  assert.equal(created['has_password'], true);
  assert.ok(!('password' in created));
  assert.equal(c.headers.get('location'), '/api/v2/users/alice');

  const g = await s.call('GET', '/api/v2/users/alice', { token });
  assert.equal(g.status, 200);
  assert.equal((g.json as Json)['description'], 'first');
  assert.ok(!('password' in (g.json as Json)));

  const u = await s.call('PUT', '/api/v2/users/alice', { token, body: { ...userBody('alice'), password: undefined, description: 'second' } });
  assert.equal(u.status, 200, u.text);
  assert.equal((u.json as Json)['message'], 'User updated');
  const g2 = await s.call('GET', '/api/v2/users/alice', { token });
  assert.equal((g2.json as Json)['description'], 'second');
  // the password survives an update that does not carry one
  assert.equal((g2.json as Json)['has_password'], true);

  const d = await s.call('DELETE', '/api/v2/users/alice', { token });
  assert.equal(d.status, 200);
  assert.equal((await s.call('GET', '/api/v2/users/alice', { token })).status, 404);
});

test('list paging and order', async () => {
  for (const n of ['u1', 'u2', 'u3']) assert.equal((await s.call('POST', '/api/v2/users', { token, body: userBody(n) })).status, 201);
  const all = await s.call('GET', '/api/v2/users', { token });
  assert.deepEqual((all.json as Json[]).map((u) => u['username']), ['u1', 'u2', 'u3']);
  const page = await s.call('GET', '/api/v2/users?limit=1&offset=1&order=DESC', { token });
  assert.deepEqual((page.json as Json[]).map((u) => u['username']), ['u2']);
  assert.equal((await s.call('GET', '/api/v2/users?limit=abc', { token })).status, 400);
  assert.equal((await s.call('GET', '/api/v2/users?order=SIDEWAYS', { token })).status, 400);
  assert.equal((await s.call('GET', '/api/v2/users?limit=100000', { token })).status, 200);
  for (const b of all.json as Json[]) assert.ok(!('password' in b));
});

test('validation errors: 400 with a message, nothing stored', async () => {
  const cases: [string, unknown][] = [
    ['no permissions', { status: 1, username: 'bad1', password: 'x', home_dir: join(s.dir, 'bad1') }],
    ['relative home', userBody('bad2', { home_dir: 'relative/dir' })],
    ['wrong type', userBody('bad3', { status: '1' })],
    ['quota type', userBody('bad4', { quota_size: 'lots' })],
    ['no username', { status: 1, password: 'x', home_dir: join(s.dir, 'x'), permissions: { '/': ['*'] } }],
    ['bad permission', userBody('bad5', { permissions: { '/': ['fly'] } })],
  ];
  for (const [what, body] of cases) {
    const r = await s.call('POST', '/api/v2/users', { token, body });
    assert.equal(r.status, 400, `${what}: ${r.text}`);
    const j = r.json as { error: string; message: string };
    assert.ok(j.error.length > 0 && j.message.length > 0, what);
  }
  for (const n of ['bad1', 'bad2', 'bad3', 'bad4', 'bad5']) {
    assert.equal((await s.call('GET', `/api/v2/users/${n}`, { token })).status, 404, n);
  }
});

test('malformed JSON, wrong content type, oversize body', async () => {
  const m = await s.call('POST', '/api/v2/users', { token, raw: '{"username": "x",' });
  assert.equal(m.status, 400);
  assert.ok((m.json as { error: string }).error.length > 0);
  const e = await s.call('POST', '/api/v2/users', { token, raw: '' });
  assert.equal(e.status, 400);
  const arr = await s.call('POST', '/api/v2/users', { token, raw: '[1,2]' });
  assert.equal(arr.status, 400);
  const proto = await s.call('POST', '/api/v2/users', { token, raw: '{"__proto__": {"x": 1}, "username": "p"}' });
  assert.equal(proto.status, 400);
  const ct = await s.call('POST', '/api/v2/users', { token, raw: 'username=x', headers: { 'content-type': 'text/plain' } });
  assert.ok(ct.status === 400 || ct.status === 415, String(ct.status));
  const big = JSON.stringify(userBody('big', { description: 'x'.repeat(2 * 1024 * 1024) }));
  const o = await s.call('POST', '/api/v2/users', { token, raw: big });
  assert.equal(o.status, 413);
  assert.equal((await s.call('GET', '/api/v2/users/big', { token })).status, 404);
});

test('unknown users 404, duplicate 409, traversal in names 400', async () => {
  assert.equal((await s.call('GET', '/api/v2/users/nobody', { token })).status, 404);
  assert.equal((await s.call('PUT', '/api/v2/users/nobody', { token, body: userBody('nobody') })).status, 404);
  assert.equal((await s.call('DELETE', '/api/v2/users/nobody', { token })).status, 404);
  assert.equal((await s.call('POST', '/api/v2/users', { token, body: userBody('dup') })).status, 201);
  const d = await s.call('POST', '/api/v2/users', { token, body: userBody('dup') });
  assert.equal(d.status, 409, d.text);
  for (const p of ['..%2Fadmin', '..', '%2E%2E', 'a%5Cb', 'a%00b']) {
    const r = await s.call('GET', `/api/v2/users/${p}`, { token });
    assert.ok(r.status === 400 || r.status === 404, `${p}: ${r.status}`);
    assert.notEqual(r.status, 500);
  }
  assert.equal((await s.call('GET', '/api/v2/users/..%2Fadmin', { token })).status, 400);
});

test('hostile URLs and bodies get 400 with the API error shape, never 500', async () => {
  const paths = ['/api/v2/users/%E0%A4%A', `/api/v2/users/${'a'.repeat(300)}`, '/api/v2/users?limit=1&limit=2', '/api/v2/users/%00'];
  for (const p of paths) {
    const r = await s.call('GET', p, { token });
    assert.equal(r.status, 400, p);
    const j = r.json as { error: string; message: string };
    assert.ok(j.error && j.message, p);
    assert.doesNotMatch(j.message, /\^|\$"/, 'no raw regex in messages');
  }
  const deep = await s.call('POST', '/api/v2/users', { token, raw: `${'['.repeat(5000)}${']'.repeat(5000)}` });
  assert.equal(deep.status, 400);
  const perm = await s.call('POST', '/api/v2/users', { token, body: userBody('ps', { permissions: { '/': '*' } }) });
  assert.equal(perm.status, 400);
  assert.match((perm.json as { message: string }).message, /permissions/);
});

test('PUT ?disconnect=1 and DELETE close the user sessions', async () => {
  assert.equal((await s.call('POST', '/api/v2/users', { token, body: userBody('conn') })).status, 201);
  const user = await s.ctx.provider.getUser('conn');
  assert.ok(user);
  const reasons: string[] = [];
  const open = () => {
    const ops = s.ctx.connections.add({
      protocol: 'SFTP', user, remoteAddr: '127.0.0.1:5555', localAddr: '127.0.0.1:2022', clientVersion: 'SSH-2.0-test',
      session: { disconnect: (why) => { reasons.push(why); void s.ctx.connections.remove(ops.id); } },
    });
    return ops.id;
  };
  open();
  const upd = { ...userBody('conn'), password: undefined };
  assert.equal((await s.call('PUT', '/api/v2/users/conn', { token, body: upd })).status, 200);
  assert.equal(reasons.length, 0, 'no disconnect without the flag');
  assert.equal((await s.call('PUT', '/api/v2/users/conn?disconnect=1', { token, body: upd })).status, 200);
  assert.equal(reasons.length, 1);
  assert.equal((await s.call('PUT', '/api/v2/users/conn?disconnect=yes', { token, body: upd })).status, 400);
  open();
  assert.equal((await s.call('DELETE', '/api/v2/users/conn', { token })).status, 200);
  assert.equal(reasons.length, 2);
  assert.equal(s.ctx.connections.list().length, 0);
});

test('no password hash in any response body', () => {
  assert.ok(s.bodies.length > 20);
  for (const b of s.bodies) assert.doesNotMatch(b, HASH_RE);
});
