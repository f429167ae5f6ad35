/**
 * SFTP to users whose storage is a remote SFTP server: a home on OpenSSH's
 * sshd (started by the test) used with OpenSSH's sftp client, the private
 * key sealed on save and hidden on output, the remote prefix as a jail that
 * a remote symlink cannot open; a virtual folder on this server itself
 * (self connection to another account); the loop guard refusing this
 * server's own host key unless common.allow_self_connections is 1.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { toPublicUser, type Secret } from '../../../src/dataprovider/models';
import { selfConnectionGuard } from '../../../src/service/self-connections';
import { sftpFsOptions } from '../../../src/vfs/sftpfs/config';
import { SftpConnectionPool } from '../../../src/vfs/sftpfs/pool';
import { SftpFs } from '../../../src/vfs/sftpfs/sftpfs';
import { startSftpServer, type TestSftpServer } from '../../support/server';
import { writeKeyPair, type TestKeyPair } from '../../support/sshkeys';
import { startSshd, type TestSshd } from '../../support/sshd';
import { keyOpts, run } from '../sftpd/openssh';

describe('remote SFTP storage over SFTP', () => {
  let sshd: TestSshd;
  let srv: TestSftpServer;
  let key: TestKeyPair;
  let remoteRoot: string;

  before(async () => {
    sshd = await startSshd();
    srv = await startSftpServer({ configure: (c) => { c.common.allow_self_connections = 1; } });
    key = await writeKeyPair(srv.configDir, 'k', 'ed25519');
    remoteRoot = path.join(sshd.dir, 'users', 'remote');
    await srv.createUser({
      username: 'remote', public_keys: [key.publicKey],
      filesystem: { provider: 5, sftpconfig: {
        endpoint: `127.0.0.1:${sshd.port}`, username: sshd.user, private_key: { status: 'Plain', payload: sshd.key.privateKey },
        fingerprints: [sshd.fingerprint], prefix: remoteRoot,
      } },
    });
    await srv.createUser({ username: 'back', password: 'back-password-1', public_keys: [key.publicKey] });
    await srv.ctx.provider.addFolder({
      name: 'selffolder', filesystem: { provider: 5, sftpconfig: {
        endpoint: `127.0.0.1:${srv.port}`, username: 'back', password: { status: 'Plain', payload: 'back-password-1' }, prefix: '/',
      } },
    });
    await srv.createUser({
      username: 'front', public_keys: [key.publicKey],
      virtual_folders: [{ name: 'selffolder', virtual_path: '/self', subpath: '/team', quota_size: 0, quota_files: 0 }],
    });
  });
  after(async () => {
    await srv?.stop();
    await sshd?.stop();
  });

  const sftpBatch = (user: string, batch: string) => run('sftp', ['-P', String(srv.port), ...keyOpts(key.privateKeyPath), '-b', '-', `${user}@127.0.0.1`], { input: batch });

  test('the private key is sealed with the kms on save and hidden on output', async () => {
    const u = await srv.ctx.provider.getUser('remote');
    const stored = u?.filesystem?.sftpconfig?.private_key as Secret;
    assert.equal(stored.status, 'Secretbox');
    assert.equal(await srv.ctx.kms.decrypt(stored), sshd.key.privateKey);
    const shown = JSON.stringify(toPublicUser(u!));
    assert.ok(!shown.includes('PRIVATE KEY') && !shown.includes(sshd.key.privateKey.slice(40, 80)));
  });

  test('OpenSSH sftp on a home on a remote sshd: put, get, rename, rm land under the prefix; a remote link out is refused', async () => {
    const local = path.join(srv.configDir, 'local');
    await fsp.mkdir(local, { recursive: true });
    const data = randomBytes(2 * 1024 * 1024 + 77);
    await fsp.writeFile(path.join(local, 'up.bin'), data);
    const r = await sftpBatch('remote', [
      'mkdir /dir', `put ${path.join(local, 'up.bin')} /dir/up.bin`, 'ls -l /dir',
      `get /dir/up.bin ${path.join(local, 'back.bin')}`, 'rename /dir/up.bin /dir/moved.bin', 'chmod 600 /dir/moved.bin',
    ].join('\n'));
    assert.equal(r.status, 0, r.stderr);
    assert.ok((await fsp.readFile(path.join(local, 'back.bin'))).equals(data));
    assert.ok((await fsp.readFile(path.join(remoteRoot, 'dir', 'moved.bin'))).equals(data));
    assert.equal((await fsp.stat(path.join(remoteRoot, 'dir', 'moved.bin'))).mode & 0o777, 0o600);
    // a link planted on the remote pointing outside the prefix
    const outside = path.join(sshd.dir, 'outside');
    await fsp.mkdir(outside, { recursive: true });
    await fsp.writeFile(path.join(outside, 'secret'), 'not for you');
    await fsp.symlink(outside, path.join(remoteRoot, 'escape'));
    const get = await sftpBatch('remote', `get /escape/secret ${path.join(local, 'stolen')}`);
    assert.notEqual(get.status, 0);
    await assert.rejects(fsp.stat(path.join(local, 'stolen')));
    const put = await sftpBatch('remote', `put ${path.join(local, 'up.bin')} /escape/planted`);
    assert.notEqual(put.status, 0);
    await assert.rejects(fsp.stat(path.join(outside, 'planted')));
    const rm = await sftpBatch('remote', 'rm /dir/moved.bin\nrmdir /dir');
    assert.equal(rm.status, 0, rm.stderr);
    await assert.rejects(fsp.stat(path.join(remoteRoot, 'dir')));
  });

  test('a virtual folder on this server itself (allow_self_connections 1): files land in the other account, under the subpath', async () => {
    await fsp.mkdir(path.join(srv.homeOf('back'), 'team'), { recursive: true });
    const local = path.join(srv.configDir, 'self');
    await fsp.mkdir(local, { recursive: true });
    await fsp.writeFile(path.join(local, 'note.txt'), 'through myself\n');
    const r = await sftpBatch('front', `put ${path.join(local, 'note.txt')} /self/note.txt\nls /self\nget /self/note.txt ${path.join(local, 'again.txt')}`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(await fsp.readFile(path.join(srv.homeOf('back'), 'team', 'note.txt'), 'utf8'), 'through myself\n');
    assert.equal(await fsp.readFile(path.join(local, 'again.txt'), 'utf8'), 'through myself\n');
  });

  test('the loop guard knows this server host keys: refused with allow_self_connections 0, and for an account on SFTP storage with 1', async () => {
    const cfg = { endpoint: `127.0.0.1:${srv.port}`, username: 'back', password: { status: 'Plain', payload: 'back-password-1' }, prefix: '/' };
    const make = (allow: number, username = 'back'): SftpFs => new SftpFs(sftpFsOptions({ ...cfg, username }), {
      pool: new SftpConnectionPool(selfConnectionGuard({
        configDir: srv.configDir, hostKeys: [], allowSelfConnections: allow, getUser: (u) => srv.ctx.provider.getUser(u),
      }), () => undefined),
      decrypt: async (s) => s.payload ?? '', warn: () => undefined,
    });
    const denied = make(0);
    await assert.rejects(denied.stat('/'), /self connections are not allowed/);
    await denied.close();
    const allowed = make(1);
    assert.equal((await allowed.stat('/')).isDirectory, true);
    await allowed.close();
    const loop = make(1, 'remote');
    await assert.rejects(loop.stat('/'), /SFTP loop or nested SFTP storage/);
    await loop.close();
  });
});
