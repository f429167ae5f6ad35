/**
 * The web admin and REST API against the whole running app (SFTP, FTP,
 * WebDAV, HTTP): live service status, closing FTP and WebDAV sessions from
 * the connections page, disabling a user (REST and web) drops its sessions.
 * Web pages are driven with a cookie-keeping fetch client (fetchsession.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client as FtpClient } from 'basic-ftp';
import { sshConnect, startFullApp, type FullEnv } from '../metrics/env';
import { WebSession } from './fetchsession';

const run = promisify(execFile);
let env: FullEnv;
let web: WebSession;

before(async () => {
  env = await startFullApp();
  web = new WebSession(`http://127.0.0.1:${env.ports.http}`);
  await web.login('admin', 'password');
  const r = await env.api('POST', '/api/v2/users', {
    status: 1, username: 'live', password: 'live-pw', home_dir: join(env.dir, 'homes', 'live'), permissions: { '/': ['*'] },
  });
  assert.equal(r.status, 201, r.text);
});
after(async () => { await env?.stop(); });

type Json = Record<string, unknown>;

/** Waits (bounded) until the connection manager no longer lists `id`. */
async function gone(id: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (!env.app.ctx.connections.list().some((c) => c.id === id)) return;
    await new Promise<void>((r) => setImmediate(r));
  }
  assert.fail(`connection ${id} still listed`);
}

/** The id of the only connection of `protocol` shown on the connections page. */
async function listedConnection(protocol: string): Promise<string> {
  const page = await web.get('/web/admin/connections');
  assert.equal(page.status, 200);
  const ids = [...page.text.matchAll(/data-connection="([^"]+)" data-user="live"/g)].map((m) => m[1]);
  const mine = ids.filter((id) => env.app.ctx.connections.list().some((c) => c.id === id && c.protocol === protocol));
  assert.equal(mine.length, 1, `one ${protocol} row in ${ids.join(',')}`);
  assert.match(page.text, new RegExp(`action="/web/admin/connections/${mine[0]}/close"`));
  return mine[0];
}

test('GET /api/v2/status: SFTPGo shape with the live state of every service', async () => {
  const r = await env.api('GET', '/api/v2/status');
  assert.equal(r.status, 200, r.text);
  const j = r.json as Record<string, Json>;
  assert.equal(j['ssh']['is_active'], true);
  assert.deepEqual(j['ssh']['bindings'], [{ address: '127.0.0.1', port: env.ports.sftp, apply_proxy_config: true }]);
  const { stdout } = await run('ssh-keygen', ['-l', '-f', join(env.dir, 'host_ed25519.pub')]);
  const keys = j['ssh']['host_keys'] as { path: string; fingerprint: string; algorithms: string[] }[];
  assert.equal(keys.length, 1);
  assert.equal(keys[0].fingerprint, stdout.split(' ')[1]);
  assert.deepEqual(keys[0].algorithms, ['ssh-ed25519']);
  assert.ok((j['ssh']['ssh_commands'] as string[]).includes('md5sum'));
  assert.ok((j['ssh']['authentications'] as string[]).includes('password'));
  assert.equal(j['ftp']['is_active'], true);
  assert.equal((j['ftp']['bindings'] as Json[])[0]['port'], env.ports.ftp);
  assert.deepEqual(j['ftp']['passive_port_range'], env.app.ctx.config.ftpd.passive_port_range);
  assert.equal(j['webdav']['is_active'], true);
  assert.deepEqual(j['data_provider'], { is_active: true, driver: 'sqlite', error: '' });
  for (const k of ['defender', 'mfa', 'allow_list', 'rate_limiters']) assert.equal(typeof j[k]['is_active'], 'boolean', k);
});

test('the connections page closes an FTP session', async () => {
  const ftp = new FtpClient(10_000);
  try {
    await ftp.access({ host: '127.0.0.1', port: env.ports.ftp, user: 'live', password: 'live-pw' });
    const id = await listedConnection('FTP');
    const done = await web.submit('/web/admin/connections', `/web/admin/connections/${id}/close`);
    assert.equal(done.status, 303);
    await gone(id);
    await assert.rejects(ftp.list());
  } finally {
    ftp.close();
  }
});

