/**
 * `sftpgo portable --fs-provider s3fs` (SFTPGo's flags) serving an s3rver
 * bucket: a file uploaded over SFTP lands under the key prefix; with
 * --s3-role-arn the credentials come from the test STS (AWS_ENDPOINT_URL_STS
 * in portable's environment), assumed once with the given keys.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'ssh2';
import { NO_STORAGE_METRICS } from '../../../src/metrics/storage';
import { s3Options } from '../../../src/vfs/s3/config';
import { S3Fs } from '../../../src/vfs/s3/s3fs';
import { freePort } from '../../support/net';
import { PORTABLE_ENV, startPortable } from '../../support/portable';
import { s3config, startS3rver } from '../../support/s3rver';
import { startSts } from '../../support/sts-server';
import { readFile as readBackend } from '../../support/vfs-conformance';


function sftpPut(port: number, password: string, remote: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.on('error', reject);
    c.on('ready', () => c.sftp((err, sftp) => {
      if (err) { c.end(); reject(err); return; }
      sftp.writeFile(remote, data, (e) => { c.end(); if (e) reject(e); else resolve(); });
    }));
    c.connect({ host: '127.0.0.1', port, username: 'porty', password, readyTimeout: 20_000 });
  });
}

test('portable --fs-provider s3fs serves a bucket prefix over SFTP', async (t) => {
  const s3 = await startS3rver();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portable-s3-'));
  t.after(async () => { await s3.stop(); fs.rmSync(dir, { recursive: true, force: true }); });
  const port = await freePort();
  const p = await startPortable({ cwd: dir, args: ['-d', dir, '-s', String(port), '-u', 'porty', '-p', 'porty-password', '-g', '*',
    '-L', 'info', '--fs-provider', 's3fs', '--s3-bucket', s3.bucket, '--s3-region', 'us-east-1', '--s3-endpoint', s3.endpoint,
    '--s3-access-key', 'S3RVER', '--s3-access-secret', 'S3RVER', '--s3-force-path-style', '--s3-key-prefix', 'portable/'] });
  t.after(() => p.stop());
  await sftpPut(port, 'porty-password', '/from-portable.txt', Buffer.from('portable on s3\n'));
  const direct = new S3Fs(s3Options(s3config(s3, { key_prefix: 'portable/' })), {
    decrypt: async (sec) => sec.payload ?? '', metrics: NO_STORAGE_METRICS, renameMode: 0, warn: () => undefined,
  });
  try {
    assert.equal((await readBackend(direct, '/from-portable.txt')).toString(), 'portable on s3\n');
  } finally {
    await direct.close();
  }
  assert.ok(p.lines.includes(`Storage: S3 bucket ${s3.bucket}`), p.lines.join('\n'));
  assert.equal(await p.stop(), 0, p.stderr().slice(-3000));
});

test('portable --s3-role-arn: the bucket is reached with the role assumed through STS', async (t) => {
  const sts = await startSts({ sourceAccessKey: 'AKIAPORTABLE', region: 'us-west-2' });
  const s3 = await startS3rver('portable-role', sts.pool.map((c) => [c.accessKeyId, c.secretAccessKey]));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portable-s3-role-'));
  t.after(async () => { await s3.stop(); await sts.stop(); fs.rmSync(dir, { recursive: true, force: true }); });
  const role = 'arn:aws:iam::123456789012:role/portable';
  const port = await freePort();
  const p = await startPortable({ cwd: dir, env: { ...PORTABLE_ENV, AWS_ENDPOINT_URL_STS: sts.endpoint },
    args: ['-d', dir, '-s', String(port), '-u', 'porty', '-p', 'porty-password', '-g', '*', '-L', 'info', '--fs-provider', 's3fs',
      '--s3-bucket', s3.bucket, '--s3-region', 'us-west-2', '--s3-endpoint', s3.endpoint, '--s3-access-key', 'AKIAPORTABLE',
      '--s3-access-secret', 'portable-secret', '--s3-role-arn', role, '--s3-force-path-style'] });
  t.after(() => p.stop());
  await sftpPut(port, 'porty-password', '/assumed.txt', Buffer.from('with a role\n'));
  assert.deepEqual(sts.calls.map((c) => [c.roleArn, c.signedBy, c.status]), [[role, 'AKIAPORTABLE', 200]]);
  const direct = new S3Fs(s3Options(s3config(s3)), {
    decrypt: async (sec) => sec.payload ?? '', metrics: NO_STORAGE_METRICS, renameMode: 0, warn: () => undefined,
  });
  try {
    assert.equal((await readBackend(direct, '/assumed.txt')).toString(), 'with a role\n');
  } finally {
    await direct.close();
  }
  assert.equal(await p.stop(), 0, p.stderr().slice(-3000));
});
