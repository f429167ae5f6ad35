/**
 * SFTP to users whose storage is Azure Blob (azurite on a loopback port):
 * a home on Azure with OpenSSH's sftp and the ssh2 client (fastPut pipelines
 * writes out of order), a local home with a virtual folder on Azure with a
 * subpath, secrets sealed on save and hidden on output, resume refused as
 * SSH_FX_OP_UNSUPPORTED (chmod and symlink too), and a backend that is down answering a failure.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Client, type SFTPWrapper } from 'ssh2';
import { toPublicUser, type Secret } from '../../../src/dataprovider/models';
import { NO_STORAGE_METRICS } from '../../../src/metrics/storage';
import { azBlobOptions } from '../../../src/vfs/azblob/config';
import { AzBlobFs } from '../../../src/vfs/azblob/azblobfs';
import { AZURITE_KEY, azblobconfig, startAzurite, type TestAzurite } from '../../support/azurite';
import { freePort } from '../../support/net';
import { startSftpServer, type TestSftpServer } from '../../support/server';
import { writeKeyPair, type TestKeyPair } from '../../support/sshkeys';
import { readFile as readBackend } from '../../support/vfs-conformance';
import { keyOpts, run } from '../sftpd/openssh';

function connect(port: number, username: string, privateKey: Buffer): Promise<{ conn: Client; sftp: SFTPWrapper }> {
  return new Promise((resolve, reject) => {
    const conn = new Client();
    conn.on('error', reject);
    conn.on('ready', () => conn.sftp((err, sftp) => (err ? reject(err) : resolve({ conn, sftp }))));
    conn.connect({ host: '127.0.0.1', port, username, privateKey, readyTimeout: 30_000 });
  });
}

function containerFs(az: TestAzurite, prefix: string): AzBlobFs {
  return new AzBlobFs(azBlobOptions(azblobconfig(az, { key_prefix: prefix })), {
    decrypt: async (s) => s.payload ?? '', metrics: NO_STORAGE_METRICS, renameMode: 1, warn: () => undefined,
  });
}

describe('Azure Blob storage over SFTP', () => {
  let az: TestAzurite;
  let srv: TestSftpServer;
  let key: TestKeyPair;

  before(async () => {
    az = await startAzurite();
    srv = await startSftpServer({ configure: (c) => { c.common.rename_mode = 1; } });
    key = await writeKeyPair(srv.configDir, 'k', 'ed25519');
    await srv.createUser({
      username: 'azure', public_keys: [key.publicKey],
      filesystem: { provider: 3, azblobconfig: azblobconfig(az, { key_prefix: 'users/azure/', upload_part_size: 1, upload_concurrency: 2 }) },
    });
    await srv.ctx.provider.addFolder({
      name: 'azfolder', filesystem: { provider: 3, azblobconfig: azblobconfig(az, { key_prefix: 'shared/' }) },
    });
    await srv.createUser({
      username: 'mixed', public_keys: [key.publicKey],
      virtual_folders: [{ name: 'azfolder', virtual_path: '/azure', subpath: '/team', quota_size: 0, quota_files: 0 }],
    });
  });
  after(async () => {
    await srv?.stop();
    await az?.stop();
  });

  const sftpBatch = (user: string, batch: string) => run('sftp', ['-P', String(srv.port), ...keyOpts(key.privateKeyPath), '-b', '-', `${user}@127.0.0.1`], { input: batch });

  test('the account key is sealed with the kms on save and hidden on output', async () => {
    const u = await srv.ctx.provider.getUser('azure');
    const stored = u?.filesystem?.azblobconfig?.account_key as Secret;
    assert.equal(stored.status, 'Secretbox');
    assert.notEqual(stored.payload, AZURITE_KEY);
    assert.equal(await srv.ctx.kms.decrypt(stored), AZURITE_KEY);
    const shown = toPublicUser(u!).filesystem?.azblobconfig?.account_key as Secret;
    assert.deepEqual(Object.keys(shown).sort(), ['payload', 'status']);
    assert.ok(!JSON.stringify(toPublicUser(u!)).includes(AZURITE_KEY));
  });

  test('OpenSSH sftp: mkdir, put (several blocks), ls, get, rename, rm on an Azure home', async () => {
    const local = path.join(srv.configDir, 'local');
    await fsp.mkdir(local, { recursive: true });
    const data = randomBytes(5 * 1024 * 1024 + 77);
    await fsp.writeFile(path.join(local, 'up.bin'), data);
    const r = await sftpBatch('azure', [
      'mkdir /dir', `put ${path.join(local, 'up.bin')} /dir/up.bin`, 'ls -l /dir',
      `get /dir/up.bin ${path.join(local, 'back.bin')}`, 'rename /dir/up.bin /dir/moved.bin', 'ls /dir',
    ].join('\n'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /moved\.bin/);
    assert.ok((await fsp.readFile(path.join(local, 'back.bin'))).equals(data));
    // the blob really is in the container under the user's key prefix
    const direct = containerFs(az, 'users/azure/');
    try {
      assert.ok((await readBackend(direct, '/dir/moved.bin')).equals(data));
      const rm = await sftpBatch('azure', 'rm /dir/moved.bin\nrmdir /dir');
      assert.equal(rm.status, 0, rm.stderr);
      await assert.rejects(direct.stat('/dir'), /no such file/);
    } finally {
      await direct.close();
    }
  });

  test('ssh2 fastPut (out of order pipelined writes) and fastGet round trip; resume, chmod and symlink are OP_UNSUPPORTED', async () => {
    const local = path.join(srv.configDir, 'fast');
    await fsp.mkdir(local, { recursive: true });
    const data = randomBytes(3 * 1024 * 1024 + 5);
    await fsp.writeFile(path.join(local, 'in.bin'), data);
    const { conn, sftp } = await connect(srv.port, 'azure', await fsp.readFile(key.privateKeyPath));
    try {
      await new Promise<void>((res, rej) => sftp.fastPut(path.join(local, 'in.bin'), '/fast.bin', { concurrency: 16, chunkSize: 32768 }, (e) => (e ? rej(e) : res())));
      await new Promise<void>((res, rej) => sftp.fastGet('/fast.bin', path.join(local, 'out.bin'), { concurrency: 8 }, (e) => (e ? rej(e) : res())));
      assert.ok((await fsp.readFile(path.join(local, 'out.bin'))).equals(data));
      const err = await new Promise<Error & { code?: number }>((res) => sftp.open('/fast.bin', 'a', (e) => res(e as Error & { code?: number })));
      assert.equal(err?.code, 8, 'SSH_FX_OP_UNSUPPORTED');
      const attrsErr = await new Promise<Error & { code?: number }>((res) => sftp.setstat('/fast.bin', { mode: 0o600 }, (e) => res(e as Error & { code?: number })));
      assert.equal(attrsErr?.code, 8, 'chmod is OP_UNSUPPORTED on Azure Blob');
      const linkErr = await new Promise<Error & { code?: number }>((res) => sftp.symlink('/fast.bin', '/fast.link', (e) => res(e as Error & { code?: number })));
      assert.equal(linkErr?.code, 8, 'symlink is OP_UNSUPPORTED on Azure Blob (not "permission denied")');
    } finally {
      conn.end();
    }
  });

  test('a virtual folder on Azure with a subpath: blobs land under key_prefix + subpath; a rename into it is copy + delete', async () => {
    const local = path.join(srv.configDir, 'vf');
    await fsp.mkdir(local, { recursive: true });
    await fsp.writeFile(path.join(local, 'note.txt'), 'in the team subpath\n');
    const r = await sftpBatch('mixed', `put ${path.join(local, 'note.txt')} /azure/note.txt\nls /azure\nput ${path.join(local, 'note.txt')} /home.txt`);
    assert.equal(r.status, 0, r.stderr);
    const direct = containerFs(az, 'shared/team/');
    try {
      assert.equal((await readBackend(direct, '/note.txt')).toString(), 'in the team subpath\n');
      const mv = await sftpBatch('mixed', 'rename /home.txt /azure/moved.txt');
      assert.equal(mv.status, 0, mv.stderr);
      await assert.rejects(fsp.stat(path.join(srv.homeOf('mixed'), 'home.txt')));
      assert.equal((await readBackend(direct, '/moved.txt')).toString(), 'in the team subpath\n');
    } finally {
      await direct.close();
    }
    assert.ok((await srv.readLog()).some((l) => l.message === 'rename across mounts done as copy + delete: not atomic' && l.target_storage === 'azblobfs'));
  });

  test('a backend that is down: the client gets a failure, the log names the backend error', async () => {
    const deadPort = await freePort();
    await srv.createUser({
      username: 'down', public_keys: [key.publicKey],
      filesystem: { provider: 3, azblobconfig: azblobconfig(az, { endpoint: `http://127.0.0.1:${deadPort}` }) },
    });
    const r = await sftpBatch('down', 'ls /dir\nput /etc/hostname /x');
    assert.notEqual(r.status, 0);
    const log = await srv.readLog();
    assert.ok(log.some((l) => JSON.stringify(l).includes('azblob ') && JSON.stringify(l).includes('down')),
      `a log line with the Azure error for the user: ${JSON.stringify(log.filter((l) => JSON.stringify(l).includes('down')).slice(-5))}\n${r.stdout}\n${r.stderr}`);
  });
});
