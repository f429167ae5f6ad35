/**
 * `sftpgo portable` on each remote backend through SFTPGo's flags, with
 * OpenSSH's sftp as the client: Azure Blob on azurite (--az-*), a remote
 * OpenSSH sshd (--sftp-*, host key pinned by fingerprint; a wrong
 * fingerprint fails the transfer), Google Cloud Storage on the JSON-API test
 * server (--gcs-*, credentials from a file).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite, type TestAzurite } from '../../support/azurite';
import { startGcsServer, gcsconfig, type TestGcs } from '../../support/gcs-server';
import { freePort } from '../../support/net';
import { PORTABLE_ENV, startPortable } from '../../support/portable';
import { startSshd, type TestSshd } from '../../support/sshd';
import { writeKeyPair, type TestKeyPair } from '../../support/sshkeys';
import { keyOpts, run } from '../sftpd/openssh';

describe('portable mode on remote backends', () => {
  let dir: string;
  let key: TestKeyPair;
  let payload: Buffer;

  before(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'portable-backends-'));
    key = await writeKeyPair(dir, 'client');
    payload = randomBytes(2 * 1024 * 1024 + 333);
    await fsp.writeFile(path.join(dir, 'up.bin'), payload);
  });
  after(async () => { await fsp.rm(dir, { recursive: true, force: true }); });

  /** portable with the key and full permissions on a random port, plus the backend flags */
  async function portableWith(backendArgs: string[], env?: NodeJS.ProcessEnv) {
    const port = await freePort();
    const p = await startPortable({ cwd: dir, env, args: ['-d', dir, '-s', String(port), '-u', 'porty', '-k', key.publicKey, '-g', '*', '-L', 'info', ...backendArgs] });
    const batch = (lines: string[]) => run('sftp', ['-P', String(port), ...keyOpts(key.privateKeyPath), '-b', '-', 'porty@127.0.0.1'], { input: lines.join('\n') });
    return { p, batch };
  }

  test('azblobfs: --az-* flags, upload and download with OpenSSH sftp land in the container under the prefix', async (t) => {
    const az: TestAzurite = await startAzurite('portable');
    t.after(() => az.stop());
    const { p, batch } = await portableWith(['--fs-provider', 'azblobfs', '--az-container', az.container, '--az-account-name', AZURITE_ACCOUNT,
      '--az-account-key', AZURITE_KEY, '--az-endpoint', az.endpoint, '--az-use-emulator', '--az-key-prefix', 'pfx/',
      '--az-upload-part-size', '1', '--az-upload-concurrency', '2', '--az-download-part-size', '1', '--az-download-concurrency', '3']);
    t.after(() => p.stop());
    assert.ok(p.lines.includes(`Storage: Azure Blob container ${az.container}`), p.lines.join('\n'));
    assert.ok(!p.lines.join('\n').includes(AZURITE_KEY), 'the account key is never printed');
    const r = await batch(['mkdir /d', `put ${path.join(dir, 'up.bin')} /d/up.bin`, `get /d/up.bin ${path.join(dir, 'az-back.bin')}`, 'ls /d']);
    assert.equal(r.status, 0, r.stderr + p.stderr());
    assert.ok((await fsp.readFile(path.join(dir, 'az-back.bin'))).equals(payload));
    const svc = new BlobServiceClient(`${az.endpoint}/${AZURITE_ACCOUNT}`, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
    const blob = await svc.getContainerClient(az.container).getBlobClient('pfx/d/up.bin').downloadToBuffer();
    assert.ok(blob.equals(payload));
    assert.equal(await p.stop(), 0, p.stderr().slice(-3000));
  });

  test('sftpfs: --sftp-* flags against OpenSSH sshd, the prefix jails the account; a wrong fingerprint fails the login to the backend', async (t) => {
    const sshd: TestSshd = await startSshd();
    t.after(() => sshd.stop());
    const remoteRoot = path.join(sshd.dir, 'remote-root');
    await fsp.mkdir(remoteRoot);
    const otherFp = `SHA256:${randomBytes(32).toString('base64').replace(/=+$/, '')}`;
    const flags = (fp: string) => ['--fs-provider', 'sftpfs', '--sftp-endpoint', `127.0.0.1:${sshd.port}`, '--sftp-username', sshd.user,
      '--sftp-key-path', sshd.key.privateKeyPath, '--sftp-fingerprints', `${otherFp},${fp}`, '--sftp-prefix', remoteRoot,
      '--sftp-buffer-size', '2', '--sftp-disable-concurrent-reads'];
    const good = await portableWith(flags(sshd.fingerprint));
    t.after(() => good.p.stop());
    assert.ok(good.p.lines.includes(`Storage: SFTP ${sshd.user}@127.0.0.1:${sshd.port}${remoteRoot}`), good.p.lines.join('\n'));
    const r = await good.batch([`put ${path.join(dir, 'up.bin')} /up.bin`, `get /up.bin ${path.join(dir, 'sftp-back.bin')}`, 'ls -l /']);
    assert.equal(r.status, 0, r.stderr + good.p.stderr());
    assert.ok((await fsp.readFile(path.join(remoteRoot, 'up.bin'))).equals(payload), 'stored under the prefix on the remote server');
    assert.ok((await fsp.readFile(path.join(dir, 'sftp-back.bin'))).equals(payload));
    assert.equal(await good.p.stop(), 0, good.p.stderr().slice(-3000));

    const wrongFp = `SHA256:${randomBytes(32).toString('base64').replace(/=+$/, '')}`;
    const bad = await portableWith(flags(wrongFp));
    t.after(() => bad.p.stop());
    const refused = await bad.batch([`put ${path.join(dir, 'up.bin')} /other.bin`]);
    assert.notEqual(refused.status, 0);
    await assert.rejects(fsp.stat(path.join(remoteRoot, 'other.bin')));
  });

  test('gcsfs: --gcs-* flags with a credentials file, the upload lands under the key prefix', async (t) => {
    const gcs: TestGcs = await startGcsServer('portable-bucket');
    t.after(() => gcs.stop());
    const credFile = path.join(dir, 'gcs.json');
    await fsp.writeFile(credFile, String((gcsconfig(gcs).credentials as { payload: string }).payload), { mode: 0o600 });
    const { p, batch } = await portableWith(['--fs-provider', 'gcsfs', '--gcs-bucket', gcs.bucket, '--gcs-credentials-file', credFile,
      '--gcs-key-prefix', 'port/', '--gcs-storage-class', 'STANDARD'], { ...PORTABLE_ENV, STORAGE_EMULATOR_HOST: gcs.endpoint });
    t.after(() => p.stop());
    assert.ok(p.lines.includes(`Storage: GCS bucket ${gcs.bucket}`), p.lines.join('\n'));
    const r = await batch([`put ${path.join(dir, 'up.bin')} /g.bin`, 'ls /']);
    assert.equal(r.status, 0, r.stderr + p.stderr());
    assert.ok(gcs.objects.get('port/g.bin')?.data.equals(payload));
    assert.equal(await p.stop(), 0, p.stderr().slice(-3000));
  });

  test('a flag the backend cannot honour stops start-up naming it; an unknown provider is a usage error', async () => {
    await assert.rejects(portableWith(['--fs-provider', 's3fs', '--s3-bucket', 'b', '--s3-region', 'r', '--s3-key-prefix', '/../']),
      /key_prefix, it cannot point to the storage root/);
    await assert.rejects(portableWith(['--fs-provider', 'sftpfs', '--sftp-endpoint', '127.0.0.1:22', '--sftp-username', 'u', '--sftp-key-path', path.join(dir, 'missing')]),
      /--sftp-key-path .*missing: ENOENT/);
    await assert.rejects(portableWith(['--fs-provider', 'httpfs']), /--fs-provider httpfs: not supported by this server/);
  });
});
