import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startServer, type TestServer } from './support';

let s: TestServer;
let token: string;
before(async () => {
  s = await startServer();
  token = await s.token();
});
after(async () => { await s.close(); });

type Json = Record<string, unknown>;
const userBody = (username: string, extra: Json = {}) => ({
  status: 1, username, password: 'pw-123', home_dir: join(s.dir, 'data', username), permissions: { '/': ['*'] }, ...extra,
});

/** ids and bookkeeping timestamps are assigned by the store; everything else must survive a round trip */
function normalize(dump: Json): Json {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') {
      const out: Json = {};
      for (const [k, x] of Object.entries(v as Json)) if (!['id', 'created_at', 'updated_at'].includes(k)) out[k] = strip(x);
      return out;
    }
    return v;
  };
  return strip(dump) as Json;
}

async function dump(): Promise<Json> {
  const r = await s.call('GET', '/api/v2/dumpdata?output-data=1', { token });
  assert.equal(r.status, 200, r.text);
  return r.json as Json;
}

test('folders CRUD', async () => {
  const c = await s.call('POST', '/api/v2/folders', { token, body: { name: 'shared', mapped_path: join(s.dir, 'shared'), description: 'd' } });
  assert.equal(c.status, 201, c.text);
  assert.equal((await s.call('POST', '/api/v2/folders', { token, body: { name: 'shared', mapped_path: join(s.dir, 'shared') } })).status, 409);
  assert.equal((await s.call('POST', '/api/v2/folders', { token, body: { name: 'rel', mapped_path: 'relative' } })).status, 400);
  assert.equal(((await s.call('GET', '/api/v2/folders/shared', { token })).json as Json)['description'], 'd');
  assert.equal((await s.call('PUT', '/api/v2/folders/shared', { token, body: { name: 'shared', mapped_path: join(s.dir, 'shared'), description: 'e' } })).status, 200);
  assert.equal(((await s.call('GET', '/api/v2/folders', { token })).json as Json[]).length, 1);
  assert.equal((await s.call('GET', '/api/v2/folders/none', { token })).status, 404);
});

test('dump, delete everything, load: identical dump', async () => {
  for (const n of ['d1', 'd2']) assert.equal((await s.call('POST', '/api/v2/users', { token, body: userBody(n, { quota_size: 1000, description: `user ${n}` }) })).status, 201);
  assert.equal((await s.call('POST', '/api/v2/admins', { token, body: { status: 1, username: 'ops', password: 'ops-pw', permissions: ['view_users'] } })).status, 201);
  const before = await dump();
  assert.equal(before['version'], 17);
  for (const n of ['d1', 'd2']) assert.equal((await s.call('DELETE', `/api/v2/users/${n}`, { token })).status, 200);
  assert.equal((await s.call('DELETE', '/api/v2/admins/ops', { token })).status, 200);
  assert.equal((await s.call('DELETE', '/api/v2/folders/shared', { token })).status, 200);
  assert.equal(((await dump())['users'] as unknown[]).length, 0);
  const load = await s.call('POST', '/api/v2/loaddata', { token, body: before });
  assert.equal(load.status, 200, load.text);
  assert.deepEqual(normalize(await dump()), normalize(before));
  // restored credentials work
  await s.token('ops', 'ops-pw');
});

test('loaddata: invalid dump is refused whole; mode 2 disconnects restored users; bad params', async () => {
  const before = await dump();
  const bad = { ...before, users: [userBody('fresh'), { username: 'broken', status: 1, home_dir: 'relative', permissions: {} }] };
  const r = await s.call('POST', '/api/v2/loaddata', { token, body: bad });
  assert.equal(r.status, 400, r.text);
  assert.equal((await s.call('GET', '/api/v2/users/fresh', { token })).status, 404);
  assert.equal((await s.call('POST', '/api/v2/loaddata?mode=7', { token, body: before })).status, 400);
  assert.equal((await s.call('POST', '/api/v2/loaddata', { token, raw: '{"users": [' })).status, 400);

  const user = await s.ctx.provider.getUser('d1');
  assert.ok(user);
  let disconnected = 0;
  const ops = s.ctx.connections.add({
    protocol: 'FTP', user, remoteAddr: '127.0.0.1:1', localAddr: '127.0.0.1:2',
    session: { disconnect: () => { disconnected++; void s.ctx.connections.remove(ops.id); } },
  });
  assert.equal((await s.call('POST', '/api/v2/loaddata?mode=1', { token, body: before })).status, 200);
  assert.equal(disconnected, 0);
  assert.equal((await s.call('POST', '/api/v2/loaddata?mode=2', { token, body: before })).status, 200);
  assert.equal(disconnected, 1);
});

