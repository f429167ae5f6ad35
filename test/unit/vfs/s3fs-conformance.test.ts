import { after, before } from 'node:test';
import { randomBytes } from 'node:crypto';
import { NO_STORAGE_METRICS } from '../../../src/metrics/storage';
import { s3Options } from '../../../src/vfs/s3/config';
import { S3Fs } from '../../../src/vfs/s3/s3fs';
import { s3config, startS3rver, type TestS3 } from '../../support/s3rver';
import { runConformance } from '../../support/vfs-conformance';

let s3: TestS3;
before(async () => { s3 = await startS3rver(); });
after(async () => { await s3.stop(); });

// every case gets its own key prefix: a fresh, empty root in the same bucket;
// 5 MiB parts (S3's minimum) so the big files are multipart uploads and multi-window reads
runConformance('s3', async () => {
  const prefix = `case-${randomBytes(6).toString('hex')}/`;
  const opts = s3Options(s3config(s3, { key_prefix: prefix, upload_part_size: 5, download_part_size: 5, upload_concurrency: 2 }));
  const fs = new S3Fs(opts, { decrypt: async (s) => s.payload ?? '', metrics: NO_STORAGE_METRICS, renameMode: 1, warn: () => undefined });
  return { fs, cleanup: async () => undefined };
}, { big: 11 * 1024 * 1024 + 4321 });
