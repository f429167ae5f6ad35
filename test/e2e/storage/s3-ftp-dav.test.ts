/**
 * FTP (basic-ftp) and WebDAV (curl) to a user whose home is on S3 (s3rver):
 * the same create/list/read/rename/copy/remove walk through both, a
 * multipart-sized upload, an upload refused for quota leaving no object in
 * the bucket (the multipart upload is aborted, never completed), and an FTP
 * append (a resume) answered 504 as an operation the storage cannot do.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Client, FTPError } from 'basic-ftp';
import { NO_STORAGE_METRICS } from '../../../src/metrics/storage';
import { s3Options } from '../../../src/vfs/s3/config';
import { S3Fs } from '../../../src/vfs/s3/s3fs';
import { fsUsage } from '../../../src/common/backend-usage';
import { startCross, type CrossEnv } from '../crossproto/env';
import { davDriver, ftpDriver, type Driver } from '../crossproto/drivers';
import { s3config, startS3rver, type TestS3 } from '../../support/s3rver';
import { listNames } from '../../support/vfs-conformance';

describe('S3 storage over FTP and WebDAV', () => {
  let s3: TestS3;
  let env: CrossEnv;
  const bucketFs = (prefix: string): S3Fs => new S3Fs(s3Options(s3config(s3, { key_prefix: prefix })), {
    decrypt: async (s) => s.payload ?? '', metrics: NO_STORAGE_METRICS, renameMode: 1, warn: () => undefined,
  });

  before(async () => {
    s3 = await startS3rver();
    env = await startCross((c) => { c.common.rename_mode = 1; });
    for (const u of ['ftpu', 'davu']) {
      await env.addUser({ username: u, password: `${u}-pass`, filesystem: { provider: 1, s3config: s3config(s3, { key_prefix: `${u}/`, upload_part_size: 5 }) } });
    }
    await env.addUser({
      username: 'tight', password: 'tight-pass', quota_size: 1000, quota_files: 0,
      filesystem: { provider: 1, s3config: s3config(s3, { key_prefix: 'tight/' }) },
    });
  });
  after(async () => {
    await env?.close();
    await s3?.stop();
  });

  for (const proto of ['FTP', 'DAV'] as const) {
    test(`${proto}: mkdir, multipart upload, list, download, rename, remove on S3`, async () => {
      const user = proto === 'FTP' ? 'ftpu' : 'davu';
      const d: Driver = proto === 'FTP' ? ftpDriver(env, user, `${user}-pass`) : davDriver(env, user, `${user}-pass`);
      // text content: the drivers return bodies as strings
      const text = randomBytes(4 * 1024 * 1024).toString('base64').slice(0, 6 * 1024 * 1024 + 11);
      assert.equal((await d.mkdir('/docs')).ok, true);
      assert.equal((await d.mkdir('/docs2')).ok, true);
      assert.equal((await d.upload('/docs/big.txt', Buffer.from(text))).ok, true);
      assert.equal((await d.upload('/docs/small.txt', Buffer.from('small'), { chunked: true })).ok, true);
      const list = await d.list('/docs');
      assert.ok(list.ok && list.body.includes('big.txt') && list.body.includes('small.txt'), JSON.stringify(list).slice(0, 300));
      const back = await d.download('/docs/big.txt');
      assert.ok(back.ok && back.body === text, 'the multipart object reads back');
      assert.equal((await d.rename('/docs/big.txt', '/docs2/moved.txt')).ok, true);
      if (d.copy) assert.equal((await d.copy('/docs/small.txt', '/docs2/copy.txt')).ok, true);
      const direct = bucketFs(`${user}/`);
      try {
        const names = [...(await listNames(direct, '/docs2')).keys()].sort();
        assert.deepEqual(names, d.copy ? ['copy.txt', 'moved.txt'] : ['moved.txt']);
        assert.equal((await d.removeFile('/docs/small.txt')).ok, true);
        assert.equal((await d.removeDir('/docs')).ok, true);
        assert.equal((await listNames(direct, '/')).has('docs'), false);
      } finally {
        await direct.close();
      }
    });

    test(`${proto}: an upload over quota is refused and leaves no object in the bucket`, async () => {
      const d: Driver = proto === 'FTP' ? ftpDriver(env, 'tight', 'tight-pass') : davDriver(env, 'tight', 'tight-pass');
      const r = await d.upload('/over.bin', Buffer.alloc(6 * 1024 * 1024, 1), { chunked: proto === 'DAV' });
      assert.deepEqual(r.ok ? 'success' : r.code, d.quota);
      const direct = bucketFs('tight/');
      try {
        assert.deepEqual(await fsUsage(direct), { size: 0, files: 0 }, 'no partial object');
      } finally {
        await direct.close();
      }
      const u = await env.ctx.provider.getUser('tight');
      assert.equal(u?.used_quota_size ?? 0, 0);
    });
  }

  test('FTP: APPE to an existing S3 object (a resume) is 504, the object is unchanged', async () => {
    const c = new Client(15_000);
    try {
      await c.access({ host: '127.0.0.1', port: env.ftpPort, user: 'ftpu', password: 'ftpu-pass' });
      await c.uploadFrom(Readable.from([Buffer.from('first')]), '/resume.txt');
      const err = await c.appendFrom(Readable.from([Buffer.from('-more')]), '/resume.txt').then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof FTPError, String(err));
      assert.equal(err.code, 504);
    } finally {
      c.close();
    }
    const direct = bucketFs('ftpu/');
    try {
      assert.equal((await direct.stat('/resume.txt')).size, 5);
    } finally {
      await direct.close();
    }
  });
});
