/** pre_login_hook, check_password_hook and post_login_hook with programs and HTTP endpoints. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { HookError } from '../../../src/hooks/types';
import { FsError } from '../../../src/common/errors';
import { allLogText, hookServer, json, makeHooks, nodeScript, shScript } from './support';

const SECRET = 'never-log-me';

function userJson(username: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { status: 1, username, password: 'hook-pw', home_dir: `/tmp/hooks-home/${username}`, permissions: { '/': ['*'] }, ...extra };
}

test('pre-login program: new user JSON has id 0, the answer creates the user; empty stdout keeps a stored one', async (t) => {
  const f = await makeHooks(t, (c, dir) => {
    const capture = path.join(dir, 'env.json');
    c.data_provider.pre_login_hook = nodeScript(dir, 'pre.js', `
      require('fs').writeFileSync(${JSON.stringify(capture)}, JSON.stringify(process.env));
      const u = JSON.parse(process.env.SFTPGO_LOGIND_USER);
      if (u.id === 0) process.stdout.write(JSON.stringify(${JSON.stringify(userJson('erin', { description: 'made by hook' }))}));`);
  });
  const created = await f.hooks.preLogin('erin', 'password', '192.0.2.1', 'FTP');
  assert.equal(created.description, 'made by hook');
  const env = JSON.parse(readFileSync(path.join(f.dir, 'env.json'), 'utf8')) as Record<string, string>;
  assert.equal(env.SFTPGO_LOGIND_METHOD, 'password');
  assert.equal(env.SFTPGO_LOGIND_IP, '192.0.2.1');
  assert.equal(env.SFTPGO_LOGIND_PROTOCOL, 'FTP');
  assert.equal((JSON.parse(env.SFTPGO_LOGIND_USER ?? '{}') as { username: string }).username, 'erin');
  assert.equal((JSON.parse(env.SFTPGO_LOGIND_USER ?? '{}') as { id: number }).id, 0);
  // the FTP USER case: method is empty, the stored user is passed with its id, no answer = no change
  const again = await f.hooks.preLogin('erin', '', '192.0.2.1', 'FTP');
  assert.equal(again.id, created.id);
  const env2 = JSON.parse(readFileSync(path.join(f.dir, 'env.json'), 'utf8')) as Record<string, string>;
  assert.equal(env2.SFTPGO_LOGIND_METHOD, '');
  assert.equal((JSON.parse(env2.SFTPGO_LOGIND_USER ?? '{}') as { id: number }).id, created.id);
});

test('pre-login: unknown user with no answer, broken JSON, non-zero exit, empty username and HTTP 500 deny the login', async (t) => {
  const f = await makeHooks(t, (c, dir) => { c.data_provider.pre_login_hook = shScript(dir, 'none.sh', 'exit 0'); });
  await assert.rejects(f.hooks.preLogin('nobody', 'password', '1.1.1.1', 'SSH'), (e: unknown) => e instanceof FsError && e.kind === 'NotFound');
  for (const [name, body, failure] of [['broken', 'echo "{"', 'bad-json'], ['exit', 'exit 2', 'exit'], ['empty', `echo '{"username":""}'`, 'bad-response']]) {
    const g = await makeHooks(t, (c, dir) => { c.data_provider.pre_login_hook = shScript(dir, `${name}.sh`, body); });
    await assert.rejects(g.hooks.preLogin('x', 'password', '1.1.1.1', 'SSH'), (e: unknown) => e instanceof HookError && e.failure === failure && /pre_login_hook/.test(e.message));
  }
  const srv = await hookServer(t, (_req, res) => json(res, 500, 'boom'));
  const h = await makeHooks(t, (c) => { c.data_provider.pre_login_hook = `${srv.url}/pre?token=abc`; });
  await assert.rejects(h.hooks.preLogin('x', 'password', '1.1.1.1', 'SSH'), (e: unknown) => e instanceof HookError && e.failure === 'http-status');
});

test('pre-login HTTP: user JSON POSTed with login_method/ip/protocol; 204 keeps, 200 updates keeping quota and TOTP', async (t) => {
  const srv = await hookServer(t, (_req, res) => { res.writeHead(204); res.end(); });
  const f = await makeHooks(t, (c) => { c.data_provider.pre_login_hook = `${srv.url}/pre?token=abc`; });
  await f.provider.addUser({ ...userJson('frank'), filters: { totp_config: { enabled: true, config_name: 'Default', protocols: ['SSH'], secret: { status: 'Plain', payload: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' } } } });
  await f.provider.updateUserQuota('frank', 99, 1);
  const kept = await f.hooks.preLogin('frank', 'publickey', '198.51.100.7', 'SSH');
  assert.equal(kept.username, 'frank');
  const r = srv.requests[0];
  assert.equal(r?.method, 'POST');
  assert.equal(r?.url.pathname, '/pre');
  assert.deepEqual(Object.fromEntries(r?.url.searchParams ?? []), { token: 'abc', login_method: 'publickey', ip: '198.51.100.7', protocol: 'SSH' });
  assert.equal((JSON.parse(r?.body ?? '{}') as { username: string }).username, 'frank');
  srv.setHandler((_req, res) => json(res, 200, userJson('frank', { description: 'updated', filters: { totp_config: { enabled: false } } })));
  const updated = await f.hooks.preLogin('frank', 'password', '198.51.100.7', 'SSH');
  assert.equal(updated.description, 'updated');
  assert.equal(updated.used_quota_size, 99);
  assert.equal((updated.filters?.totp_config as { enabled?: boolean } | undefined)?.enabled, true, 'the hook cannot switch TOTP off');
});

test('pre-login: filters.hooks.pre_login_disabled skips the hook', async (t) => {
  const f = await makeHooks(t, (c, dir) => { c.data_provider.pre_login_hook = shScript(dir, 'deny.sh', 'exit 1'); });
  await f.provider.addUser({ ...userJson('gina'), filters: { hooks: { pre_login_disabled: true } } });
  assert.equal((await f.hooks.preLogin('gina', 'password', '1.1.1.1', 'SSH')).username, 'gina');
});

test('check-password program: status 1/2/0, scope per protocol, disabled per user, failures', async (t) => {
  const f = await makeHooks(t, (c, dir) => {
    c.data_provider.check_password_hook = nodeScript(dir, 'chk.js', `
      const p = process.env.SFTPGO_AUTHD_PASSWORD;
      if (process.env.SFTPGO_AUTHD_USERNAME !== 'hank' || process.env.SFTPGO_AUTHD_PROTOCOL !== 'FTP' || !process.env.SFTPGO_AUTHD_IP) process.exit(3);
      if (p === 'ok-${SECRET}') console.log(JSON.stringify({ status: 1 }));
      else if (p.endsWith('123456')) console.log(JSON.stringify({ status: 2, to_verify: p.slice(0, -6) }));
      else if (p === 'garbage') console.log('not json');
      else console.log(JSON.stringify({ status: 0 }));`);
    c.data_provider.check_password_scope = 2; // FTP only
  });
  const hank = await f.provider.addUser(userJson('hank'));
  assert.deepEqual(await f.hooks.checkPassword(hank, `ok-${SECRET}`, '1.1.1.1', 'FTP'), { status: 'ok' });
  assert.deepEqual(await f.hooks.checkPassword(hank, 'base123456', '1.1.1.1', 'FTP'), { status: 'partial', toVerify: 'base' });
  assert.deepEqual(await f.hooks.checkPassword(hank, 'wrong', '1.1.1.1', 'FTP'), { status: 'refused', code: 0 });
  await assert.rejects(f.hooks.checkPassword(hank, 'garbage', '1.1.1.1', 'FTP'), (e: unknown) => e instanceof HookError && e.failure === 'bad-json');
  assert.equal(await f.hooks.checkPassword(hank, 'whatever', '1.1.1.1', 'SSH'), undefined, 'SSH is out of scope');
  const off = await f.provider.addUser(userJson('ivan', { filters: { hooks: { check_password_disabled: true } } }));
  assert.equal(await f.hooks.checkPassword(off, 'x', '1.1.1.1', 'FTP'), undefined);
  assert.ok(!allLogText(f.logger).includes(SECRET));
});

test('check-password HTTP: POST {username,password,ip,protocol}; non-200 is an error', async (t) => {
  const srv = await hookServer(t, (req, res) => {
    const b = JSON.parse(req.body) as { password: string };
    json(res, b.password === 'good' ? 200 : 403, { status: 1 });
  });
  const f = await makeHooks(t, (c) => { c.data_provider.check_password_hook = srv.url; });
  const u = await f.provider.addUser(userJson('jack'));
  assert.deepEqual(await f.hooks.checkPassword(u, 'good', '203.0.113.5', 'DAV'), { status: 'ok' });
  assert.deepEqual(JSON.parse(srv.requests[0]?.body ?? '{}'), { username: 'jack', password: 'good', ip: '203.0.113.5', protocol: 'DAV' });
  await assert.rejects(f.hooks.checkPassword(u, 'bad', '203.0.113.5', 'DAV'), (e: unknown) => e instanceof HookError && e.failure === 'http-status');
});

test('post-login: program gets the user without its hash; HTTP gets query + body, retried on 5xx; scope filters', async (t) => {
  const got: string[] = [];
  let calls = 0;
  const srv = await hookServer(t, (req, res) => {
    calls++;
    if (calls === 1) { json(res, 503, 'try again'); return; }
    got.push(req.url.search);
    json(res, 200, '');
  });
  const f = await makeHooks(t, (c) => { c.data_provider.post_login_hook = `${srv.url}/post`; c.data_provider.post_login_scope = 2; c.http.retry_max = 2; });
  const user = await f.provider.addUser(userJson('kate'));
  f.hooks.postLogin({ username: 'kate', user, method: 'password', ip: '1.2.3.4', protocol: 'SSH', success: false });
  f.hooks.postLogin({ username: 'kate', user, method: 'publickey+password', ip: '1.2.3.4', protocol: 'SSH', success: true });
  await f.hooks.drain();
  assert.equal(calls, 2, 'failure skipped by scope 2; success retried once after 503');
  const q = new URLSearchParams(got[0]);
  assert.deepEqual(Object.fromEntries(q), { login_method: 'publickey+password', ip: '1.2.3.4', protocol: 'SSH', status: '1' });
  const body = JSON.parse(srv.requests[1]?.body ?? '{}') as Record<string, unknown>;
  assert.equal(body.username, 'kate');
  assert.equal(body.password, undefined, 'the hash is not sent');

  const g = await makeHooks(t, (c, dir) => {
    const capture = path.join(dir, 'post.json');
    c.data_provider.post_login_hook = nodeScript(dir, 'post.js', `require('fs').writeFileSync(${JSON.stringify(capture)}, JSON.stringify(process.env)); process.exit(1);`);
    c.data_provider.post_login_scope = 1;
  });
  g.hooks.postLogin({ username: 'ghost', method: 'password', ip: '5.6.7.8', protocol: 'FTP', success: false });
  await g.hooks.drain();
  const env = JSON.parse(readFileSync(path.join(g.dir, 'post.json'), 'utf8')) as Record<string, string>;
  assert.equal(env.SFTPGO_LOGIND_STATUS, '0');
  assert.equal(env.SFTPGO_LOGIND_METHOD, 'password');
  assert.equal(env.SFTPGO_LOGIND_PROTOCOL, 'FTP');
  assert.equal((JSON.parse(env.SFTPGO_LOGIND_USER ?? '{}') as { id: number; username: string }).username, 'ghost');
  assert.ok(g.logger.lines.some((l) => l.sender === 'post_login_hook' && l.level === 'warn' && /exited with status 1/.test(l.message)));
});