test('loaddata accepts bodies over 1 MiB, up to 10 MiB', async () => {
  const before = await dump();
  const big = { ...before, padding: 'x'.repeat(2 * 1024 * 1024) };
  const r = await s.call('POST', '/api/v2/loaddata', { token, body: big });
  assert.equal(r.status, 200, r.text);
  const huge = { ...before, padding: 'x'.repeat(11 * 1024 * 1024) };
  assert.equal((await s.call('POST', '/api/v2/loaddata', { token, body: huge })).status, 413);
});

test('dumpdata to a file inside backups_path; traversal refused; loaddata from file', async () => {
  const w = await s.call('GET', '/api/v2/dumpdata?output-file=backup.json&indent=1', { token });
  assert.equal(w.status, 200, w.text);
  const file = join(s.dir, 'backups', 'backup.json');
  const saved = JSON.parse(await readFile(file, 'utf8')) as Json;
  assert.equal(saved['version'], 17);
  assert.equal((await stat(file)).mode & 0o077, 0);
  for (const bad of ['../evil.json', '%2Fetc%2Fpasswd', '..', 'a%2F..%2F..%2Fb.json', 'sub%5Cx.json']) {
    const r = await s.call('GET', `/api/v2/dumpdata?output-file=${bad}`, { token });
    assert.equal(r.status, 400, `${bad}: ${r.text}`);
  }
  await assert.rejects(stat(join(s.dir, 'evil.json')));
  assert.equal((await s.call('GET', '/api/v2/dumpdata', { token })).status, 400);
  assert.equal((await s.call('GET', '/api/v2/loaddata?input-file=backup.json', { token })).status, 200);
  assert.equal((await s.call('GET', '/api/v2/loaddata?input-file=..%2Fsftpgo.db', { token })).status, 400);
  assert.equal((await s.call('GET', '/api/v2/loaddata?input-file=missing.json', { token })).status, 404);
});

