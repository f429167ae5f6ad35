/**
 * SFTP to users whose storage is Google Cloud Storage (the JSON-API test
 * server, test/support/gcs-server.ts, reached through STORAGE_EMULATOR_HOST
 * as the SDK reads it): a home on GCS with OpenSSH's sftp, a local home with
 * a virtual folder on GCS with a subpath, the credentials sealed on save and
 * hidden on output, resume refused as SSH_FX_OP_UNSUPPORTED.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Client, type SFTPWrapper } from 'ssh2';
import { toPublicUser, type Secret } from '../../../src/dataprovider/models';
import { gcsconfig, startGcsServer, type TestGcs } from '../../support/gcs-server';
import { startSftpServer, type TestSftpServer } from '../../support/server';
import { writeKeyPair, type TestKeyPair } from '../../support/sshkeys';
import { keyOpts, run } from '../sftpd/openssh';

function connect(port: number, username: string, privateKey: Buffer): Promise<{ conn: Client; sftp: SFTPWrapper }> {
  return new Promise((resolve, reject) => {
    const conn = new Client();
    conn.on('error', reject);
    conn.on('ready', () => conn.sftp((err, sftp) => (err ? reject(err) : resolve({ conn, sftp }))));
    conn.connect({ host: '127.0.0.1', port, username, privateKey, readyTimeout: 30_000 });
  });
}

describe('Google Cloud Storage over SFTP', () => {
  let gcs: TestGcs;
  let srv: TestSftpServer;
  let key: TestKeyPair;
  const previousEmulator = process.env.STORAGE_EMULATOR_HOST;

  before(async () => {
    gcs = await startGcsServer();
    process.env.STORAGE_EMULATOR_HOST = gcs.endpoint;
    srv = await startSftpServer({ configure: (c) => { c.common.rename_mode = 1; } });
    key = await writeKeyPair(srv.configDir, 'k', 'ed25519');
    await srv.createUser({
      username: 'gcsuser', public_keys: [key.publicKey],
      filesystem: { provider: 2, gcsconfig: gcsconfig(gcs, { key_prefix: 'users/gcsuser/', upload_part_size: 1 }) },
    });
    await srv.ctx.provider.addFolder({ name: 'gcsfolder', filesystem: { provider: 2, gcsconfig: gcsconfig(gcs, { key_prefix: 'shared/' }) } });
    await srv.createUser({
      username: 'mixed', public_keys: [key.publicKey],
      virtual_folders: [{ name: 'gcsfolder', virtual_path: '/gcs', subpath: '/team', quota_size: 0, quota_files: 0 }],
    });
  });
  after(async () => {
    await srv?.stop();
    await gcs?.stop();
    if (previousEmulator === undefined) delete process.env.STORAGE_EMULATOR_HOST; else process.env.STORAGE_EMULATOR_HOST = previousEmulator;
  });

  const sftpBatch = (user: string, batch: string) => run('sftp', ['-P', String(srv.port), ...keyOpts(key.privateKeyPath), '-b', '-', `${user}@127.0.0.1`], { input: batch });

  test('the credentials are sealed with the kms on save and hidden on output', async () => {
    const u = await srv.ctx.provider.getUser('gcsuser');
    const stored = u?.filesystem?.gcsconfig?.credentials as Secret;
    assert.equal(stored.status, 'Secretbox');
    assert.match(await srv.ctx.kms.decrypt(stored), /service_account/);
    assert.ok(!JSON.stringify(toPublicUser(u!)).includes('service_account'));
  });

  test('OpenSSH sftp: mkdir, put (several chunks), get, rename, rm on a GCS home; resume is OP_UNSUPPORTED', async () => {
    const local = path.join(srv.configDir, 'local');
    await fsp.mkdir(local, { recursive: true });
    const data = randomBytes(3 * 1024 * 1024 + 77);
    await fsp.writeFile(path.join(local, 'up.bin'), data);
    const r = await sftpBatch('gcsuser', [
      'mkdir /dir', `put ${path.join(local, 'up.bin')} /dir/up.bin`, 'ls -l /dir',
      `get /dir/up.bin ${path.join(local, 'back.bin')}`, 'rename /dir/up.bin /dir/moved.bin', 'ls /dir',
    ].join('\n'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /moved\.bin/);
    assert.ok((await fsp.readFile(path.join(local, 'back.bin'))).equals(data));
    assert.ok(gcs.objects.get('users/gcsuser/dir/moved.bin')?.data.equals(data));
    assert.equal(gcs.objects.has('users/gcsuser/dir/up.bin'), false);
    const { conn, sftp } = await connect(srv.port, 'gcsuser', await fsp.readFile(key.privateKeyPath));
    try {
      const err = await new Promise<Error & { code?: number }>((res) => sftp.open('/dir/moved.bin', 'a', (e) => res(e as Error & { code?: number })));
      assert.equal(err?.code, 8, 'SSH_FX_OP_UNSUPPORTED');
    } finally {
      conn.end();
    }
    const rm = await sftpBatch('gcsuser', 'rm /dir/moved.bin\nrmdir /dir');
    assert.equal(rm.status, 0, rm.stderr);
    assert.equal([...gcs.objects.keys()].some((k) => k.startsWith('users/gcsuser/dir')), false);
  });

  test('a virtual folder on GCS with a subpath: objects land under key_prefix + subpath', async () => {
    const local = path.join(srv.configDir, 'vf');
    await fsp.mkdir(local, { recursive: true });
    await fsp.writeFile(path.join(local, 'note.txt'), 'in the team subpath\n');
    const r = await sftpBatch('mixed', `put ${path.join(local, 'note.txt')} /gcs/note.txt\nls /gcs\nput ${path.join(local, 'note.txt')} /home.txt\nrename /home.txt /gcs/moved.txt`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(gcs.objects.get('shared/team/note.txt')?.data.toString(), 'in the team subpath\n');
    assert.equal(gcs.objects.get('shared/team/moved.txt')?.data.toString(), 'in the team subpath\n');
    await assert.rejects(fsp.stat(path.join(srv.homeOf('mixed'), 'home.txt')));
  });
});
