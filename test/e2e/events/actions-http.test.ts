/**
 * common.actions with an HTTP hook, driven by real clients: OpenSSH sftp,
 * scp (legacy protocol), ssh commands, lftp (FTP), curl (WebDAV). The
 * receiver in the test process records SFTPGo's JSON bodies and refuses
 * what the test wants refused: pre-upload of "*denied*" (every protocol),
 * the synchronous upload of "*reject*" (the file is removed, the client's
 * upload fails), pre-delete of "*keep*".
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { WebSession } from '../webadmin/fetchsession';
import { startEventsEnv, startReceiver, type EventsEnv, type Receiver } from './env';

let env: EventsEnv;
let rec: Receiver;

interface Body { [k: string]: unknown; action: string; virtual_path: string; protocol: string; status: number }
const bodies = (): Body[] => rec.requests.filter((r) => r.url.pathname === '/fs').map((r) => JSON.parse(r.body.toString('utf8')) as Body);
const find = (action: string, vpath: string): Body | undefined => bodies().find((b) => b.action === action && b.virtual_path === vpath);

before(async () => {
  rec = await startReceiver();
  rec.answer = (r) => {
    if (r.url.pathname !== '/fs') return 200;
    const b = JSON.parse(r.body.toString('utf8')) as Body;
    if (b.action === 'pre-upload' && b.virtual_path.includes('denied')) return 403;
    if (b.action === 'upload' && b.virtual_path.includes('reject')) return 403;
    if (b.action === 'pre-delete' && b.virtual_path.includes('keep')) return 403;
    return 200;
  };
  env = await startEventsEnv((c) => {
    c.common.actions = {
      execute_on: ['pre-download', 'download', 'first-download', 'pre-upload', 'upload', 'first-upload', 'pre-delete', 'delete',
        'rename', 'mkdir', 'rmdir', 'ssh_cmd', 'copy'],
      execute_sync: ['upload'],
      hook: `${rec.url}/fs`,
    };
    c.data_provider.actions = { execute_on: ['add', 'update', 'delete'], execute_for: ['user', 'admin'], hook: `${rec.url}/provider` };
  });
  await env.app.ctx.provider.addUser({
    username: 'alice', password: 'alice-pw', status: 1, home_dir: env.homeOf('alice'), permissions: { '/': ['*'] },
    public_keys: [env.key.publicKey],
  }, { username: 'admin', ip: '127.0.0.1' });
  await writeFile(join(env.local, 'data.txt'), 'hello events\n');
});

after(async () => {
  await env?.stop();
  await rec?.close();
});

test('an SFTP upload fires pre-upload, upload and first-upload with SFTPGo\'s body', async () => {
  const r = await env.sftp('alice', `put ${join(env.local, 'data.txt')} /sftp.txt`);
  assert.equal(r.status, 0, r.stderr);
  await env.app.ctx.events.drain();
  const up = find('upload', '/sftp.txt');
  assert.ok(up, 'upload event');
  assert.equal(up.protocol, 'SFTP');
  assert.equal(up.username, 'alice');
  assert.equal(up.path, join(env.homeOf('alice'), 'sftp.txt'));
  assert.equal(up.file_size, 13);
  assert.equal(up.status, 1);
  assert.equal(up.fs_provider, 0);
  assert.equal(up.ip, '127.0.0.1');
  assert.match(String(up.session_id), /.+/);
  assert.equal(typeof up.elapsed === 'number' || up.elapsed === undefined, true);
  // the nanosecond timestamp is written as an integer literal
  const raw = rec.requests.find((x) => x.body.toString().includes('"action":"upload"'))!.body.toString();
  assert.match(raw, /"timestamp":\d{19},/);
  assert.ok(find('pre-upload', '/sftp.txt'), 'pre-upload event');
  assert.equal(find('pre-upload', '/sftp.txt')?.open_flags !== undefined, true, 'SFTP passes its open flags');
  assert.ok(find('first-upload', '/sftp.txt'), 'first-upload on the first upload');
  assert.equal(rec.requests[0]?.method, 'POST');
  assert.equal(rec.requests[0]?.headers['content-type'], 'application/json');
});

test('download, mkdir, rename, delete, rmdir through OpenSSH sftp', async () => {
  const r = await env.sftp('alice', `get /sftp.txt ${join(env.local, 'back.txt')}`, 'mkdir /d', 'rename /sftp.txt /d/moved.txt', 'rm /d/moved.txt', 'rmdir /d');
  assert.equal(r.status, 0, r.stderr);
  await env.app.ctx.events.drain();
  assert.equal(find('download', '/sftp.txt')?.file_size, 13);
  assert.ok(find('pre-download', '/sftp.txt'));
  assert.ok(find('first-download', '/sftp.txt'));
  assert.ok(find('mkdir', '/d'));
  const ren = find('rename', '/sftp.txt');
  assert.equal(ren?.virtual_target_path, '/d/moved.txt');
  assert.equal(ren?.target_path, join(env.homeOf('alice'), 'd', 'moved.txt'));
  assert.equal(find('pre-delete', '/d/moved.txt')?.file_size, 13);
  assert.equal(find('delete', '/d/moved.txt')?.file_size, 13);
  assert.ok(find('rmdir', '/d'));
});

test('pre-delete refused by the hook: permission denied, the file stays', async () => {
  await writeFile(join(env.homeOf('alice'), 'keep.txt'), 'x');
  const r = await env.sftp('alice', 'rm /keep.txt');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /Permission denied/);
  assert.ok(existsSync(join(env.homeOf('alice'), 'keep.txt')));
  assert.equal(find('delete', '/keep.txt'), undefined);
});

test('pre-upload refused through SFTP, SCP, FTP and WebDAV: nothing is written', async () => {
  const src = join(env.local, 'data.txt');
  const s = await env.sftp('alice', `put ${src} /denied-sftp.txt`);
  assert.notEqual(s.status, 0);
  assert.match(s.stderr, /Permission denied/);
  const c = await env.scp('alice', src, '/denied-scp.txt');
  assert.notEqual(c.status, 0);
  const f = await env.ftp('alice', 'alice-pw', ['put data.txt -o /denied-ftp.txt']);
  assert.notEqual(f.code, 0);
  assert.equal(await env.davPut('alice', 'alice-pw', src, '/denied-dav.txt'), 403);
  for (const n of ['denied-sftp.txt', 'denied-scp.txt', 'denied-ftp.txt', 'denied-dav.txt']) {
    assert.equal(existsSync(join(env.homeOf('alice'), n)), false, n);
  }
  const protocols = bodies().filter((b) => b.action === 'pre-upload' && b.virtual_path.includes('denied')).map((b) => b.protocol).sort();
  assert.deepEqual(protocols, ['DAV', 'FTP', 'SCP', 'SFTP']);
});

test('uploads through SCP, FTP and WebDAV fire upload with their protocol', async () => {
  const src = join(env.local, 'data.txt');
  assert.equal((await env.scp('alice', src, '/via-scp.txt')).status, 0);
  const f = await env.ftp('alice', 'alice-pw', ['put data.txt -o /via-ftp.txt']);
  assert.equal(f.code, 0, f.stderr);
  assert.equal(await env.davPut('alice', 'alice-pw', src, '/via-dav.txt'), 201);
  await env.app.ctx.events.drain();
  assert.equal(find('upload', '/via-scp.txt')?.protocol, 'SCP');
  assert.equal(find('upload', '/via-ftp.txt')?.protocol, 'FTP');
  assert.equal(find('upload', '/via-dav.txt')?.protocol, 'DAV');
  for (const v of ['/via-scp.txt', '/via-ftp.txt', '/via-dav.txt']) assert.equal(find('upload', v)?.file_size, 13, v);
  // first-upload was for the first file only
  assert.equal(bodies().filter((b) => b.action === 'first-upload').length, 1);
});

test('a failing synchronous upload hook removes the file and fails the client\'s upload', async () => {
  const src = join(env.local, 'data.txt');
  const s = await env.sftp('alice', `put ${src} /reject-sftp.txt`);
  assert.notEqual(s.status, 0, 'sftp put must fail');
  assert.ok(await env.davPut('alice', 'alice-pw', src, '/reject-dav.txt') >= 400, 'WebDAV PUT fails');
  const f = await env.ftp('alice', 'alice-pw', ['put data.txt -o /reject-ftp.txt']);
  assert.notEqual(f.code, 0, 'FTP STOR fails');
  for (const n of ['reject-sftp.txt', 'reject-dav.txt', 'reject-ftp.txt']) assert.equal(existsSync(join(env.homeOf('alice'), n)), false, n);
  // the hook saw the complete upload (status 1) and refused it
  assert.equal(find('upload', '/reject-sftp.txt')?.status, 1);
});

test('SSH commands fire ssh_cmd with protocol SSH; sftpgo-copy fires copy', async () => {
  const r = await env.ssh('alice', 'sha256sum /via-scp.txt');
  assert.equal(r.status, 0, r.stderr);
  const c = await env.ssh('alice', 'sftpgo-copy /via-scp.txt /copied.txt');
  assert.equal(c.status, 0, c.stderr);
  await env.app.ctx.events.drain();
  const cmd = bodies().find((b) => b.action === 'ssh_cmd' && b.ssh_cmd === 'sha256sum /via-scp.txt');
  assert.ok(cmd, 'ssh_cmd event');
  assert.equal(cmd.protocol, 'SSH');
  assert.equal(cmd.virtual_path, '/via-scp.txt');
  const copy = find('copy', '/via-scp.txt');
  assert.equal(copy?.virtual_target_path, '/copied.txt');
  assert.equal(copy?.file_size, 13);
  assert.equal(copy?.protocol, 'SSH');
});

test('an asynchronous hook held open by a slow endpoint does not hold the transfer', async () => {
  await writeFile(join(env.homeOf('alice'), 'slow.txt'), 'slow');
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => { release = resolve; });
  let seen: () => void = () => undefined;
  const held = new Promise<void>((resolve) => { seen = resolve; });
  rec.hold = (r) => {
    if (r.body.toString().includes('"action":"download","username":"alice","path"') && r.body.toString().includes('slow.txt')) {
      seen();
      return released;
    }
    return Promise.resolve();
  };
  try {
    const r = await env.sftp('alice', `get /slow.txt ${join(env.local, 'slow.txt')}`);
    assert.equal(r.status, 0, r.stderr);
    // the download finished for the client while its hook call is still unanswered
    await held;
    assert.equal(find('download', '/slow.txt')?.file_size, 4);
  } finally {
    release();
    rec.hold = () => Promise.resolve();
  }
  await env.app.ctx.events.drain();
});

test('provider actions: a user added through the REST API, updated through the web admin, deleted', async () => {
  const add = await env.api('POST', '/api/v2/users', {
    username: 'bob', password: 'bob-secret-pw', status: 1, home_dir: env.homeOf('bob'), permissions: { '/': ['*'] },
  });
  assert.equal(add.status, 201);
  const web = new WebSession(`http://127.0.0.1:${env.ports.http}`);
  await web.login('admin', 'password');
  const page = await web.get('/web/admin/user/bob');
  assert.equal(page.status, 200);
  const upd = await web.post('/web/admin/user/bob', {
    _form_token: WebSession.csrf(page.text), username: 'bob', home_dir: env.homeOf('bob'), status: '1', description: 'from the web admin',
    perm_0_path: '/', perm_0_perm: '*',
  });
  assert.equal(upd.status, 303, upd.text.slice(0, 300));
  assert.equal((await env.api('DELETE', '/api/v2/users/bob')).status, 200);
  await env.app.ctx.events.drain();
  const calls = rec.requests.filter((r) => r.url.pathname === '/provider' && r.url.searchParams.get('object_name') === 'bob');
  assert.deepEqual(calls.map((c) => c.url.searchParams.get('action')), ['add', 'update', 'delete']);
  for (const c of calls) {
    assert.equal(c.method, 'POST');
    assert.equal(c.url.searchParams.get('object_type'), 'user');
    assert.equal(c.url.searchParams.get('username'), 'admin');
    assert.equal(c.url.searchParams.get('ip'), '127.0.0.1');
    assert.match(c.url.searchParams.get('timestamp') ?? '', /^\d{19}$/);
    // Go's url.Values.Encode: keys sorted
    assert.deepEqual([...c.url.searchParams.keys()], [...c.url.searchParams.keys()].sort());
    const obj = JSON.parse(c.body.toString()) as Record<string, unknown>;
    assert.equal(obj.username, 'bob');
    assert.equal('password' in obj, false, 'no password hash leaves the server');
    assert.doesNotMatch(c.body.toString(), /bob-secret-pw|\$2[aby]\$/);
  }
  assert.equal((JSON.parse(calls[1]!.body.toString()) as { description: string }).description, 'from the web admin');
});

test('provider actions are not fired for internal updates (login, quota)', async () => {
  const before = rec.requests.filter((r) => r.url.pathname === '/provider').length;
  // a login updates last_login, an upload updates the quota and first_upload
  assert.equal((await env.sftp('alice', `put ${join(env.local, 'data.txt')} /internal.txt`)).status, 0);
  await env.app.ctx.events.drain();
  assert.equal(rec.requests.filter((r) => r.url.pathname === '/provider').length, before);
});
