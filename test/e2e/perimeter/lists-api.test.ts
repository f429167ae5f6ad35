/**
 * /api/v2/iplists/{type} and /api/v2/defender/hosts through the real HTTP
 * server: CRUD, filters and keyset paging, permissions, the dump and restore;
 * and their effect on live connections: a defender deny entry refuses the
 * protocols it names only, the allow list refuses everyone else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPerimeterApp, type PerimeterEnv } from './env';
import { basic, dial, httpGet, sshLogin, waitClosed } from './peers';

async function api(env: PerimeterEnv, method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`http://127.0.0.1:${env.http}${path}`, {
    method, headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) as unknown : undefined };
}

async function token(env: PerimeterEnv, user = 'admin', pw = 'adminpw'): Promise<string> {
  const r = await httpGet(env.http, '/api/v2/token', { headers: { Authorization: basic(user, pw) } });
  assert.equal(r.status, 200, r.body);
  return (JSON.parse(r.body) as { access_token: string }).access_token;
}

/** FTP: the first line the server sends, '' when it closes without a banner. */
async function ftpBanner(env: PerimeterEnv, localAddress: string): Promise<string> {
  const s = await dial(env.ftp, { localAddress });
  return new Promise((resolve) => {
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\r\n')) { s.destroy(); resolve(got.split('\r\n')[0]!); }
    });
    s.on('error', () => undefined);
    s.on('close', () => resolve(got));
  });
}

test('IP lists API: CRUD, canonical networks, filters, paging, permissions, dump and restore', async (t) => {
  const env = await startPerimeterApp();
  t.after(() => env.close());
  const tk = await token(env);
  assert.equal((await api(env, 'POST', '/api/v2/iplists/2', tk, { ipornet: '10.1.2.3/8', mode: 2, protocols: 3, description: 'spray' })).status, 201);
  assert.equal((await api(env, 'POST', '/api/v2/iplists/2', tk, { ipornet: '10.0.0.0/8', mode: 2 })).status, 409, 'stored canonically: 10.0.0.0/8');
  assert.equal((await api(env, 'POST', '/api/v2/iplists/1', tk, { ipornet: '2001:DB8::1', mode: 1 })).status, 201);
  assert.equal((await api(env, 'POST', '/api/v2/iplists/1', tk, { ipornet: '10.0.0.0/8', mode: 2 })).status, 400, 'deny only in the defender list');
  assert.equal((await api(env, 'POST', '/api/v2/iplists/4', tk, { ipornet: '10.0.0.0/8', mode: 1 })).status, 400);
  assert.equal((await api(env, 'POST', '/api/v2/iplists/3', tk, { ipornet: '300.0.0.0/8', mode: 1 })).status, 400);
  assert.equal((await api(env, 'POST', '/api/v2/iplists/3', tk, { ipornet: '10.0.0.0/8', mode: 1, protocols: 16 })).status, 400);
  for (let i = 0; i < 5; i++) {
    assert.equal((await api(env, 'POST', '/api/v2/iplists/3', tk, { ipornet: `192.168.${i}.0/24`, mode: 1, protocols: 15 })).status, 201);
  }
  const got = await api(env, 'GET', `/api/v2/iplists/2/${encodeURIComponent('10.0.0.0/8')}`, tk);
  assert.equal(got.status, 200);
  const e = got.json as Record<string, unknown>;
  assert.deepEqual({ ...e, created_at: 0, updated_at: 0 }, { ipornet: '10.0.0.0/8', description: 'spray', type: 2, mode: 2, protocols: 3, created_at: 0, updated_at: 0 });
  const v6 = await api(env, 'GET', `/api/v2/iplists/1/${encodeURIComponent('2001:db8::1/128')}`, tk);
  assert.equal(v6.status, 200);

  const all = (await api(env, 'GET', '/api/v2/iplists/3', tk)).json as { ipornet: string; protocols: number }[];
  assert.deepEqual(all.map((x) => x.ipornet), ['192.168.0.0/24', '192.168.1.0/24', '192.168.2.0/24', '192.168.3.0/24', '192.168.4.0/24']);
  assert.ok(all.every((x) => x.protocols === 0), 'every protocol named is stored as 0');
  const page2 = (await api(env, 'GET', `/api/v2/iplists/3?limit=2&from=${encodeURIComponent('192.168.1.0/24')}`, tk)).json as { ipornet: string }[];
  assert.deepEqual(page2.map((x) => x.ipornet), ['192.168.2.0/24', '192.168.3.0/24']);
  const desc = (await api(env, 'GET', '/api/v2/iplists/3?order=DESC&limit=1', tk)).json as { ipornet: string }[];
  assert.deepEqual(desc.map((x) => x.ipornet), ['192.168.4.0/24']);
  const filtered = (await api(env, 'GET', '/api/v2/iplists/3?filter=192.168.3', tk)).json as { ipornet: string }[];
  assert.deepEqual(filtered.map((x) => x.ipornet), ['192.168.3.0/24']);

  assert.equal((await api(env, 'PUT', `/api/v2/iplists/2/${encodeURIComponent('10.0.0.0/8')}`, tk, { mode: 1, protocols: 4, ipornet: '1.1.1.1' })).status, 200);
  const upd = (await api(env, 'GET', `/api/v2/iplists/2/${encodeURIComponent('10.0.0.0/8')}`, tk)).json as Record<string, unknown>;
  assert.equal(upd.mode, 1);
  assert.equal(upd.protocols, 4);
  assert.equal(upd.ipornet, '10.0.0.0/8', 'the key never changes on update');
  assert.equal((await api(env, 'DELETE', `/api/v2/iplists/3/${encodeURIComponent('192.168.0.0/24')}`, tk)).status, 200);
  assert.equal((await api(env, 'DELETE', `/api/v2/iplists/3/${encodeURIComponent('192.168.0.0/24')}`, tk)).status, 404);

  // an admin without "*" may neither read nor write the lists; view_defender reads defender hosts only
  await env.app.ctx.provider.addAdmin({ username: 'viewer', password: 'viewer-pw', status: 1, permissions: ['view_defender'] });
  const vt = await token(env, 'viewer', 'viewer-pw');
  assert.equal((await api(env, 'GET', '/api/v2/iplists/3', vt)).status, 403);
  assert.equal((await api(env, 'GET', '/api/v2/defender/hosts', vt)).status, 200);
  assert.equal((await api(env, 'DELETE', `/api/v2/defender/hosts/${Buffer.from('10.0.0.1').toString('hex')}`, vt)).status, 403);
  assert.equal((await api(env, 'GET', `/api/v2/defender/hosts/${Buffer.from('nope').toString('hex')}`, vt)).status, 400);

  const dump = (await api(env, 'GET', '/api/v2/dumpdata?output-data=1', tk)).json as { ip_lists: { ipornet: string; type: number }[] };
  assert.deepEqual(dump.ip_lists.map((x) => `${x.type} ${x.ipornet}`).sort(),
    ['1 2001:db8::1/128', '2 10.0.0.0/8', '3 192.168.1.0/24', '3 192.168.2.0/24', '3 192.168.3.0/24', '3 192.168.4.0/24']);
  const restored = await api(env, 'POST', '/api/v2/loaddata?mode=0', tk, { version: 17, ip_lists: [{ ipornet: '172.16.0.0/12', type: 2, mode: 2, protocols: 1 }] });
  assert.equal(restored.status, 200, JSON.stringify(restored.json));
  assert.equal((await api(env, 'GET', `/api/v2/iplists/2/${encodeURIComponent('172.16.0.0/12')}`, tk)).status, 200);
  const bad = await api(env, 'POST', '/api/v2/loaddata?mode=0', tk, { version: 17, ip_lists: [{ ipornet: 'nope', type: 2, mode: 2 }] });
  assert.equal(bad.status, 400);
});

