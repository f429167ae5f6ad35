/**
 * Azure Blob streamed reads against azurite (telemetry off), the GETs counted
 * by a proxy in front of it; the etag pin checked by replacing the blob mid-read.
 */
import { after, before } from 'node:test';
import { randomBytes } from 'node:crypto';
import { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { NO_STORAGE_METRICS } from '../../../src/metrics/storage';
import { azBlobOptions } from '../../../src/vfs/azblob/config';
import { AzBlobFs } from '../../../src/vfs/azblob/azblobfs';
import { AZURITE_ACCOUNT, AZURITE_KEY, azblobconfig, startAzurite, type TestAzurite } from '../../support/azurite';
import { startCountingProxy, type CountingProxy } from '../../support/counting-proxy';
import { streamedReadCases, type StreamedReadTarget } from '../../support/streamed-read-cases';

let az: TestAzurite;
let proxy: CountingProxy;
let target: StreamedReadTarget;

before(async () => {
  az = await startAzurite();
  proxy = await startCountingProxy(az.endpoint);
  const prefix = `streamed-${randomBytes(4).toString('hex')}/`;
  // 1 MiB windows, 4 ahead: a 64 MiB read was 64 GETs
  const fs = new AzBlobFs(azBlobOptions(azblobconfig(az, { key_prefix: prefix, endpoint: proxy.endpoint, download_part_size: 1, download_concurrency: 4 })), {
    decrypt: async (s) => s.payload ?? '', metrics: NO_STORAGE_METRICS, renameMode: 1, warn: () => undefined,
  });
  const raw = new ContainerClient(`${az.endpoint}/${AZURITE_ACCOUNT}/${az.container}`, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
  const blobPath = (p: string): string => `/${AZURITE_ACCOUNT}/${az.container}/${prefix}${p.slice(1)}`;
  target = {
    fs,
    partSize: 1024 * 1024,
    // straight to azurite: not counted
    put: async (p, data) => { await raw.getBlockBlobClient(prefix + p.slice(1)).uploadData(data, { blockSize: 8 * 1024 * 1024 }); },
    gets: (p) => proxy.requests.filter((r) => r.method === 'GET' && r.path.split('?')[0] === blobPath(p)).map((r) => r.range ?? ''),
    inFlight: () => proxy.inFlight,
  };
});
after(async () => {
  await proxy?.stop();
  await az?.stop();
});

streamedReadCases('azblob', () => target);
