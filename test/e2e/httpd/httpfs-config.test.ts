/**
 * httpconfig through the REST API and dumps: validated on save with 400s
 * naming the field (as SFTPGo validates HTTPFsConfig), the password and API
 * key sealed with the kms, hidden on output, kept sealed in dumps and
 * accepted back sealed by loaddata; a quota scan of a home on HTTP storage
 * walks the service. (A subpath on an HTTP folder: the
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

test('REST: a quota scan of a home on HTTP storage counts the files the service holds', async () => {
  const svc = await startHttpFsServer({ apiKey: 'scan-key' });
  try {
    await fsp.mkdir(path.join(svc.root, 'sub'));
    await fsp.writeFile(path.join(svc.root, 'a.bin'), Buffer.alloc(1000));
    await fsp.writeFile(path.join(svc.root, 'sub', 'b.bin'), Buffer.alloc(234));
    const r = await srv.call('POST', '/api/v2/users', { token, body: user('scanned', httpconfig(svc, { api_key: { status: 'Plain', payload: 'scan-key' } })) });
    assert.equal(r.status, 201, r.text);
    const scan = await srv.call('POST', '/api/v2/quotas/users/scanned/scan', { token });
    assert.equal(scan.status, 202, scan.text);
    await srv.svc.scans.whenIdle();
    const u = (await srv.call('GET', '/api/v2/users/scanned', { token })).json as { used_quota_size: number; used_quota_files: number };
    assert.deepEqual([u.used_quota_size, u.used_quota_files], [1234, 2]);
    assert.ok(svc.requests.some((q) => q.startsWith('GET readdir /sub')), svc.requests.join('\n'));
  } finally {
    await svc.stop();
  }
});
