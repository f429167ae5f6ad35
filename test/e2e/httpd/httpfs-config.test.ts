/**
 * httpconfig through the REST API and dumps: validated on save with 400s
 * naming the field (as SFTPGo validates HTTPFsConfig), the password and API
 * key sealed with the kms, hidden on output, kept sealed in dumps and
 * accepted back sealed by loaddata; a quota scan of a home on HTTP storage
 * takes the service's `dirsize` figures (one call, no walk), and walks a
 * service that answers 501 for it, with a log line. (A subpath on an HTTP folder: the
 * memory provider test in test/unit/dataprovider/validation.test.ts, this
 * sqlite provider refuses every subpath yet.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Secret } from '../../../src/dataprovider/models';
import { httpconfig, startHttpFsServer } from '../../support/httpfs-server';
import { startServer, type TestServer } from './support';

let srv: TestServer;
let token: string;
before(async () => {
  srv = await startServer();
  token = await srv.token();
});
after(async () => { await srv?.close(); });

const user = (name: string, httpconfig: Record<string, unknown>): Record<string, unknown> => ({
  username: name, password: 'pw-1234', status: 1, home_dir: `/srv/${name}`, permissions: { '/': ['*'] },
  filesystem: { provider: 6, httpconfig },
});

test('REST: httpconfig is validated on save, 400 naming the field', async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{}, /filesystem\.httpconfig\.endpoint: endpoint cannot be empty/],
    [{ endpoint: 'ftp://127.0.0.1/api/v1' }, /filesystem\.httpconfig\.endpoint: invalid endpoint schema/],
    [{ endpoint: 'http://unix?socket_path=relative.sock' }, /filesystem\.httpconfig\.endpoint: invalid unix domain socket path/],
    [{ endpoint: 'http://127.0.0.1:9/api', equality_check_mode: 3 }, /filesystem\.httpconfig\.equality_check_mode/],
    [{ endpoint: 'http://127.0.0.1:9/api', password: { status: 'Redacted' } }, /filesystem\.httpconfig\.password: cannot save a redacted secret/],
  ];
  for (const [cfg, re] of cases) {
    const r = await srv.call('POST', '/api/v2/users', { token, body: user('bad', cfg) });
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, re);
  }
  assert.equal((await srv.call('GET', '/api/v2/users/bad', { token })).status, 404);
});

test('REST: the password and API key are sealed, hidden on output, kept sealed in dumps and restored sealed', async () => {
  const r = await srv.call('POST', '/api/v2/users', { token, body: user('hu', {
    endpoint: 'http://unix?socket_path=/run/httpfs.sock&api_prefix=/api/v1', username: 'svc',
    password: { status: 'Plain', payload: 'svc-password' }, api_key: { status: 'Plain', payload: 'api-key-value' }, skip_tls_verify: true,
  }) });
  assert.equal(r.status, 201, r.text);
  assert.ok(!r.text.includes('svc-password') && !r.text.includes('api-key-value'));
  const stored = await srv.ctx.provider.getUser('hu');
  const cfg = stored?.filesystem?.httpconfig ?? {};
  assert.equal((cfg.password as Secret).status, 'Secretbox');
  assert.equal(await srv.ctx.kms.decrypt(cfg.api_key as Secret), 'api-key-value');
  const shown = await srv.call('GET', '/api/v2/users/hu', { token });
  const hc = (shown.json as { filesystem: { httpconfig: Record<string, Secret | string | boolean> } }).filesystem.httpconfig;
  assert.equal((hc.password as Secret).status, 'Secretbox');
  assert.equal((hc.password as Secret).key, undefined, 'no key: what leaves the server cannot be decrypted');
  assert.equal(hc.endpoint, 'http://unix?socket_path=/run/httpfs.sock&api_prefix=/api/v1');
  assert.equal(hc.skip_tls_verify, true);
  // an update sending the hidden secrets back keeps the stored ones
  const upd = await srv.call('PUT', '/api/v2/users/hu', { token, body: { ...(shown.json as Record<string, unknown>), password: '' } });
  assert.equal(upd.status, 200, upd.text);
  assert.equal(await srv.ctx.kms.decrypt((await srv.ctx.provider.getUser('hu'))?.filesystem?.httpconfig?.password as Secret), 'svc-password');
  const dump = await srv.call('GET', '/api/v2/dumpdata?output-data=1', { token });
  assert.equal(dump.status, 200);
  assert.ok(!dump.text.includes('svc-password') && !dump.text.includes('api-key-value'));
  const dumped = (dump.json as { users: { username: string; filesystem: { httpconfig: Record<string, Secret> } }[] }).users.find((u) => u.username === 'hu');
  assert.equal(dumped?.filesystem.httpconfig.api_key.status, 'Secretbox');
  assert.equal((await srv.call('DELETE', '/api/v2/users/hu', { token })).status, 200);
  const load = await srv.call('POST', '/api/v2/loaddata', { token, body: dump.json });
  assert.equal(load.status, 200, load.text);
  assert.equal(await srv.ctx.kms.decrypt((await srv.ctx.provider.getUser('hu'))?.filesystem?.httpconfig?.api_key as Secret), 'api-key-value');
  // a dump with an invalid httpconfig is refused as a whole
  const bad = structuredClone(dump.json) as { users: { filesystem: { httpconfig: Record<string, unknown> } }[] };
  bad.users[0].filesystem.httpconfig.endpoint = 'gopher://h';
  const refused = await srv.call('POST', '/api/v2/loaddata', { token, body: bad });
  assert.equal(refused.status, 400, refused.text);
  assert.match(refused.text, /httpconfig\.endpoint: invalid endpoint schema/);
});

/** Scans `username` through the REST API and returns [used_quota_size, used_quota_files]. */
async function scan(username: string): Promise<[number, number]> {
  const r = await srv.call('POST', `/api/v2/quotas/users/${username}/scan`, { token });
  assert.equal(r.status, 202, r.text);
  await srv.svc.scans.whenIdle();
  const u = (await srv.call('GET', `/api/v2/users/${username}`, { token })).json as { used_quota_size: number; used_quota_files: number };
  return [u.used_quota_size, u.used_quota_files];
}