test('quota scan walks the home dir; usage and transfer-usage updates', async () => {
  assert.equal((await s.call('POST', '/api/v2/users', { token, body: userBody('q1') })).status, 201);
  const home = join(s.dir, 'data', 'q1');
  await mkdir(join(home, 'sub'), { recursive: true });
  await writeFile(join(home, 'a.bin'), Buffer.alloc(100));
  await writeFile(join(home, 'sub', 'b.bin'), Buffer.alloc(23));
  const r = await s.call('POST', '/api/v2/quotas/users/q1/scan', { token });
  assert.equal(r.status, 202, r.text);
  await s.svc.scans.whenIdle();
  assert.deepEqual((await s.call('GET', '/api/v2/quotas/users/scans', { token })).json, []);
  let u = (await s.call('GET', '/api/v2/users/q1', { token })).json as Json;
  assert.equal(u['used_quota_size'], 123);
  assert.equal(u['used_quota_files'], 2);
  assert.equal((await s.call('POST', '/api/v2/quotas/users/nobody/scan', { token })).status, 404);

  assert.equal((await s.call('PUT', '/api/v2/quotas/users/q1/usage?mode=add', { token, body: { used_quota_size: 7, used_quota_files: 1 } })).status, 200);
  u = (await s.call('GET', '/api/v2/users/q1', { token })).json as Json;
  assert.equal(u['used_quota_size'], 130);
  assert.equal(u['used_quota_files'], 3);
  assert.equal((await s.call('PUT', '/api/v2/quotas/users/q1/usage', { token, body: { used_quota_size: 5, used_quota_files: 1 } })).status, 200);
  u = (await s.call('GET', '/api/v2/users/q1', { token })).json as Json;
  assert.equal(u['used_quota_size'], 5);
  assert.equal((await s.call('PUT', '/api/v2/quotas/users/q1/usage', { token, body: { used_quota_size: -1 } })).status, 400);
  assert.equal((await s.call('PUT', '/api/v2/quotas/users/q1/usage', { token, body: { used_quota_size: '5' } })).status, 400);
  assert.equal((await s.call('PUT', '/api/v2/quotas/users/q1/usage?mode=sideways', { token, body: {} })).status, 400);
  assert.equal((await s.call('PUT', '/api/v2/quotas/users/q1/usage', { token, body: { extra: 1 } })).status, 400);
  assert.equal((await s.call('PUT', '/api/v2/quotas/users/nobody/usage', { token, body: { used_quota_size: 1 } })).status, 404);

  const t = await s.call('PUT', '/api/v2/quotas/users/q1/transfer-usage', { token, body: { used_upload_data_transfer: 1000, used_download_data_transfer: 2000 } });
  assert.equal(t.status, 200, t.text);
  u = (await s.call('GET', '/api/v2/users/q1', { token })).json as Json;
  assert.equal(u['used_upload_data_transfer'], 1000);
  assert.equal(u['used_download_data_transfer'], 2000);

  const fdir = join(s.dir, 'fq');
  await mkdir(fdir, { recursive: true });
  await writeFile(join(fdir, 'x'), Buffer.alloc(9));
  assert.equal((await s.call('POST', '/api/v2/folders', { token, body: { name: 'fq', mapped_path: fdir } })).status, 201);
  assert.equal((await s.call('POST', '/api/v2/quotas/folders/fq/scan', { token })).status, 202);
  await s.svc.scans.whenIdle();
  const f = (await s.call('GET', '/api/v2/folders/fq', { token })).json as Json;
  assert.equal(f['used_quota_size'], 9);
  assert.equal(f['used_quota_files'], 1);
  assert.equal((await s.call('PUT', '/api/v2/quotas/folders/fq/usage?mode=reset', { token, body: { used_quota_size: 0, used_quota_files: 0 } })).status, 200);
  assert.deepEqual((await s.call('GET', '/api/v2/quotas/folders/scans', { token })).json, []);
});

test('connections list and close', async () => {
  const user = await s.ctx.provider.getUser('q1');
  assert.ok(user);
  const reasons: string[] = [];
  const ops = s.ctx.connections.add({
    protocol: 'SFTP', user, remoteAddr: '127.0.0.1:40000', localAddr: '127.0.0.1:2022', clientVersion: 'SSH-2.0-OpenSSH_9.6',
    session: { disconnect: (why) => { reasons.push(why); void s.ctx.connections.remove(ops.id); } },
  });
  const l = await s.call('GET', '/api/v2/connections', { token });
  assert.equal(l.status, 200);
  const conns = l.json as Json[];
  assert.equal(conns.length, 1);
  const c = conns[0];
  assert.equal(c['username'], 'q1');
  assert.equal(c['connection_id'], ops.id);
  assert.equal(c['protocol'], 'SFTP');
  assert.equal(c['client_version'], 'SSH-2.0-OpenSSH_9.6');
  assert.equal(c['remote_address'], '127.0.0.1:40000');
  for (const k of ['connection_time', 'last_activity', 'command', 'active_transfers']) assert.ok(k in c, k);
  assert.equal((await s.call('DELETE', '/api/v2/connections/unknown-id', { token })).status, 404);
  assert.equal((await s.call('DELETE', `/api/v2/connections/${encodeURIComponent(ops.id)}`, { token })).status, 200);
  assert.equal(reasons.length, 1);
  assert.deepEqual((await s.call('GET', '/api/v2/connections', { token })).json, []);
});

test('status reports services and the data provider', async () => {
  const r = await s.call('GET', '/api/v2/status', { token });
  assert.equal(r.status, 200);
  const j = r.json as { data_provider: Json; ssh: Json };
  assert.equal(j.data_provider['is_active'], true);
  assert.equal(j.data_provider['driver'], 'sqlite');
  assert.equal(j.ssh['is_active'], false);
});
