/**
 * uid/gid mapping as root: two system accounts created (and removed) by the
 * test; what the server creates for each SFTPGo user (home, directories,
 * uploads in both upload modes, rename and copy targets) belongs to that
 * user's account, a user without uid/gid leaves files to the server, and a
 * client chown needs the chown permission. Then the server run as one of the
 * accounts refuses foreign ids with a 400 naming the field.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp, chownSync, mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { startSftpServer, type TestSftpServer } from '../../support/server';
import { writeKeyPair, type TestKeyPair } from '../../support/sshkeys';
import { freePort } from '../../support/net';
import { keyOpts, run } from './openssh';

const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : 'needs root: creates system accounts and gives files to them';

interface Account { name: string; uid: number; gid: number }

function createAccount(): Account {
  const name = `sftpgots${randomBytes(4).toString('hex')}`;
  execFileSync('useradd', ['--system', '--no-create-home', '--user-group', '--shell', '/usr/sbin/nologin', name]);
  const id = (flag: string): number => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
  return { name, uid: id('-u'), gid: id('-g') };
}

function removeAccount(a: Account | undefined): void {
  if (a) execFileSync('userdel', [a.name], { stdio: 'ignore' });
}

async function owner(p: string): Promise<[number, number]> {
  const st = await fsp.lstat(p);
  return [st.uid, st.gid];
}

describe('uid/gid mapping', { skip }, () => {
  let alpha: Account | undefined;
  let beta: Account | undefined;
  before(() => {
    alpha = createAccount();
    beta = createAccount();
  });
  after(() => {
    removeAccount(alpha);
    removeAccount(beta);
  });

  for (const uploadMode of [0, 1]) {
    describe(`upload_mode ${uploadMode}`, () => {
      let srv: TestSftpServer;
      let key: TestKeyPair;
      before(async () => {
        srv = await startSftpServer({ configure: (c) => { c.common.upload_mode = uploadMode; c.sftpd.enabled_ssh_commands = ['*']; } });
        key = await writeKeyPair(srv.configDir, 'k', 'ed25519');
        const a = alpha as Account;
        const b = beta as Account;
        await srv.createUser({ username: 'ua', public_keys: [key.publicKey], uid: a.uid, gid: a.gid });
        await srv.createUser({ username: 'ub', public_keys: [key.publicKey], uid: b.uid, gid: b.gid, permissions: { '/': ['list', 'download', 'upload', 'create_dirs', 'rename', 'overwrite'] } });
        await srv.createUser({ username: 'unset', public_keys: [key.publicKey] });
      });
      after(async () => { await srv?.stop(); });

      const sftp = (user: string, batch: string) => run('sftp', ['-P', String(srv.port), ...keyOpts(key.privateKeyPath), '-b', '-', `${user}@127.0.0.1`], { input: batch });

      test('home, mkdir, upload, rename and copy targets belong to the user\'s account', async () => {
        const a = alpha as Account;
        const b = beta as Account;
        const local = path.join(srv.configDir, 'local.bin');
        await fsp.writeFile(local, randomBytes(70_000));
        for (const [user, acct] of [['ua', a], ['ub', b]] as const) {
          const r = await sftp(user, ['mkdir /d', `put ${local} /d/f.bin`, `put ${local} /top.bin`, 'rename /top.bin /d/moved.bin'].join('\n'));
          assert.equal(r.status, 0, r.stderr);
          const home = srv.homeOf(user);
          for (const p of [home, path.join(home, 'd'), path.join(home, 'd', 'f.bin'), path.join(home, 'd', 'moved.bin')]) {
            assert.deepEqual(await owner(p), [acct.uid, acct.gid], `${user}: ${p}`);
          }
          const leftovers = (await fsp.readdir(path.join(home, 'd'))).filter((n) => n.startsWith('.sftpgo-upload'));
          assert.deepEqual(leftovers, []);
        }
        const cp = await run('ssh', ['-p', String(srv.port), ...keyOpts(key.privateKeyPath), 'ua@127.0.0.1', 'sftpgo-copy', '/d', '/copied']);
        assert.equal(cp.status, 0, cp.stderr);
        for (const p of ['copied', 'copied/f.bin']) assert.deepEqual(await owner(path.join(srv.homeOf('ua'), p)), [a.uid, a.gid], p);

        const plain = await sftp('unset', ['mkdir /d', `put ${local} /d/f.bin`].join('\n'));
        assert.equal(plain.status, 0, plain.stderr);
        assert.deepEqual(await owner(path.join(srv.homeOf('unset'), 'd', 'f.bin')), [0, 0], 'no uid/gid: the server\'s account');
      });

      test('a client chown needs the chown permission', async () => {
        const a = alpha as Account;
        const b = beta as Account;
        const ok = await sftp('ua', `chown ${b.uid} /d/f.bin`);
        assert.equal(ok.status, 0, ok.stderr);
        assert.equal((await owner(path.join(srv.homeOf('ua'), 'd', 'f.bin')))[0], b.uid);
        const denied = await sftp('ub', `chown ${a.uid} /d/f.bin`);
        assert.notEqual(denied.status, 0);
        assert.match(denied.stderr, /Permission denied/i);
        assert.equal((await owner(path.join(srv.homeOf('ub'), 'd', 'f.bin')))[0], b.uid);
      });
    });
  }

  test('a server running as a non-root account refuses other accounts\' ids with a 400 naming the field', async (t) => {
    const a = alpha as Account;
    const b = beta as Account;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sftpgo-nonroot-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    chownSync(dir, a.uid, a.gid);
    const port = await freePort();
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SFTPGO_')));
    const child = spawn(process.execPath, [path.resolve(__dirname, '../../../src/cmd/main.js'), 'serve', '-c', dir, '-l', '', '-L', 'info'], {
      cwd: dir, uid: a.uid, gid: a.gid, stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...env, HOME: dir, SFTPGO_DATA_PROVIDER__DRIVER: 'memory', SFTPGO_DATA_PROVIDER__NAME: '', SFTPGO_SFTPD__BINDINGS__0__PORT: '0',
        SFTPGO_HTTPD__BINDINGS__0__PORT: String(port), SFTPGO_HTTPD__BINDINGS__0__ADDRESS: '127.0.0.1',
        SFTPGO_DATA_PROVIDER__CREATE_DEFAULT_ADMIN: 'true', SFTPGO_DEFAULT_ADMIN_USERNAME: 'admin', SFTPGO_DEFAULT_ADMIN_PASSWORD: 'Admin-Passw0rd',
      },
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    t.after(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    });
    const lines: string[] = [];
    await Promise.race([
      new Promise<void>((resolve) => createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (l) => {
        lines.push(l);
        if (l.includes('"message":"httpd listening"')) resolve();
      })),
      exited.then((code) => { throw new Error(`server exited (${code}): ${lines.join('\n')}`); }),
    ]);
    const call = (method: string, p: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path: p, method, headers: { ...headers, 'Content-Type': 'application/json' } }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject);
        req.end(body === undefined ? undefined : JSON.stringify(body));
      });
    const tok = await call('GET', '/api/v2/token', { Authorization: `Basic ${Buffer.from('admin:Admin-Passw0rd').toString('base64')}` });
    assert.equal(tok.status, 200, tok.body);
    const auth = { Authorization: `Bearer ${(JSON.parse(tok.body) as { access_token: string }).access_token}` };
    const user = (name: string, extra: Record<string, number>) => ({ username: name, password: 'Pw-123456', status: 1, home_dir: path.join(dir, name), permissions: { '/': ['*'] }, ...extra });
    const foreignUid = await call('POST', '/api/v2/users', auth, user('x1', { uid: b.uid, gid: a.gid }));
    assert.equal(foreignUid.status, 400);
    assert.match(foreignUid.body, new RegExp(`uid ${b.uid} cannot be honoured: the server runs as uid ${a.uid}`));
    const foreignGid = await call('POST', '/api/v2/users', auth, user('x2', { uid: a.uid, gid: b.gid }));
    assert.equal(foreignGid.status, 400);
    assert.match(foreignGid.body, new RegExp(`gid ${b.gid} cannot be honoured`));
    assert.equal((await call('POST', '/api/v2/users', auth, user('own', { uid: a.uid, gid: a.gid }))).status, 201);
    assert.equal((await call('POST', '/api/v2/users', auth, user('unset', {}))).status, 201);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});
