/**
 * Admin permissions route by route: each specific permission opens exactly
 * its endpoints; admins, API keys and backup/restore need '*' or the
 * SFTPGo 2.x permission naming them (manage_admins, manage_apikeys,
 * manage_system). An API key acts with its admin's permissions.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, type TestServer } from './support';

let s: TestServer;
let root = '';
before(async () => {
  s = await startServer();
  root = await s.token();
});
after(async () => { await s.close(); });

type Json = Record<string, unknown>;

async function adminWith(username: string, permissions: string[], extra: Json = {}): Promise<string> {
  const r = await s.call('POST', '/api/v2/admins', { token: root, body: { status: 1, username, password: 'pw-12345', permissions, ...extra } });
  assert.equal(r.status, 201, r.text);
  return s.token(username, 'pw-12345');
}

const user = (name: string): Json => ({ status: 1, username: name, password: 'pw', home_dir: join(s.dir, 'data', name), permissions: { '/': ['*'] } });

/** The status of each call, as "METHOD path → code". */
async function statuses(token: string, calls: [string, string, unknown?][]): Promise<string[]> {
  const out: string[] = [];
  for (const [m, p, body] of calls) out.push(`${m} ${p} → ${(await s.call(m, p, { token, body })).status}`);
  return out;
}

test('each user permission opens only its own operation', async () => {
  assert.equal((await s.call('POST', '/api/v2/users', { token: root, body: user('target') })).status, 201);
  const full = (await s.call('GET', '/api/v2/users/target', { token: root })).json as Json;
  const calls = (name: string): [string, string, unknown?][] => [
    ['GET', '/api/v2/users'],
    ['POST', '/api/v2/users', user(name)],
    ['PUT', '/api/v2/users/target', full],
    ['DELETE', `/api/v2/users/${name}-none`],
  ];
  const add = await adminWith('adder', ['add_users']);
  assert.deepEqual(await statuses(add, calls('byadder')), [
    'GET /api/v2/users → 403', 'POST /api/v2/users → 201', 'PUT /api/v2/users/target → 403', 'DELETE /api/v2/users/byadder-none → 403',
  ]);
  const edit = await adminWith('editor', ['edit_users']);
  assert.deepEqual(await statuses(edit, calls('byeditor')), [
    'GET /api/v2/users → 403', 'POST /api/v2/users → 403', 'PUT /api/v2/users/target → 200', 'DELETE /api/v2/users/byeditor-none → 403',
  ]);
  const del = await adminWith('deleter', ['del_users']);
  assert.deepEqual(await statuses(del, calls('bydeleter')), [
    'GET /api/v2/users → 403', 'POST /api/v2/users → 403', 'PUT /api/v2/users/target → 403', 'DELETE /api/v2/users/bydeleter-none → 404',
  ]);
});

test('connections, status and quota permissions', async () => {
  const ops = await adminWith('operator', ['view_conns', 'view_status']);
  assert.deepEqual(await statuses(ops, [
    ['GET', '/api/v2/connections'], ['DELETE', '/api/v2/connections/nope'], ['GET', '/api/v2/status'],
    ['GET', '/api/v2/quotas/users/scans'],
  ]), [
    'GET /api/v2/connections → 200', 'DELETE /api/v2/connections/nope → 403', 'GET /api/v2/status → 200',
    'GET /api/v2/quotas/users/scans → 403',
  ]);
  const closer = await adminWith('closer', ['close_conns', 'quota_scans']);
  assert.deepEqual(await statuses(closer, [
    ['GET', '/api/v2/connections'], ['DELETE', '/api/v2/connections/nope'], ['GET', '/api/v2/quotas/users/scans'],
  ]), ['GET /api/v2/connections → 403', 'DELETE /api/v2/connections/nope → 404', 'GET /api/v2/quotas/users/scans → 200']);
});

test('admins, API keys and backups need "*" or the permission naming them', async () => {
  const everythingElse = ['add_users', 'edit_users', 'del_users', 'view_users', 'view_conns', 'close_conns', 'view_status',
    'manage_folders', 'quota_scans', 'manage_defender', 'view_defender'];
  const busy = await adminWith('busy', everythingElse);
  const sensitive: [string, string, unknown?][] = [
    ['GET', '/api/v2/admins'], ['GET', '/api/v2/apikeys'], ['GET', '/api/v2/dumpdata?output-data=1'],
    ['POST', '/api/v2/loaddata', { version: 17 }],
  ];
  for (const line of await statuses(busy, sensitive)) assert.match(line, /→ 403$/, line);

  const admins = await adminWith('admins-only', ['manage_admins']);
  assert.deepEqual(await statuses(admins, sensitive), [
    'GET /api/v2/admins → 200', 'GET /api/v2/apikeys → 403', 'GET /api/v2/dumpdata?output-data=1 → 403', 'POST /api/v2/loaddata → 403',
  ]);
  const system = await adminWith('system-only', ['manage_system']);
  assert.deepEqual(await statuses(system, sensitive), [
    'GET /api/v2/admins → 403', 'GET /api/v2/apikeys → 403', 'GET /api/v2/dumpdata?output-data=1 → 200', 'POST /api/v2/loaddata → 200',
  ]);
  // 403 bodies say what is missing
  const r = await s.call('GET', '/api/v2/admins', { token: system });
  assert.match((r.json as { message: string }).message, /manage_admins/);
});

test('an API key acts with its admin permissions and allow list', async () => {
  const vt = await adminWith('keyed', ['view_users', 'manage_apikeys'], { filters: { allow_api_key_auth: true } });
  const c = await s.call('POST', '/api/v2/apikeys', { token: vt, body: { name: 'kk', scope: 1, admin: 'keyed' } });
  assert.equal(c.status, 201, c.text);
  const key = (c.json as { key: string }).key;
  assert.equal((await s.call('GET', '/api/v2/users', { apiKey: key })).status, 200);
  assert.equal((await s.call('POST', '/api/v2/users', { apiKey: key, body: user('viakey') })).status, 403);
  assert.equal((await s.call('GET', '/api/v2/status', { apiKey: key })).status, 403);
  // moving the admin's allow list away from 127.0.0.1 locks the key out too
  const upd = await s.call('PUT', '/api/v2/admins/keyed', {
    token: root, body: { status: 1, username: 'keyed', permissions: ['view_users', 'manage_apikeys'], filters: { allow_api_key_auth: true, allow_list: ['10.0.0.0/8'] } },
  });
  assert.equal(upd.status, 200, upd.text);
  const denied = await s.call('GET', '/api/v2/users', { apiKey: key });
  assert.equal(denied.status, 403);
  assert.match((denied.json as { message: string }).message, /IP/);
});
