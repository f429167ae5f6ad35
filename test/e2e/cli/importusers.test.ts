/**
 * `sftpgo importusers` against a running server: passwd/shadow files written
 * by the test, users created through the REST API, then real SFTP logins with
 * the original Linux passwords (yescrypt and sha512crypt hashes kept as is).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Client } from 'ssh2';
import { freePort } from '../../support/net';
import { request, run, startChild, tmpDir } from './child';

const YESCRYPT = '$y$j9T$FlWFFjPPx4yJOSHj2Llgp0$XQC9NXTGRS3IMwYZ.Yv7LdwsiMd6bmgWeER5U1OKYv.'; // "correct horse battery staple"

function sshLogin(port: number, username: string, password: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.on('ready', () => {
      c.end();
      resolve(true);
    });
    c.on('error', (e: Error & { level?: string }) => (e.level === 'client-authentication' ? resolve(false) : reject(e)));
    c.connect({ host: '127.0.0.1', port, username, password, readyTimeout: 60_000, tryKeyboard: false });
  });
}

test('importusers creates users from passwd/shadow through the REST API; their Linux passwords log in over SFTP', async (t) => {
  const dir = tmpDir(t, 'sftpgo-import-');
  const sha512 = execFileSync('mkpasswd', ['-m', 'sha512crypt', '--stdin'], { input: 'Bob-pw-1', encoding: 'utf8' }).trim();
  const today = Math.floor(Date.now() / 86_400_000);
  const home = (u: string): string => path.join(dir, 'home', u);
  fs.writeFileSync(path.join(dir, 'passwd'), [
    'root:x:0:0:root:/root:/bin/bash',
    'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
    `alice:x:1001:1001:Alice,,,:${home('alice')}:/bin/bash`,
    `bob:x:1002:1002::${home('bob')}:/bin/sh`,
    `carol:x:1003:1003::${home('carol')}:/bin/sh`,
    `dave:x:1004:1004::${home('dave')}:/bin/sh`,
    `eve:x:1005:1005::${home('eve')}:/bin/sh`,
    `frank:x:1006:1006::${home('frank')}:/bin/sh`,
    '',
  ].join('\n'));
  fs.writeFileSync(path.join(dir, 'shadow'), [
    `root:${sha512}:${today}:0:99999:7:::`,
    'daemon:*:19000:0:99999:7:::',
    `alice:${YESCRYPT}:${today}:0:99999:7:::`,
    `bob:${sha512}:${today}:0:99999:7:::`,
    `carol:!${sha512}:${today}:0:99999:7:::`,
    `dave:abJnggxhB/yWI:${today}:0:99999:7:::`,
    `eve:${sha512}:${today - 100}:0:99999:7:10::`,
    `frank:${sha512}:${today}:0:99999:7::${today + 30}:`,
    '',
  ].join('\n'));
  const sftpPort = await freePort();
  const httpPort = await freePort();
  const srv = startChild(t, ['serve', '-c', dir, '-l', '', '-L', 'info'], {
    cwd: dir,
    env: {
      SFTPGO_DATA_PROVIDER__DRIVER: 'memory', SFTPGO_DATA_PROVIDER__NAME: '', SFTPGO_DATA_PROVIDER__CREATE_DEFAULT_ADMIN: 'true',
      SFTPGO_DEFAULT_ADMIN_USERNAME: 'admin', SFTPGO_DEFAULT_ADMIN_PASSWORD: 'Admin-Passw0rd',
      SFTPGO_SFTPD__BINDINGS__0__PORT: String(sftpPort), SFTPGO_SFTPD__BINDINGS__0__ADDRESS: '127.0.0.1',
      SFTPGO_HTTPD__BINDINGS__0__PORT: String(httpPort), SFTPGO_HTTPD__BINDINGS__0__ADDRESS: '127.0.0.1',
    },
  });
  await srv.waitLine(/"message":"sftpd listening"/);
  await srv.waitLine(/"message":"httpd listening"/);
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const args = ['importusers', '--passwd', path.join(dir, 'passwd'), '--shadow', path.join(dir, 'shadow'), '--min-uid', '1000',
    '--force-uid', String(uid), '--force-gid', String(gid), '--url', `http://127.0.0.1:${httpPort}`, '--admin', 'admin'];
  const r = await run(args, { cwd: dir, stdin: 'Admin-Passw0rd\n' });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(lines, [
    'skipped "carol": locked or without a password',
    'skipped "dave": unsupported password hash scheme (DES or unknown)',
    `imported "alice" (uid ${uid}, gid ${gid}, home ${home('alice')})`,
    `imported "bob" (uid ${uid}, gid ${gid}, home ${home('bob')})`,
    `imported "eve" (uid ${uid}, gid ${gid}, home ${home('eve')})`,
    `imported "frank" (uid ${uid}, gid ${gid}, home ${home('frank')})`,
    '4 of 4 users imported or already present',
  ]);
  assert.ok(!r.stdout.includes(sha512) && !r.stderr.includes('Admin-Passw0rd'), 'no hash or password in the output');

  const token = JSON.parse((await request(`http://127.0.0.1:${httpPort}/api/v2/token`, { auth: 'admin:Admin-Passw0rd' })).body) as { access_token: string };
  const user = async (name: string): Promise<{ status: number; uid: number; expiration_date?: number; home_dir: string }> =>
    JSON.parse((await request(`http://127.0.0.1:${httpPort}/api/v2/users/${name}`, { token: token.access_token })).body) as { status: number; uid: number; expiration_date?: number; home_dir: string };
  assert.equal((await user('eve')).status, 0, 'inactive for longer than the shadow inactivity period');
  assert.equal((await user('frank')).expiration_date, (today + 30) * 86_400_000);
  assert.equal((await user('alice')).home_dir, home('alice'));
  assert.equal((await request(`http://127.0.0.1:${httpPort}/api/v2/users/root`, { token: token.access_token })).status, 404, '--min-uid filters');

  assert.equal(await sshLogin(sftpPort, 'alice', 'correct horse battery staple'), true, 'yescrypt hash from shadow logs in');
  assert.equal(await sshLogin(sftpPort, 'alice', 'wrong horse'), false);
  assert.equal(await sshLogin(sftpPort, 'bob', 'Bob-pw-1'), true, 'sha512crypt hash from shadow logs in');
  assert.equal(await sshLogin(sftpPort, 'eve', 'Bob-pw-1'), false, 'disabled user');

  const again = await run(args, { cwd: dir, stdin: 'Admin-Passw0rd\n' });
  assert.equal(again.code, 0);
  assert.match(again.stdout, /skipped "alice": already exists \(use --update to overwrite\)/);
  const badAdmin = await run(args, { cwd: dir, stdin: 'nope\n' });
  assert.equal(badAdmin.code, 1);
  assert.match(badAdmin.stderr, /cannot get an API token for admin "admin": HTTP 401/);

  const dumpFile = path.join(dir, 'users.json');
  const dumped = await run(['importusers', '--passwd', path.join(dir, 'passwd'), '--shadow', path.join(dir, 'shadow'), '--usernames', 'alice,bob', '--output', dumpFile], { cwd: dir });
  assert.equal(dumped.code, 0, dumped.stderr);
  const dump = JSON.parse(fs.readFileSync(dumpFile, 'utf8')) as { users: { username: string; password: string; uid: number; permissions: Record<string, string[]> }[] };
  assert.deepEqual(dump.users.map((u) => [u.username, u.password, u.uid, u.permissions]), [['alice', YESCRYPT, 1001, { '/': ['*'] }], ['bob', sha512, 1002, { '/': ['*'] }]]);
  assert.equal(fs.statSync(dumpFile).mode & 0o777, 0o600, 'the dump holds password hashes');
  const noShadow = await run(['importusers', '--passwd', path.join(dir, 'passwd'), '--shadow', path.join(dir, 'missing'), '--output', dumpFile], { cwd: dir });
  assert.equal(noShadow.code, 1);
  assert.match(noShadow.stderr, /cannot read .*missing: ENOENT/);
  assert.equal(await srv.stop(), 0);
});
