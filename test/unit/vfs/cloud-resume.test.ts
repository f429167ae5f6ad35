/**
 * Resume on the object stores at the backend level, against the test
 * services: S3 (s3rver) and Azure (azurite) rewrite an object up to
 * resumeMaxSize and refuse a bigger one as Unsupported before anything is
 * sent; GCS composes, and a compose whose object was replaced meanwhile fails
 * (generation precondition) leaving the replacement and no partial object.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { FsError } from '../../../src/common/errors';
import { NO_STORAGE_METRICS } from '../../../src/metrics/storage';
import type { Fs } from '../../../src/vfs/fs';
import { azBlobOptions } from '../../../src/vfs/azblob/config';
import { AzBlobFs } from '../../../src/vfs/azblob/azblobfs';
import { gcsOptions } from '../../../src/vfs/gcs/config';
import { GcsFs } from '../../../src/vfs/gcs/gcsfs';
import { s3Options } from '../../../src/vfs/s3/config';
import { S3Fs } from '../../../src/vfs/s3/s3fs';
import { azblobconfig, startAzurite, type TestAzurite } from '../../support/azurite';
import { gcsconfig, startGcsServer, type TestGcs } from '../../support/gcs-server';
import { s3config, startS3rver, type TestS3 } from '../../support/s3rver';
import { readFile, writeFile } from '../../support/vfs-conformance';

const deps = { decrypt: async (s: { payload?: string }) => s.payload ?? '', metrics: NO_STORAGE_METRICS, renameMode: 0, warn: () => undefined };
const RESUME = { truncate: false, create: true, append: true, exclusive: false, read: false };

let s3: TestS3;
let az: TestAzurite;
let gcs: TestGcs;
before(async () => { [s3, az, gcs] = await Promise.all([startS3rver(), startAzurite(), startGcsServer()]); });
after(async () => { await Promise.all([s3?.stop(), az?.stop(), gcs?.stop()]); });

const rewriters: [string, () => Fs][] = [
  ['S3', () => new S3Fs(s3Options(s3config(s3, { key_prefix: `r-${randomBytes(4).toString('hex')}/` })), { ...deps, resumeMaxSize: 4096 })],
  ['Azure Blob', () => new AzBlobFs(azBlobOptions(azblobconfig(az, { key_prefix: `r-${randomBytes(4).toString('hex')}/` })), { ...deps, resumeMaxSize: 4096 })],
];

for (const [name, make] of rewriters) {
  test(`${name}: a resume rewrites the object (<= resumeMaxSize) and refuses a bigger one`, async () => {
    const fs = make();
    try {
      assert.equal(fs.features.resumeMaxSize, 4096);
      await writeFile(fs, '/a.bin', Buffer.from('0123456789'));
      const h = await fs.openWrite('/a.bin', RESUME);
      assert.equal((await h.stat()).size, 10, 'the old bytes are in the new upload');
      await h.writeAt(Buffer.from('abc'), 10);
      await h.close();
      assert.equal((await readFile(fs, '/a.bin')).toString(), '0123456789abc');
      await writeFile(fs, '/big.bin', Buffer.alloc(4097, 7));
      await assert.rejects(fs.openWrite('/big.bin', RESUME), (e: unknown) => e instanceof FsError && e.kind === 'Unsupported' && /resume_max_size/.test(e.message));
      assert.equal((await readFile(fs, '/big.bin')).length, 4097);
      // an aborted resume leaves the object as it was
      const cut = await fs.openWrite('/a.bin', RESUME);
      await cut.writeAt(Buffer.from('zz'), 13);
      await cut.abort(new FsError('Aborted'));
      assert.equal((await readFile(fs, '/a.bin')).toString(), '0123456789abc');
    } finally {
      await fs.close();
    }
  });
}

test('GCS: a resume composes; an object replaced meanwhile fails the compose, keeps the replacement, leaves no partial object', async () => {
  const prefix = `c-${randomBytes(4).toString('hex')}/`;
  const fs = new GcsFs(gcsOptions(gcsconfig(gcs, { key_prefix: prefix })), { ...deps, apiEndpoint: gcs.endpoint });
  try {
    await writeFile(fs, '/a.bin', Buffer.from('first'));
    const h = await fs.openWrite('/a.bin', RESUME);
    await h.writeAt(Buffer.from('+second'), 5);
    await h.close();
    assert.equal((await readFile(fs, '/a.bin')).toString(), 'first+second');
    const racing = await fs.openWrite('/a.bin', RESUME);
    await racing.writeAt(Buffer.from('+late'), 12);
    await writeFile(fs, '/a.bin', Buffer.from('replaced'));
    await assert.rejects(racing.close());
    assert.equal((await readFile(fs, '/a.bin')).toString(), 'replaced');
    assert.deepEqual([...gcs.objects.keys()].filter((k) => k.startsWith(prefix) && k.includes('sftpgo-partial')), []);
  } finally {
    await fs.close();
  }
});
