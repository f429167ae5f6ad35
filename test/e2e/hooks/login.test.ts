/**
 * external_auth_hook, pre_login_hook, check_password_hook and post_login_hook
 * through the login pipeline, driven by real clients: OpenSSH sftp (password
 * through sshpass, key, key+password), lftp, curl (WebDAV). Bad hooks refuse
 * the login with a log line naming the hook; a slow hook never holds the
 * other users' logins.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { hookServer, json, nodeScript, shScript, type Recorded } from '../../unit/hooks/support';
import { startHooksEnv } from './env';

const user = (dir: string, username: string, extra: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ status: 1, username, home_dir: join(dir, 'homes', username), permissions: { '/': ['*'] }, ...extra });

test('external auth program hook: users created on first login over SFTP (password and key), FTP and WebDAV; aliases share one account', { timeout: 180_000 }, async (t) => {
  let keyLine = '';
  const env = await startHooksEnv((c, dir) => {
    c.data_provider.external_auth_hook = nodeScript(dir, 'ext.js', `
      const name = process.env.SFTPGO_AUTHD_USERNAME;
      const pw = process.env.SFTPGO_AUTHD_PASSWORD;
      const key = process.env.SFTPGO_AUTHD_PUBLIC_KEY;
      const home = (u) => ${JSON.stringify(join(dir, 'homes'))} + '/' + u;
      if (name === 'broken') { process.stdout.write('{"username": "broken",'); process.exit(0); }
      if (name === 'failing') process.exit(1);
      if (name === 'nobody') { console.log(JSON.stringify({ username: '' })); process.exit(0); }
      const account = name.startsWith('alias') ? 'shared' : name;
      if (pw !== '' && pw !== 'secret-' + account) { console.log(JSON.stringify({ username: '' })); process.exit(0); }
      if (key !== '' && !key.startsWith(${JSON.stringify('ecdsa-sha2-nistp256')})) process.exit(1);
      console.log(JSON.stringify({ status: 1, username: account, home_dir: home(account), permissions: { '/': ['*'] } }));`);
  });
  t.after(() => env.stop());
  keyLine = env.key.publicKey;
  assert.ok(keyLine.startsWith('ecdsa-sha2-nistp256'));

  const r1 = await env.sftpPassword('eva', 'secret-eva', ['mkdir made-by-eva']);
  assert.equal(r1.status, 0, r1.stderr);
  assert.ok(existsSync(join(env.dir, 'homes', 'eva', 'made-by-eva')));
  const wrong = await env.sftpPassword('eva', 'not-her-password', ['pwd']);
  assert.notEqual(wrong.status, 0);

  const r2 = await env.sftpKey('kent', 'mkdir by-key');
  assert.equal(r2.status, 0, r2.stderr);
  const kent = await env.app.ctx.provider.getUser('kent');
  assert.ok(kent?.public_keys?.some((k) => keyLine.startsWith(k.split(' ').slice(0, 2).join(' '))), 'the offered key is stored');

  assert.equal((await env.lftp('fred', 'secret-fred', 'mkdir ftp-dir')).status, 0);
  assert.ok(existsSync(join(env.dir, 'homes', 'fred', 'ftp-dir')));
  assert.equal(await env.dav('wendy', 'secret-wendy', 'MKCOL', '/dav-dir'), 201);
  assert.equal(await env.dav('wendy', 'wrong', 'PROPFIND', '/'), 401);

  // two login names, one account (SFTPGo maps them deliberately)
  assert.equal((await env.sftpPassword('alias1', 'secret-shared', ['mkdir from-alias1'])).status, 0);
  assert.equal((await env.sftpPassword('alias2', 'secret-shared', ['mkdir from-alias2'])).status, 0);
  assert.ok(existsSync(join(env.dir, 'homes', 'shared', 'from-alias1')));
  assert.ok(existsSync(join(env.dir, 'homes', 'shared', 'from-alias2')));
  assert.equal(await env.app.ctx.provider.getUser('alias1'), undefined);

  for (const bad of ['broken', 'failing', 'nobody']) {
    const r = await env.sftpPassword(bad, `secret-${bad}`, ['pwd']);
    assert.notEqual(r.status, 0, bad);
    assert.equal(await env.app.ctx.provider.getUser(bad), undefined, `${bad}: nothing stored`);
  }
  const log = await env.logText();
  assert.match(log, /"sender":"external_auth_hook"[^\n]*invalid JSON/);
  assert.match(log, /"sender":"external_auth_hook"[^\n]*exited with status 1/);
  assert.match(log, /"sender":"external_auth_hook"[^\n]*empty username/);
  for (const secret of ['secret-eva', 'secret-fred', 'secret-wendy', 'secret-shared', 'not-her-password']) {
    assert.ok(!log.includes(secret), `${secret} never logged`);
  }
});

test('external auth HTTP hook: a slow answer for one user does not hold the others; HTTP 500 refuses', { timeout: 180_000 }, async (t) => {
  let release: (() => void) | undefined;
  let slowArrived: (() => void) | undefined;
  const arrived = new Promise<void>((r) => { slowArrived = r; });
  let dir = '';
  const srv = await hookServer(t, (req: Recorded, res: ServerResponse) => {
    const b = JSON.parse(req.body) as { username: string; password: string };
    if (b.username === 'down') { json(res, 500, 'boom'); return; }
    const answer = (): void => json(res, 200, user(dir, b.username));
    if (b.username === 'slow') { release = answer; slowArrived?.(); return; }
    answer();
  });
  const env = await startHooksEnv((c, d) => { dir = d; c.data_provider.external_auth_hook = `${srv.url}/auth`; });
  t.after(() => env.stop());
  const slow = env.sftpPassword('slow', 'pw-slow', ['mkdir slow-dir']);
  await arrived;
  for (const name of ['quick1', 'quick2', 'quick3']) {
    const r = await env.sftpPassword(name, `pw-${name}`, ['pwd']);
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
  }
  assert.ok(release, 'the slow hook call is still pending while the others logged in');
  release();
  assert.equal((await slow).status, 0);
  assert.notEqual((await env.sftpPassword('down', 'pw-down', ['pwd'])).status, 0);
  assert.match(await env.logText(), /"sender":"external_auth_hook"[^\n]*HTTP status 500/);
});

test('pre-login HTTP hook creates users for FTP and refuses on error; check-password program hook (1, 2 + to_verify, 0)', { timeout: 180_000 }, async (t) => {
  let dir = '';
  const srv = await hookServer(t, (req, res) => {
    const u = JSON.parse(req.body) as { id: number; username: string };
    if (u.username === 'refused') { json(res, 403, ''); return; }
    if (u.id === 0) { json(res, 200, user(dir, u.username, { password: 'pw-created' })); return; }
    res.writeHead(204);
    res.end();
  });
  const env = await startHooksEnv((c, d) => {
    dir = d;
    c.data_provider.pre_login_hook = `${srv.url}/pre`;
    c.data_provider.check_password_hook = shScript(d, 'check.sh', [
      'case "$SFTPGO_AUTHD_PASSWORD" in',
      '  master-key) echo \'{"status":1}\' ;;',
      '  *-otp123456) echo "{\\"status\\":2,\\"to_verify\\":\\"${SFTPGO_AUTHD_PASSWORD%-otp123456}\\"}" ;;',
      '  blocked) echo \'{"status":0}\' ;;',
      '  *) echo \'{"status":2,"to_verify":"\'"$SFTPGO_AUTHD_PASSWORD"\'"}\' ;;',
      'esac',
    ].join('\n'));
  });
  t.after(() => env.stop());
  assert.equal((await env.lftp('newbie', 'pw-created', 'mkdir x')).status, 0);
  const q = srv.requests[0]?.url.searchParams;
  assert.equal(q?.get('login_method'), 'password');
  assert.equal(q?.get('protocol'), 'FTP');
  assert.ok(existsSync(join(dir, 'homes', 'newbie', 'x')));
  // stored now: 204, the stored user logs in
  assert.equal((await env.sftpPassword('newbie', 'pw-created', ['pwd'])).status, 0);
  assert.notEqual((await env.lftp('refused', 'whatever', 'ls')).status, 0);
  // check-password: 1 accepts without the stored hash, 2 verifies the part it returns, 0 refuses
  assert.equal((await env.sftpPassword('newbie', 'master-key', ['pwd'])).status, 0);
  assert.equal((await env.sftpPassword('newbie', 'pw-created-otp123456', ['pwd'])).status, 0);
  assert.notEqual((await env.sftpPassword('newbie', 'wrong-otp123456', ['pwd'])).status, 0);
  assert.notEqual((await env.sftpPassword('newbie', 'blocked', ['pwd'])).status, 0);
  assert.equal(await env.dav('newbie', 'master-key', 'PROPFIND', '/'), 207);
  const log = await env.logText();
  assert.match(log, /"sender":"pre_login_hook"[^\n]*HTTP status 403/);
  assert.ok(!log.includes('master-key') && !log.includes('pw-created'), 'passwords never logged');
});

test('post-login hook: every outcome with method, protocol and status; the user JSON without its hash', { timeout: 180_000 }, async (t) => {
  const seen: Recorded[] = [];
  let notify: (() => void) | undefined;
  const srv = await hookServer(t, (req, res) => { seen.push(req); json(res, 200, ''); notify?.(); });
  const env = await startHooksEnv((c) => { c.data_provider.post_login_hook = `${srv.url}/post`; });
  t.after(() => env.stop());
  await env.app.ctx.provider.addUser(user(env.dir, 'pia', { password: 'pw-pia', public_keys: [env.key.publicKey] }));
  const waitFor = async (n: number): Promise<void> => {
    while (seen.length < n) await new Promise<void>((r) => { notify = r; });
  };
  assert.equal((await env.sftpKey('pia', 'pwd')).status, 0);
  await waitFor(1);
  assert.notEqual((await env.lftp('pia', 'bad-password', 'ls')).status, 0);
  await waitFor(2);
  const ok = seen.find((r) => r.url.searchParams.get('status') === '1');
  const ko = seen.find((r) => r.url.searchParams.get('status') === '0');
  assert.deepEqual([ok?.url.searchParams.get('login_method'), ok?.url.searchParams.get('protocol')], ['publickey', 'SSH']);
  assert.deepEqual([ko?.url.searchParams.get('login_method'), ko?.url.searchParams.get('protocol')], ['password', 'FTP']);
  const body = JSON.parse(ok?.body ?? '{}') as Record<string, unknown>;
  assert.equal(body.username, 'pia');
  assert.equal(body.password, undefined);
  assert.ok(!readFileSync(join(env.dir, 'sftpgo.log'), 'utf8').includes('bad-password'));
});

test('FTP USER with TLS available: the pre-login hook runs with an empty method and its ftp_security is enforced before PASS', { timeout: 180_000 }, async (t) => {
  let record = '';
  const env = await startHooksEnv((c, dir) => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'ftp.key'), '-out', join(dir, 'ftp.crt'), '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore', timeout: 30_000 });
    c.ftpd.bindings = [{ ...c.ftpd.bindings[0]!, tls_mode: 0, certificate_file: join(dir, 'ftp.crt'), certificate_key_file: join(dir, 'ftp.key') }];
    record = join(dir, 'methods.txt');
    c.data_provider.pre_login_hook = nodeScript(dir, 'pre.js', `
      const fs = require('fs');
      const u = JSON.parse(process.env.SFTPGO_LOGIND_USER);
      fs.appendFileSync(${JSON.stringify(record)}, u.username + ':' + process.env.SFTPGO_LOGIND_METHOD + '\\n');
      if (u.id !== 0) process.exit(0);
      console.log(JSON.stringify({ status: 1, username: u.username, password: 'pw-' + u.username, home_dir: ${JSON.stringify(join(dir, 'homes'))} + '/' + u.username,
        permissions: { '/': ['*'] }, filters: { ftp_security: u.username.startsWith('tls') ? 1 : 0 } }));`);
  });
  t.after(() => env.stop());
  assert.equal((await env.lftp('plain', 'pw-plain', 'ls')).status, 0);
  assert.notEqual((await env.lftp('tlsonly', 'pw-tlsonly', 'ls')).status, 0, 'ftp_security 1 over a clear connection');
  const calls = readFileSync(record, 'utf8').trim().split('\n');
  assert.deepEqual(calls.slice(0, 2), ['plain:', 'plain:password']);
  assert.ok(calls.includes('tlsonly:'), calls.join(','));
  assert.ok(!calls.includes('tlsonly:password'), 'refused at USER, before any password');
  assert.equal((await env.app.ctx.provider.getUser('tlsonly'))?.filters?.ftp_security, 1);
});

test('key+password (OpenSSH, partial success): external auth runs for each step, post-login reports publickey+password', { timeout: 180_000 }, async (t) => {
  let dir = '';
  const srv = await hookServer(t, (req, res) => {
    if (req.url.pathname === '/post') { json(res, 200, ''); return; }
    const b = JSON.parse(req.body) as { username: string; password: string; public_key: string };
    json(res, 200, user(dir, b.username, { filters: { denied_login_methods: ['publickey', 'password', 'keyboard-interactive'] } }));
  });
  const env = await startHooksEnv((c, d) => {
    dir = d;
    c.data_provider.external_auth_hook = `${srv.url}/auth`;
    c.data_provider.post_login_hook = `${srv.url}/post`;
    c.data_provider.post_login_scope = 2;
  });
  t.after(() => env.stop());
  const r = await env.sftpKeyAndPassword('max', 'pw-max', 'mkdir two-steps');
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(join(dir, 'homes', 'max', 'two-steps')));
  const auth = srv.requests.filter((x) => x.url.pathname === '/auth').map((x) => JSON.parse(x.body) as { public_key: string; password: string });
  assert.ok(auth.some((a) => a.public_key.startsWith('ecdsa-sha2-nistp256 ') && a.password === ''), 'the key step');
  assert.ok(auth.some((a) => a.public_key === '' && a.password === 'pw-max'), 'the password step');
  await env.app.ctx.hooks?.drain();
  const posts = srv.requests.filter((x) => x.url.pathname === '/post');
  assert.deepEqual(posts.map((p) => p.url.searchParams.get('login_method')), ['publickey+password']);
});

test('WebDAV: a request served from the login cache runs neither the pre-login nor the check-password hook again (as SFTPGo)', { timeout: 120_000 }, async (t) => {
  let checks = 0;
  const srv = await hookServer(t, (req, res) => {
    if (req.url.pathname === '/check') { checks++; json(res, 200, { status: 2, to_verify: (JSON.parse(req.body) as { password: string }).password }); return; }
    res.writeHead(204);
    res.end();
  });
  const env = await startHooksEnv((c) => {
    c.data_provider.pre_login_hook = `${srv.url}/pre`;
    c.data_provider.check_password_hook = `${srv.url}/check`;
  });
  t.after(() => env.stop());
  await env.app.ctx.provider.addUser(user(env.dir, 'dora', { password: 'pw-dora' }));
  for (let i = 0; i < 3; i++) assert.equal(await env.dav('dora', 'pw-dora', 'PROPFIND', '/'), 207);
  assert.equal(srv.requests.filter((r) => r.url.pathname === '/pre').length, 1);
  assert.equal(checks, 1);
  assert.equal(await env.dav('dora', 'wrong', 'PROPFIND', '/'), 401);
  assert.equal(checks, 2, 'another password is checked again');
});
