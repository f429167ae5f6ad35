import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { FsError } from '../../../src/common/errors';
import { NO_STORAGE_METRICS } from '../../../src/metrics/storage';
import { gcsOptions } from '../../../src/vfs/gcs/config';
import { GcsFs } from '../../../src/vfs/gcs/gcsfs';
import { gcsconfig, startGcsServer, type TestGcs } from '../../support/gcs-server';
import { freePort } from '../../support/net';
import { until } from '../../support/daemon';
import { listNames, runConformance, writeFile } from '../../support/vfs-conformance';

let gcs: TestGcs;
before(async () => { gcs = await startGcsServer(); });
after(async () => { await gcs?.stop(); });

function makeFs(extra: Record<string, unknown>, endpoint = gcs.endpoint, warn: (m: string) => void = () => undefined): GcsFs {
  return new GcsFs(gcsOptions(gcsconfig(gcs, extra)), {
    decrypt: async (s) => s.payload ?? '', metrics: NO_STORAGE_METRICS, renameMode: 1, warn, apiEndpoint: endpoint,
  });
}

// 1 MiB chunks (the resumable minimum is 256 KiB) so the big files are multi-chunk uploads
runConformance('gcs', async () => {
  const fs = makeFs({ key_prefix: `case-${randomBytes(6).toString('hex')}/`, upload_part_size: 1 });
  return { fs, cleanup: async () => undefined };
}, { big: 3 * 1024 * 1024 + 4321 });

test('gcs: directories are "dir/" objects; an aborted resumable upload never becomes an object, its session is cancelled', async () => {
  const prefix = `model-${randomBytes(4).toString('hex')}/`;
  const fs = makeFs({ key_prefix: prefix, upload_part_size: 1 });
  await fs.mkdir('/dir');
  assert.equal(gcs.objects.get(`${prefix}dir/`)?.contentType, 'application/x-directory');
  const w = await fs.openWrite('/dir/big', { create: true, truncate: true, append: false, exclusive: false, read: false });
  const data = randomBytes(2.5 * 1024 * 1024);
  await w.writeAt(data, 0);
  // the SDK opens the session and sends the first chunk on its own schedule
  await until('a resumable session holding chunks', async () => [...gcs.sessions.values()].some((s) => s.name === `${prefix}dir/big` && s.received > 0), 10_000);
  await w.abort(new FsError('Aborted'));
  assert.equal(gcs.objects.has(`${prefix}dir/big`), false);
  assert.ok(![...gcs.sessions.values()].some((s) => s.name === `${prefix}dir/big`), 'the session was cancelled');
  assert.ok(gcs.requests.some((r) => r.startsWith('DELETE /upload/storage/v1/b/')), 'by a DELETE of its URI');
  await writeFile(fs, '/dir/big', data, 300 * 1024);
  assert.ok(gcs.objects.get(`${prefix}dir/big`)?.data.equals(data));
  const chunks = gcs.requests.filter((r) => r.startsWith('PUT /upload/storage/v1/b/'));
  assert.ok(chunks.length >= 3, `resumable chunks were sent: ${chunks.length}`);
  assert.equal((await listNames(fs, '/')).get('dir')?.isDirectory, true);
});

test('gcs: a backend that is down fails fast with a log line, never hangs', async () => {
  const warnings: string[] = [];
  const fs = makeFs({}, `http://127.0.0.1:${await freePort()}`, (m) => warnings.push(m));
  await assert.rejects(fs.stat('/x'), (e: unknown) => e instanceof FsError && e.kind === 'Unavailable');
  assert.ok(warnings.some((w) => w.includes('gcs head')), warnings.join('\n'));
});
