import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { FsError } from '../../../src/common/errors';
import { Registry } from 'prom-client';
import { createStorageMetrics, NO_STORAGE_METRICS } from '../../../src/metrics/storage';
import { azBlobOptions } from '../../../src/vfs/azblob/config';
import { AzBlobFs } from '../../../src/vfs/azblob/azblobfs';
import { AZURITE_ACCOUNT, AZURITE_KEY, azblobconfig, startAzurite, type TestAzurite } from '../../support/azurite';
import { listNames, readFile, runConformance, writeFile } from '../../support/vfs-conformance';

let az: TestAzurite;
before(async () => { az = await startAzurite(); });
after(async () => { await az?.stop(); });

function makeFs(extra: Record<string, unknown>, warn: (m: string) => void = () => undefined): AzBlobFs {
  return new AzBlobFs(azBlobOptions(azblobconfig(az, extra)), { decrypt: async (s) => s.payload ?? '', metrics: NO_STORAGE_METRICS, renameMode: 1, warn });
}

function rawContainer(): ContainerClient {
  return new ContainerClient(`${az.endpoint}/${AZURITE_ACCOUNT}/${az.container}`, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
}

// every case gets its own key prefix; 1 MiB blocks so the big files are block uploads and multi-window reads
runConformance('azblob', async () => {
  const fs = makeFs({ key_prefix: `case-${randomBytes(6).toString('hex')}/`, upload_part_size: 1, download_part_size: 1, upload_concurrency: 2 });
  return { fs, cleanup: async () => undefined };
}, { big: 3 * 1024 * 1024 + 4321 });

test('azblob: directories are SFTPGo markers (blob named like the dir, hdi_isfolder); an aborted block upload commits nothing', async () => {
  const prefix = `model-${randomBytes(4).toString('hex')}/`;
  const fs = makeFs({ key_prefix: prefix, upload_part_size: 1, upload_concurrency: 2 });
  await fs.mkdir('/dir');
  const marker = await rawContainer().getBlobClient(`${prefix}dir`).getProperties();
  assert.equal(marker.contentType, 'application/x-directory');
  assert.equal(marker.metadata?.hdi_isfolder, 'true');
  // a directory made by another tool as a bare prefix is listed and stat'ed as a directory
  await rawContainer().getBlockBlobClient(`${prefix}bare/inner.txt`).upload(Buffer.from('x'), 1);
  const names = await listNames(fs, '/');
  assert.equal(names.get('bare')?.isDirectory, true);
  assert.equal(names.get('dir')?.isDirectory, true);
  // 3.5 blocks written then aborted: blocks were staged, the blob does not exist
  const w = await fs.openWrite('/dir/big', { create: true, truncate: true, append: false, exclusive: false, read: false });
  const data = randomBytes(3.5 * 1024 * 1024);
  await w.writeAt(data, 0);
  await w.abort(new FsError('Aborted'));
  await assert.rejects(rawContainer().getBlobClient(`${prefix}dir/big`).getProperties(), (e: { statusCode?: number }) => e.statusCode === 404);
  await writeFile(fs, '/dir/big', data, 300 * 1024);
  const blocks = await rawContainer().getBlockBlobClient(`${prefix}dir/big`).getBlockList('committed');
  assert.equal(blocks.committedBlocks?.length, 4);
});

test('azblob: a backend that is down fails fast with a log line, never hangs', async () => {
  const warnings: string[] = [];
  const fs = new AzBlobFs(azBlobOptions({ ...azblobconfig(az), endpoint: 'http://127.0.0.1:1' }), {
    decrypt: async (s) => s.payload ?? '', metrics: NO_STORAGE_METRICS, renameMode: 1, warn: (m) => warnings.push(m),
  });
  await assert.rejects(fs.stat('/x'), (e: unknown) => e instanceof FsError && e.kind === 'Unavailable');
  assert.ok(warnings.some((w) => w.includes('azblob head')), warnings.join('\n'));
});

test('azblob: uploads, downloads and requests are counted in sftpgo_az_* (SFTPGo names)', async () => {
  const registry = new Registry();
  const metrics = createStorageMetrics(registry, ['s3', 'gcs', 'az']);
  const fs = new AzBlobFs(azBlobOptions(azblobconfig(az, { key_prefix: `metrics-${randomBytes(4).toString('hex')}/` })), {
    decrypt: async (s) => s.payload ?? '', metrics, renameMode: 1, warn: () => undefined,
  });
  await writeFile(fs, '/m.bin', randomBytes(1000));
  assert.equal((await readFile(fs, '/m.bin')).length, 1000);
  const text = await registry.metrics();
  assert.match(text, /^sftpgo_az_uploads_total 1$/m);
  assert.match(text, /^sftpgo_az_upload_size 1000$/m);
  assert.match(text, /^sftpgo_az_downloads_total 1$/m);
  assert.match(text, /^sftpgo_az_head_object [1-9]/m);
  assert.match(text, /^sftpgo_gcs_uploads_total 0$/m);
});
