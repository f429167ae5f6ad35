/** external_auth_hook: program and HTTP, SFTPGo's variables/body, user creation, aliases, every bad answer refused and logged without the password. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { HookError } from '../../../src/hooks/types';
import { FsError } from '../../../src/common/errors';
import { allLogText, hookServer, json, makeHooks, nodeScript, shScript } from './support';

const SECRET = 'pa$$ w0rd "quoted"';

function userJson(username: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { status: 1, username, home_dir: `/tmp/hooks-home/${username}`, permissions: { '/': ['*'] }, ...extra };
}

test('program: receives SFTPGo variables, the returned user is created and then updated keeping server-owned fields', async (t) => {
  const f = await makeHooks(t, (c, dir) => {
    const capture = path.join(dir, 'env.json');
    c.data_provider.external_auth_hook = nodeScript(dir, 'auth.js', `
      const fs = require('fs');
      fs.writeFileSync(${JSON.stringify(capture)}, JSON.stringify(process.env));
      process.stdout.write(JSON.stringify(${JSON.stringify(userJson('alice', { quota_files: 7 }))}));`);
  });
  const user = await f.hooks.externalAuth({ username: 'alice', method: 'password', ip: '10.1.2.3', protocol: 'SSH', password: SECRET });
  assert.equal(user.username, 'alice');
  assert.equal(user.quota_files, 7);
  assert.ok(user.password && user.password !== SECRET, 'stored hashed');
  const env = JSON.parse(readFileSync(path.join(f.dir, 'env.json'), 'utf8')) as Record<string, string>;
  assert.equal(env.SFTPGO_AUTHD_USERNAME, 'alice');
  assert.equal(env.SFTPGO_AUTHD_PASSWORD, SECRET);
  assert.equal(env.SFTPGO_AUTHD_IP, '10.1.2.3');
  assert.equal(env.SFTPGO_AUTHD_PROTOCOL, 'SSH');
  assert.equal(env.SFTPGO_AUTHD_USER, '', 'no stored user yet');
  assert.equal(env.SFTPGO_AUTHD_PUBLIC_KEY, '');
  assert.equal(env.SFTPGO_AUTHD_KEYBOARD_INTERACTIVE, '');
  assert.equal(env.SFTPGO_AUTHD_TLS_CERT, '');
  // second login: the stored user is passed, quota counters survive the update
  await f.provider.updateUserQuota('alice', 1234, 3);
  const again = await f.hooks.externalAuth({ username: 'alice', method: 'password', ip: '10.1.2.3', protocol: 'FTP', password: SECRET });
  assert.equal(again.used_quota_size, 1234);
  const env2 = JSON.parse(readFileSync(path.join(f.dir, 'env.json'), 'utf8')) as Record<string, string>;
  assert.equal((JSON.parse(env2.SFTPGO_AUTHD_USER ?? '{}') as { username: string }).username, 'alice');
  assert.ok(!allLogText(f.logger).includes(SECRET), 'the password never reaches a log line');
});

test('program: a public key login sends the key as an authorized_keys line and the key is added to the user', async (t) => {
  const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 7)]);
  const f = await makeHooks(t, (c, dir) => {
    c.data_provider.external_auth_hook = nodeScript(dir, 'auth.js', `
      if (process.env.SFTPGO_AUTHD_PUBLIC_KEY !== 'ssh-ed25519 ${blob.toString('base64')}\\n') process.exit(1);
      process.stdout.write(JSON.stringify(${JSON.stringify(userJson('bob'))}));`);
  });
  const user = await f.hooks.externalAuth({ username: 'bob', method: 'publickey', ip: '::1', protocol: 'SSH', publicKey: blob });
  assert.deepEqual(user.public_keys, [`ssh-ed25519 ${blob.toString('base64')}`]);
});

test('a returned user with a different username logs in as that account', async (t) => {
  const f = await makeHooks(t, (c, dir) => {
    c.data_provider.external_auth_hook = shScript(dir, 'alias.sh', `echo '${JSON.stringify(userJson('shared'))}'`);
  });
  const a = await f.hooks.externalAuth({ username: 'alias1', method: 'password', ip: '1.1.1.1', protocol: 'SSH', password: 'x1' });
  const b = await f.hooks.externalAuth({ username: 'alias2', method: 'password', ip: '1.1.1.1', protocol: 'SSH', password: 'x2' });
  assert.equal(a.username, 'shared');
  assert.equal(b.username, 'shared');
  assert.equal(b.id, a.id);
  assert.equal(await f.provider.getUser('alias1'), undefined);
});

test('bad program answers are refusals naming the hook: empty username, broken JSON, non-zero exit, timeout, unknown user with empty answer', async (t) => {
  const cases: { name: string; body: string; failure: string; timeout?: number }[] = [
    { name: 'empty-username', body: `echo '{"username":"","status":1}'`, failure: 'bad-response' },
    { name: 'broken-json', body: `echo '{"username": "x",'`, failure: 'bad-json' },
    { name: 'not-an-object', body: `echo '[1,2]'`, failure: 'bad-json' },
    { name: 'exit-1', body: `echo '${JSON.stringify(userJson('x'))}'; exit 1`, failure: 'exit' },
    { name: 'timeout', body: 'exec /bin/sleep 60', failure: 'timeout', timeout: 1 },
  ];
  for (const k of cases) {
    const f = await makeHooks(t, (c, dir) => {
      c.data_provider.external_auth_hook = shScript(dir, `${k.name}.sh`, k.body);
      if (k.timeout) c.command.timeout = k.timeout;
    });
    const err = await f.hooks.externalAuth({ username: 'x', method: 'password', ip: '1.1.1.1', protocol: 'SSH', password: SECRET })
      .then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof HookError, `${k.name}: ${String(err)}`);
    assert.equal(err.failure, k.failure, k.name);
    assert.match(err.message, /external_auth_hook/);
    assert.ok(!err.message.includes(SECRET));
    assert.equal(await f.provider.getUser('x'), undefined, `${k.name}: nothing written`);
  }
  const f = await makeHooks(t, (c, dir) => { c.data_provider.external_auth_hook = shScript(dir, 'empty.sh', 'exit 0'); });
  const err = await f.hooks.externalAuth({ username: 'ghost', method: 'password', ip: '1.1.1.1', protocol: 'SSH', password: 'p' })
    .then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof FsError && err.kind === 'NotFound');
});

test('an invalid user from the hook is refused by validation, nothing stored', async (t) => {
  const f = await makeHooks(t, (c, dir) => {
    c.data_provider.external_auth_hook = shScript(dir, 'bad.sh', `echo '{"username":"v","status":1,"home_dir":"relative/path","permissions":{"/":["*"]}}'`);
  });
  await assert.rejects(f.hooks.externalAuth({ username: 'v', method: 'password', ip: '1.1.1.1', protocol: 'SSH', password: 'p' }));
  assert.equal(await f.provider.getUser('v'), undefined);
});

test('empty answer for a stored user: accepted unchanged; a new password the hook accepted replaces the hash', async (t) => {
  const f = await makeHooks(t, (c, dir) => { c.data_provider.external_auth_hook = shScript(dir, 'empty.sh', 'printf "\\n"'); });
  await f.provider.addUser({ ...userJson('carol'), password: 'old-password' });
  const before = await f.provider.getUser('carol');
  const same = await f.hooks.externalAuth({ username: 'carol', method: 'password', ip: '1.1.1.1', protocol: 'SSH', password: 'old-password' });
  assert.equal(same.password, before?.password);
  const changed = await f.hooks.externalAuth({ username: 'carol', method: 'password', ip: '1.1.1.1', protocol: 'SSH', password: 'new-password' });
  assert.notEqual(changed.password, before?.password);
  await f.provider.checkUserAndPass('carol', 'new-password', { ip: '1.1.1.1', protocol: 'SSH' });
});

test('filters.hooks.external_auth_disabled and external_auth_cache_time skip the hook for a stored user', async (t) => {
  const f = await makeHooks(t, (c, dir) => { c.data_provider.external_auth_hook = shScript(dir, 'deny.sh', 'exit 1'); });
  await f.provider.addUser({ ...userJson('dis'), password: 'p', filters: { hooks: { external_auth_disabled: true } } });
  assert.equal((await f.hooks.externalAuth({ username: 'dis', method: 'password', ip: '1.1.1.1', protocol: 'SSH', password: 'p' })).username, 'dis');
  await f.provider.addUser({ ...userJson('cached'), password: 'p', filters: { external_auth_cache_time: 120 } });
  await assert.rejects(f.hooks.externalAuth({ username: 'cached', method: 'password', ip: '1.1.1.1', protocol: 'SSH', password: 'p' }), HookError,
    'never logged in: the hook decides');
  await f.provider.backend.updateLastLogin('cached', Date.now());
  assert.equal((await f.hooks.externalAuth({ username: 'cached', method: 'password', ip: '1.1.1.1', protocol: 'SSH', password: 'p' })).username, 'cached');
});

test('external_auth_scope selects the login methods', async (t) => {
  const f = await makeHooks(t, (c, dir) => {
    c.data_provider.external_auth_hook = shScript(dir, 'a.sh', 'exit 0');
    c.data_provider.external_auth_scope = 2 | 8;
  });
  assert.equal(f.hooks.externalAuthApplies('password'), false);
  assert.equal(f.hooks.externalAuthApplies('publickey'), true);
  assert.equal(f.hooks.externalAuthApplies('keyboard-interactive'), false);
  assert.equal(f.hooks.externalAuthApplies('TLSCertificate'), true);
  assert.equal(f.hooks.externalAuthApplies('TLSCertificate+password'), true);
});

test('HTTP: POST body as SFTPGo, 200 + user creates it; 500, broken JSON and empty username are refusals', async (t) => {
  const srv = await hookServer(t, (_req, res) => json(res, 200, userJson('dave', { password: 'from-hook' })));
  const f = await makeHooks(t, (c) => { c.data_provider.external_auth_hook = `${srv.url}/auth`; });
  const user = await f.hooks.externalAuth({ username: 'dave', method: 'keyboard-interactive', ip: '10.0.0.9', protocol: 'SSH' });
  assert.equal(user.username, 'dave');
  const body = JSON.parse(srv.requests[0]?.body ?? '{}') as Record<string, unknown>;
  assert.deepEqual(body, { username: 'dave', ip: '10.0.0.9', password: '', public_key: '', protocol: 'SSH', keyboard_interactive: '1', tls_cert: '' });
  assert.equal(srv.requests[0]?.headers['content-type'], 'application/json');
  // stored user now exists: it is sent along
  await f.hooks.externalAuth({ username: 'dave', method: 'password', ip: '10.0.0.9', protocol: 'DAV', password: SECRET });
  const body2 = JSON.parse(srv.requests[1]?.body ?? '{}') as { user?: { username: string }; password: string };
  assert.equal(body2.user?.username, 'dave');
  assert.equal(body2.password, SECRET);
  for (const [status, payload, failure] of [[500, 'oops', 'http-status'], [200, '{"username"', 'bad-json'], [200, { username: '' }, 'bad-response']] as const) {
    srv.setHandler((_req, res) => json(res, status, payload));
    const err = await f.hooks.externalAuth({ username: 'dave', method: 'password', ip: '1.1.1.1', protocol: 'SSH', password: SECRET })
      .then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof HookError && err.failure === failure, `${status} ${JSON.stringify(payload)}: ${String(err)}`);
    assert.equal(srv.requests.at(-1)?.method, 'POST');
  }
  assert.equal(srv.requests.length, 5, 'login hooks are not retried');
  assert.ok(!allLogText(f.logger).includes(SECRET));
});

test('a slow hook does not hold other logins', async (t) => {
  let releaseSlow: (() => void) | undefined;
  const srv = await hookServer(t, (req, res) => {
    const body = JSON.parse(req.body) as { username: string };
    if (body.username === 'slow') {
      releaseSlow = () => json(res, 200, userJson('slow'));
      return;
    }
    json(res, 200, userJson(body.username));
  });
  const f = await makeHooks(t, (c) => { c.data_provider.external_auth_hook = srv.url; });
  const slow = f.hooks.externalAuth({ username: 'slow', method: 'password', ip: '1.1.1.1', protocol: 'SSH', password: 'p' });
  for (let i = 0; i < 5; i++) {
    const u = await f.hooks.externalAuth({ username: `fast${i}`, method: 'password', ip: '1.1.1.1', protocol: 'SSH', password: 'p' });
    assert.equal(u.username, `fast${i}`);
  }
  assert.ok(releaseSlow, 'the slow request reached the server and is still pending');
  releaseSlow();
  assert.equal((await slow).username, 'slow');
});

test('the same answer for an unchanged user is not written again; a new answer or an admin edit is', async (t) => {
  let description = 'v1';
  const srv = await hookServer(t, (_req, res) => json(res, 200, userJson('memo', { description })));
  const f = await makeHooks(t, (c) => { c.data_provider.external_auth_hook = srv.url; });
  const login = () => f.hooks.externalAuth({ username: 'memo', method: 'password', ip: '1.1.1.1', protocol: 'SSH', password: 'pw-memo' });
  await login(); // created
  const first = await login(); // updated once (stored hash kept)
  let writes = 0;
  const update = f.provider.updateUser.bind(f.provider);
  f.provider.updateUser = async (...args) => { writes++; return update(...args); };
  const second = await login();
  assert.equal(writes, 0, 'same answer, same stored user: no write');
  assert.equal(second.updated_at, first.updated_at);
  description = 'v2';
  assert.equal((await login()).description, 'v2');
  assert.equal(writes, 1);
  await update('memo', { ...(await f.provider.getUser('memo')), description: 'edited by an admin' });
  assert.equal((await login()).description, 'v2', 'the hook answer wins again after an admin edit');
  assert.equal(writes, 2);
  await f.provider.checkUserAndPass('memo', 'pw-memo', { ip: '1.1.1.1', protocol: 'SSH' });
});

test('a hook answering with the stored user unchanged writes nothing (no updated_at bump, same hash), first login after start included', async (t) => {
  const answer = userJson('same', { description: 'kept', quota_files: 3, filters: { denied_protocols: ['FTP'] }, public_keys: [] });
  const srv = await hookServer(t, (req, res) => json(res, 200, req.url.pathname === '/pre' ? answer : { ...answer, password: 'pw-same' }));
  for (const [kind, setup] of [
    ['external auth', (c: Parameters<Parameters<typeof makeHooks>[1]>[0]) => { c.data_provider.external_auth_hook = `${srv.url}/ext`; }],
    ['pre-login', (c: Parameters<Parameters<typeof makeHooks>[1]>[0]) => { c.data_provider.pre_login_hook = `${srv.url}/pre`; }],
  ] as const) {
    const f = await makeHooks(t, setup);
    // stored beforehand (as by an earlier process), so no hook answer is remembered yet
    await f.provider.addUser({ ...answer, password: 'pw-same' });
    const before = await f.provider.getUser('same');
    assert.ok(before);
    // the clock moves past the stored stamp, so a rewrite would show in updated_at
    while (Date.now() <= (before.updated_at ?? 0)) await new Promise((r) => setImmediate(r));
    const login = () => kind === 'pre-login' ? f.hooks.preLogin('same', 'password', '1.1.1.1', 'SSH')
      : f.hooks.externalAuth({ username: 'same', method: 'password', ip: '1.1.1.1', protocol: 'SSH', password: 'pw-same' });
    const after = await login();
    assert.equal(after.updated_at, before.updated_at, `${kind}: not rewritten`);
    assert.equal(after.password, before.password, `${kind}: the stored hash is kept`);
    // a real change is still written
    answer.description = `changed by ${kind}`;
    const changed = await login();
    assert.equal(changed.description, `changed by ${kind}`);
    assert.ok((changed.updated_at ?? 0) > (before.updated_at ?? 0));
    answer.description = 'kept';
  }
});