test('a defender deny entry refuses the protocols it names only; the allow list refuses everyone else', async (t) => {
  const env = await startPerimeterApp((c) => {
    c.common.defender.enabled = true;
  });
  t.after(() => env.close());
  await env.addUser('alice', 'alice-pw');
  const tk = await token(env);
  // SSH (1) + FTP (2) for 127.0.0.20 only
  assert.equal((await api(env, 'POST', '/api/v2/iplists/2', tk, { ipornet: '127.0.0.20', mode: 2, protocols: 3 })).status, 201);
  assert.notEqual(await sshLogin(env.ssh, 'alice', 'alice-pw', { localAddress: '127.0.0.20' }), 'ok');
  const ssh = await dial(env.ssh, { localAddress: '127.0.0.20' });
  assert.equal(await waitClosed(ssh), '', 'closed before the SSH identification is sent');
  assert.equal(await ftpBanner(env, '127.0.0.20'), '', 'closed before the FTP banner');
  assert.match(await ftpBanner(env, '127.0.0.21'), /^220 /);
  assert.equal(await sshLogin(env.ssh, 'alice', 'alice-pw', { localAddress: '127.0.0.21' }), 'ok');
  const dav = await httpGet(env.dav, '/', { localAddress: '127.0.0.20', headers: { Authorization: basic('alice', 'alice-pw') } });
  assert.ok(dav.status !== 401 && dav.status !== 403, `WebDAV is not named: ${dav.status}`);
  const http = await httpGet(env.http, '/healthz', { localAddress: '127.0.0.20' });
  assert.equal(http.status, 200, 'HTTP is not named');
  // the same entry for HTTP too: 403 before any route
  assert.equal((await api(env, 'PUT', `/api/v2/iplists/2/${encodeURIComponent('127.0.0.20/32')}`, tk, { mode: 2, protocols: 11 })).status, 200);
  assert.equal((await httpGet(env.http, '/healthz', { localAddress: '127.0.0.20' })).status, 403);
  assert.ok((await httpGet(env.dav, '/', { localAddress: '127.0.0.20', headers: { Authorization: basic('alice', 'alice-pw') } })).status !== 403);

  // allow list: on at runtime needs allowlist_status; checked in its own server below
});

test('allowlist_status 1: only listed networks connect, per protocol', async (t) => {
  const env = await startPerimeterApp((c) => { c.common.allowlist_status = 1; });
  t.after(() => env.close());
  await env.addUser('alice', 'alice-pw');
  // 127.0.0.1 may use everything (the admin API below needs it), 127.0.0.30 SSH only
  await env.app.ctx.provider.backend.perimeter.addIpListEntry({ ipornet: '127.0.0.1/32', type: 1, mode: 1, protocols: 0, created_at: 0, updated_at: 0 });
  await env.app.ctx.provider.backend.perimeter.addIpListEntry({ ipornet: '127.0.0.30/32', type: 1, mode: 1, protocols: 1, created_at: 0, updated_at: 0 });
  await env.app.ctx.perimeter.reloadIpLists();
  assert.equal(await sshLogin(env.ssh, 'alice', 'alice-pw', { localAddress: '127.0.0.30' }), 'ok');
  assert.equal(await ftpBanner(env, '127.0.0.30'), '');
  assert.notEqual(await sshLogin(env.ssh, 'alice', 'alice-pw', { localAddress: '127.0.0.31' }), 'ok');
  assert.equal((await httpGet(env.http, '/healthz', { localAddress: '127.0.0.31' })).status, 403);
  assert.equal((await httpGet(env.http, '/healthz')).status, 200);
  assert.match(await ftpBanner(env, '127.0.0.1'), /^220 /);
});
