/**
 * `sftpgo portable --fs-provider s3fs` (SFTPGo's flags) serving an s3rver
 * bucket: a file uploaded over SFTP lands under the key prefix.
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
import { startPortable } from '../../support/portable';
import { s3config, startS3rver } from '../../support/s3rver';
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
