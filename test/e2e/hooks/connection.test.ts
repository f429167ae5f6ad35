/**
 * common.startup_hook, post_connect_hook and post_disconnect_hook through the
 * whole application with real clients: OpenSSH sftp, lftp, curl (WebDAV).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hookServer, json, shScript, type Recorded } from '../../unit/hooks/support';
import { startHooksEnv } from './env';
import { run } from '../sftpd/openssh';

/** Resolves with the first recorded request matching `pred` (event driven, bounded by the test's timeout). */
function waitForRequest(srv: { requests: Recorded[]; setHandler(h: (r: Recorded, res: import('node:http').ServerResponse) => void): void },
  pred: (r: Recorded) => boolean): Promise<Recorded> {
  const found = srv.requests.find(pred);
  if (found) return Promise.resolve(found);
  return new Promise((resolve) => {
    srv.setHandler((r, res) => {
      json(res, 200, '');
      if (pred(r)) resolve(r);
    });
  });
}

test('startup hook: a GET once the services are up; post-disconnect: a GET per SFTP session with user and duration', { timeout: 120_000 }, async (t) => {
  const srv = await hookServer(t, (_r, res) => json(res, 200, ''));
  const started = waitForRequest(srv, (r) => r.url.pathname === '/startup');
  const env = await startHooksEnv((c) => {
    c.common.startup_hook = `${srv.url}/startup`;
    c.common.post_disconnect_hook = `${srv.url}/disconnect`;
  });
  t.after(() => env.stop());
  assert.equal((await started).method, 'GET');
  await env.app.ctx.provider.addUser({ status: 1, username: 'dina', password: 'pw-dina', public_keys: [env.key.publicKey], home_dir: join(env.dir, 'dina'), permissions: { '/': ['*'] } });
  const gone = waitForRequest(srv, (r) => r.url.pathname === '/disconnect' && r.url.searchParams.get('protocol') === 'SFTP');
  const r = await env.sftpKey('dina', 'pwd');
  assert.equal(r.status, 0, r.stderr);
  const q = (await gone).url.searchParams;
  assert.equal(q.get('username'), 'dina');
  assert.equal(q.get('ip'), '127.0.0.1');
  assert.match(q.get('connection_duration') ?? '', /^\d+$/);
  // FTP sessions fire it too, WebDAV does not (SFTPGo: SSH channels and FTP only)
  const ftpGone = waitForRequest(srv, (x) => x.url.pathname === '/disconnect' && x.url.searchParams.get('protocol') === 'FTP');
  const l = await env.lftp('dina', 'pw-dina', 'ls');
  assert.equal(l.status, 0, l.stderr);
  assert.equal((await ftpGone).url.searchParams.get('username'), 'dina');
  assert.equal(await env.dav('dina', 'pw-dina', 'PROPFIND', '/'), 207);
  await env.app.ctx.hooks?.drain();
  assert.ok(!srv.requests.some((x) => x.url.searchParams.get('protocol') === 'DAV'));
});

test('post-connect program hook gates SSH (before the handshake), FTP (before the banner) and WebDAV (every request)', { timeout: 120_000 }, async (t) => {
  let allowFile = '';
  const env = await startHooksEnv((c, dir) => {
    allowFile = join(dir, 'allow');
    // accepts only while the file exists, and only the protocols SFTPGo names
    c.common.post_connect_hook = shScript(dir, 'post-connect.sh',
      `[ -e ${allowFile} ] || exit 1\ncase "$SFTPGO_CONNECTION_PROTOCOL" in SSH|FTP|DAV) ;; *) exit 2;; esac\n[ "$SFTPGO_CONNECTION_IP" = "127.0.0.1" ]`);
  });
  t.after(() => env.stop());
  await env.app.ctx.provider.addUser({ status: 1, username: 'paul', password: 'pw-paul', public_keys: [env.key.publicKey], home_dir: join(env.dir, 'paul'), permissions: { '/': ['*'] } });
  writeFileSync(allowFile, '');
  assert.equal((await env.sftpKey('paul', 'pwd')).status, 0);
  assert.equal((await env.lftp('paul', 'pw-paul', 'ls')).status, 0);
  assert.equal(await env.dav('paul', 'pw-paul', 'PROPFIND', '/'), 207);
  unlinkSync(allowFile);
  assert.ok(!existsSync(allowFile));
  const ssh = await env.sftpKey('paul', 'pwd');
  assert.notEqual(ssh.status, 0);
  const ftp = await env.lftp('paul', 'pw-paul', 'ls');
  assert.notEqual(ftp.status, 0);
  assert.equal(await env.dav('paul', 'pw-paul', 'PROPFIND', '/'), 403);
  const log = await env.logText();
  assert.match(log, /"sender":"post_connect_hook"[^\n]*denied/);
});

test('post-disconnect: FTP connections that never logged in fire it with an empty username (as SFTPGo); failed SSH and WebDAV logins do not', { timeout: 120_000 }, async (t) => {
  const srv = await hookServer(t, (_r, res) => json(res, 200, ''));
  const env = await startHooksEnv((c) => { c.common.post_disconnect_hook = `${srv.url}/disconnect`; });
  t.after(() => env.stop());
  await env.app.ctx.provider.addUser({ status: 1, username: 'ned', password: 'pw-ned', home_dir: join(env.dir, 'ned'), permissions: { '/': ['*'] } });
  const ftpGone = () => waitForRequest(srv, (x) => x.url.pathname === '/disconnect' && x.url.searchParams.get('protocol') === 'FTP');
  // curl: a wrong password, then it leaves
  let gone = ftpGone();
  const r = await run('curl', ['-s', '-u', 'ned:wrong', `ftp://127.0.0.1:${env.ports.ftp}/`]);
  assert.notEqual(r.status, 0);
  let q = (await gone).url.searchParams;
  assert.equal(q.get('username'), '');
  assert.equal(q.get('ip'), '127.0.0.1');
  assert.match(q.get('connection_duration') ?? '', /^\d+$/);
  // a client that reads the banner and quits without a login
  srv.requests.length = 0;
  gone = ftpGone();
  const quit = await run('curl', ['-s', '--max-time', '20', `telnet://127.0.0.1:${env.ports.ftp}`], { input: 'QUIT\r\n' });
  assert.match(quit.stdout, /^220 /);
  q = (await gone).url.searchParams;
  assert.equal(q.get('username'), '');
  // one hook call per connection: a logged-in FTP session is reported once, with its user
  srv.requests.length = 0;
  gone = ftpGone();
  assert.equal((await env.lftp('ned', 'pw-ned', 'ls')).status, 0);
  assert.equal((await gone).url.searchParams.get('username'), 'ned');
  // SSH: SFTPGo runs it per channel of a logged-in connection; WebDAV never
  assert.notEqual((await env.sftpPassword('ned', 'wrong', ['ls'])).status, 0);
  assert.equal(await env.dav('ned', 'wrong', 'PROPFIND', '/'), 401);
  await env.app.ctx.hooks?.drain();
  const calls = srv.requests.filter((x) => x.url.pathname === '/disconnect').map((x) => `${x.url.searchParams.get('protocol')}:${x.url.searchParams.get('username')}`);
  assert.deepEqual(calls, ['FTP:ned']);
});