test('the connections page closes a WebDAV session in the middle of an upload', async () => {
  const req = request({
    host: '127.0.0.1', port: env.ports.dav, method: 'PUT', path: '/slow.bin',
    headers: { authorization: `Basic ${Buffer.from('live:live-pw').toString('base64')}`, 'content-length': '1000000' },
  });
  const ended = new Promise<string>((resolve) => {
    req.on('error', (e) => resolve(`error ${e.message}`));
    req.on('response', (res) => { res.resume(); res.on('close', () => resolve(`status ${res.statusCode}`)); });
  });
  req.write(Buffer.alloc(1000));
  // the session is listed once the server authenticated the request
  let id = '';
  for (let i = 0; i < 500 && id === ''; i++) {
    id = env.app.ctx.connections.list().find((c) => c.protocol === 'DAV' && c.username === 'live')?.id ?? '';
    if (id === '') await new Promise<void>((r) => setImmediate(r));
  }
  assert.notEqual(id, '');
  assert.equal(await listedConnection('DAV'), id);
  const done = await web.submit('/web/admin/connections', `/web/admin/connections/${id}/close`);
  assert.equal(done.status, 303);
  await gone(id);
  const outcome = await ended;
  assert.doesNotMatch(outcome, /status 2\d\d/, outcome);
  req.destroy();
});

test('disabling a user over REST closes its SFTP session and refuses new logins', async () => {
  const ssh = await sshConnect(env.ports.sftp, 'live', 'live-pw');
  const closed = new Promise<void>((r) => ssh.once('close', () => r()));
  await new Promise<void>((resolve, reject) => ssh.sftp((err) => (err ? reject(err) : resolve())));
  const got = await env.api('GET', '/api/v2/users/live');
  const r = await env.api('PUT', '/api/v2/users/live', { ...(got.json as Json), status: 0 });
  assert.equal(r.status, 200, r.text);
  await closed;
  await assert.rejects(sshConnect(env.ports.sftp, 'live', 'live-pw'));
  // re-enable from the web admin users list, then disable again from there
  const users = await web.get('/web/admin/users');
  assert.match(users.text, /action="\/web\/admin\/user\/live\/status"/);
  assert.equal((await web.submit('/web/admin/users', '/web/admin/user/live/status', { status: '1' })).status, 303);
  assert.equal(((await env.api('GET', '/api/v2/users/live')).json as Json)['status'], 1);
  const again = await sshConnect(env.ports.sftp, 'live', 'live-pw');
  const closedAgain = new Promise<void>((res) => again.once('close', () => res()));
  await new Promise<void>((resolve, reject) => again.sftp((err) => (err ? reject(err) : resolve())));
  assert.equal((await web.submit('/web/admin/users', '/web/admin/user/live/status', { status: '0' })).status, 303);
  await closedAgain;
  assert.equal(((await env.api('GET', '/api/v2/users/live')).json as Json)['status'], 0);
  // the password survived both web updates
  assert.equal((await web.submit('/web/admin/users', '/web/admin/user/live/status', { status: '1' })).status, 303);
  await (await sshConnect(env.ports.sftp, 'live', 'live-pw')).end();
});

test('status page and API follow a service that stops', async () => {
  const page = await web.get('/web/admin/status');
  assert.equal(page.status, 200);
  assert.match(page.text, /WebDAV<\/strong><\/td>\s*<td><span class="badge ok">Running/);
  const dav = env.app.services.find((s) => s.name === 'webdavd');
  assert.ok(dav);
  await dav.stop();
  const j = (await env.api('GET', '/api/v2/status')).json as Record<string, Json>;
  assert.deepEqual(j['webdav'], { is_active: false, bindings: null });
  assert.equal(j['ssh']['is_active'], true);
  const after = await web.get('/web/admin/status');
  assert.match(after.text, /WebDAV<\/strong><\/td>\s*<td><span class="badge ">Off/);
});
