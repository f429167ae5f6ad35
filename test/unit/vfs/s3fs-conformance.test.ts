import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { NO_STORAGE_METRICS } from '../../../src/metrics/storage';
import { s3Options } from '../../../src/vfs/s3/config';
import { S3Fs } from '../../../src/vfs/s3/s3fs';
import { s3config, startS3rver, type TestS3 } from '../../support/s3rver';
import { runConformance, writeFile } from '../../support/vfs-conformance';

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

// reused window buffers must never change under a reader: concurrent random
// and sequential reads of one handle, every byte checked
test('s3 reads: concurrent random and sequential reads over pooled windows return the right bytes', async () => {
  const opts = s3Options(s3config(s3, { key_prefix: `pool-${randomBytes(4).toString('hex')}/`, download_part_size: 5, download_concurrency: 2 }));
  const fs = new S3Fs(opts, { decrypt: async (s) => s.payload ?? '', metrics: NO_STORAGE_METRICS, renameMode: 1, warn: () => undefined });
  try {
    const data = randomBytes(23 * 1024 * 1024 + 99);
    await writeFile(fs, '/r.bin', data, 1024 * 1024);
    const r = await fs.openRead('/r.bin');
    try {
      const check = async (pos: number, len: number): Promise<void> => {
        const b = Buffer.alloc(len);
        const n = await r.readAt(b, 0, len, pos);
        assert.equal(n, Math.max(Math.min(len, data.length - pos), 0));
        assert.ok(b.subarray(0, n).equals(data.subarray(pos, pos + n)), `bytes at ${pos}+${len}`);
      };
      const sequential = (async () => {
        for (let pos = 0; pos < data.length; pos += 255 * 1024) await check(pos, 255 * 1024);
      })();
      const random = Array.from({ length: 96 }, (_, i) => check(Math.floor(((i * 7919) % 97) / 97 * data.length), 1 + ((i * 104729) % (300 * 1024))));
      await Promise.all([sequential, ...random]);
    } finally {
      await r.close();
    }
  } finally {
    await fs.close();
  }
});
