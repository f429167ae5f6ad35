/**
 * SFTP to users whose storage is S3 (s3rver on a loopback port): a home on
 * S3 with OpenSSH's sftp and the ssh2 client (whose fastPut pipelines writes
 * out of order), a local home with a virtual folder on S3 with a subpath,
 * secrets sealed on save and hidden on output, resume refused as
 * SSH_FX_OP_UNSUPPORTED, and a backend that is down answering a failure.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Client, type SFTPWrapper } from 'ssh2';
import { toPublicUser, type Secret } from '../../../src/dataprovider/models';
import { NO_STORAGE_METRICS } from '../../../src/metrics/storage';
import { s3Options } from '../../../src/vfs/s3/config';
import { S3Fs } from '../../../src/vfs/s3/s3fs';
import { freePort } from '../../support/net';
import { s3config, startS3rver, type TestS3 } from '../../support/s3rver';
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

function bucketFs(s3: TestS3, prefix: string): S3Fs {
  return new S3Fs(s3Options(s3config(s3, { key_prefix: prefix })), {
    decrypt: async (s) => s.payload ?? '', metrics: NO_STORAGE_METRICS, renameMode: 1, warn: () => undefined,
  });
}

describe('S3 storage over SFTP', () => {
  let s3: TestS3;
  let srv: TestSftpServer;
  let key: TestKeyPair;

  before(async () => {
    s3 = await startS3rver();
    srv = await startSftpServer({ configure: (c) => { c.common.rename_mode = 1; } });
    key = await writeKeyPair(srv.configDir, 'k', 'ed25519');
    await srv.createUser({
      username: 'cloud', public_keys: [key.publicKey],
      filesystem: { provider: 1, s3config: s3config(s3, { key_prefix: 'users/cloud/', upload_part_size: 5, upload_concurrency: 2 }) },
    });
    await srv.ctx.provider.addFolder({
      name: 's3folder', filesystem: { provider: 1, s3config: s3config(s3, { key_prefix: 'shared/' }) },
    });
    await srv.createUser({
      username: 'mixed', public_keys: [key.publicKey],
      virtual_folders: [{ name: 's3folder', virtual_path: '/cloud', subpath: '/team', quota_size: 0, quota_files: 0 }],
    });
  });
  after(async () => {
    await srv?.stop();
    await s3?.stop();
  });

  const sftpBatch = (user: string, batch: string) => run('sftp', ['-P', String(srv.port), ...keyOpts(key.privateKeyPath), '-b', '-', `${user}@127.0.0.1`], { input: batch });

  test('the access secret is sealed with the kms on save and hidden on output', async () => {
    const u = await srv.ctx.provider.getUser('cloud');
    const stored = u?.filesystem?.s3config?.access_secret as Secret;
    assert.equal(stored.status, 'Secretbox');
    assert.notEqual(stored.payload, 'S3RVER');
    assert.equal(await srv.ctx.kms.decrypt(stored), 'S3RVER');
    const shown = toPublicUser(u!).filesystem?.s3config?.access_secret as Secret;
    assert.deepEqual(Object.keys(shown).sort(), ['payload', 'status']);
    assert.doesNotMatch(JSON.stringify(toPublicUser(u!)), /"payload":"S3RVER"/);
  });

  test('OpenSSH sftp: mkdir, put (multipart), ls, get, rename, rm on an S3 home', async () => {
    const local = path.join(srv.configDir, 'local');
    await fsp.mkdir(local, { recursive: true });
    const data = randomBytes(12 * 1024 * 1024 + 77);
    await fsp.writeFile(path.join(local, 'up.bin'), data);
    const r = await sftpBatch('cloud', [
      'mkdir /dir', `put ${path.join(local, 'up.bin')} /dir/up.bin`, 'ls -l /dir',
      `get /dir/up.bin ${path.join(local, 'back.bin')}`, 'rename /dir/up.bin /dir/moved.bin', 'ls /dir',
    ].join('\n'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /moved\.bin/);
    assert.ok((await fsp.readFile(path.join(local, 'back.bin'))).equals(data));
    // the object really is in the bucket under the user's key prefix
    const direct = bucketFs(s3, 'users/cloud/');
    try {
      assert.ok((await readBackend(direct, '/dir/moved.bin')).equals(data));
      const rm = await sftpBatch('cloud', 'rm /dir/moved.bin\nrmdir /dir');
      assert.equal(rm.status, 0, rm.stderr);
      await assert.rejects(direct.stat('/dir'), /no such file/);
    } finally {
      await direct.close();
    }
  });

  test('ssh2 fastPut (out of order pipelined writes) and fastGet round trip; resume is OP_UNSUPPORTED', async () => {
    const local = path.join(srv.configDir, 'fast');
    await fsp.mkdir(local, { recursive: true });
    const data = randomBytes(7 * 1024 * 1024 + 5);
    await fsp.writeFile(path.join(local, 'in.bin'), data);
    const { conn, sftp } = await connect(srv.port, 'cloud', await fsp.readFile(key.privateKeyPath));
    try {
      await new Promise<void>((res, rej) => sftp.fastPut(path.join(local, 'in.bin'), '/fast.bin', { concurrency: 16, chunkSize: 32768 }, (e) => (e ? rej(e) : res())));
      await new Promise<void>((res, rej) => sftp.fastGet('/fast.bin', path.join(local, 'out.bin'), { concurrency: 8 }, (e) => (e ? rej(e) : res())));
      assert.ok((await fsp.readFile(path.join(local, 'out.bin'))).equals(data));
      // an existing file opened for append (resume) cannot be honoured by S3
      const err = await new Promise<Error & { code?: number }>((res) => sftp.open('/fast.bin', 'a', (e) => res(e as Error & { code?: number })));
      assert.equal(err?.code, 8, 'SSH_FX_OP_UNSUPPORTED');
      const attrsErr = await new Promise<Error & { code?: number }>((res) => sftp.setstat('/fast.bin', { mode: 0o600 }, (e) => res(e as Error & { code?: number })));
      assert.equal(attrsErr?.code, 8, 'chmod is OP_UNSUPPORTED on S3');
    } finally {
      conn.end();
    }
  });

  test('a virtual folder on S3 with a subpath: objects land under key_prefix + subpath', async () => {
    const local = path.join(srv.configDir, 'vf');
    await fsp.mkdir(local, { recursive: true });
    await fsp.writeFile(path.join(local, 'note.txt'), 'in the team subpath\n');
    const r = await sftpBatch('mixed', `put ${path.join(local, 'note.txt')} /cloud/note.txt\nls /cloud\nput ${path.join(local, 'note.txt')} /home.txt`);
    assert.equal(r.status, 0, r.stderr);
    const direct = bucketFs(s3, 'shared/team/');
    try {
      assert.equal((await readBackend(direct, '/note.txt')).toString(), 'in the team subpath\n');
    } finally {
      await direct.close();
    }
    assert.equal(await fsp.readFile(path.join(srv.homeOf('mixed'), 'home.txt'), 'utf8'), 'in the team subpath\n');
    // a rename from the local home into the S3 folder: copy + delete, logged as not atomic
    const mv = await sftpBatch('mixed', 'rename /home.txt /cloud/moved.txt');
    assert.equal(mv.status, 0, mv.stderr);
    await assert.rejects(fsp.stat(path.join(srv.homeOf('mixed'), 'home.txt')));
    const moved = bucketFs(s3, 'shared/team/');
    try {
      assert.equal((await readBackend(moved, '/moved.txt')).toString(), 'in the team subpath\n');
    } finally {
      await moved.close();
    }
    assert.ok((await srv.readLog()).some((l) => l.message === 'rename across mounts done as copy + delete: not atomic' && l.target_storage === 's3fs'));
  });

  test('a backend that is down: the client gets a failure, the log names the backend error', async () => {
    const deadPort = await freePort();
    await srv.createUser({
      username: 'down', public_keys: [key.publicKey],
      filesystem: { provider: 1, s3config: { ...s3config(s3), endpoint: `http://127.0.0.1:${deadPort}` } },
    });
    const r = await sftpBatch('down', 'ls /\nput /etc/hostname /x');
    assert.notEqual(r.status, 0);
    const log = await srv.readLog();
    assert.ok(log.some((l) => JSON.stringify(l).includes('s3 ') && JSON.stringify(l).includes('down')),
      `a log line with the S3 error for the user: ${JSON.stringify(log.filter((l) => JSON.stringify(l).includes('down')).slice(-5))}\n${r.stdout}\n${r.stderr}`);
  });
});