test('REST: a quota scan of a home on HTTP storage takes the service\'s dirsize figures, one call and no walk', async () => {
  const svc = await startHttpFsServer({ apiKey: 'scan-key' });
  try {
    await fsp.mkdir(path.join(svc.root, 'sub'));
    await fsp.writeFile(path.join(svc.root, 'a.bin'), Buffer.alloc(1000));
    await fsp.writeFile(path.join(svc.root, 'sub', 'b.bin'), Buffer.alloc(234));
    const r = await srv.call('POST', '/api/v2/users', { token, body: user('scanned', httpconfig(svc, { api_key: { status: 'Plain', payload: 'scan-key' } })) });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(await scan('scanned'), [1234, 2]);
    assert.deepEqual(svc.requests, ['GET dirsize /']);
  } finally {
    await svc.stop();
  }
});

test('REST: a quota scan of a service without dirsize (501) walks it, with a log line; one that is down fails the scan', async () => {
  const svc = await startHttpFsServer({ answer: { dirsize: 501 } });
  const down = await startHttpFsServer({ answer: { dirsize: 503 } });
  try {
    await fsp.mkdir(path.join(svc.root, 'sub'));
    await fsp.writeFile(path.join(svc.root, 'a.bin'), Buffer.alloc(1000));
    await fsp.writeFile(path.join(svc.root, 'sub', 'b.bin'), Buffer.alloc(234));
    assert.equal((await srv.call('POST', '/api/v2/users', { token, body: user('walked', httpconfig(svc)) })).status, 201);
    assert.deepEqual(await scan('walked'), [1234, 2]);
    assert.deepEqual(svc.requests, ['GET dirsize /', 'GET readdir /', 'GET readdir /sub']);
    assert.ok(srv.logs.some((l) => /does not implement dirsize \(501\): quota scans walk/.test(l.message)), 'the backend says why');
    assert.ok(srv.logs.some((l) => /quota scan: httpfs .*response code 501.*walking it/.test(l.message)), 'the scan says it walks');
    await fsp.writeFile(path.join(down.root, 'c.bin'), Buffer.alloc(10));
    assert.equal((await srv.call('POST', '/api/v2/users', { token, body: user('unscanned', httpconfig(down)) })).status, 201);
    assert.deepEqual(await scan('unscanned'), [0, 0]);
    assert.deepEqual(down.requests, ['GET dirsize /'], 'a failing service is not walked');
    assert.ok(srv.logs.some((l) => /quota scan for user unscanned failed: .*response code 503/.test(l.message)));
  } finally {
    await svc.stop();
    await down.stop();
  }
});
