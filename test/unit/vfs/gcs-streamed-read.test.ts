/**
 * GCS streamed reads against the GCS JSON-API test server: GETs counted at
 * the server, the generation pin checked by replacing the object mid-read.
 */
import { after, before } from 'node:test';
import { randomBytes } from 'node:crypto';
import { NO_STORAGE_METRICS } from '../../../src/metrics/storage';
import { gcsOptions } from '../../../src/vfs/gcs/config';
import { GcsFs } from '../../../src/vfs/gcs/gcsfs';
import { gcsconfig, startGcsServer, type TestGcs } from '../../support/gcs-server';
import { streamedReadCases, type StreamedReadTarget } from '../../support/streamed-read-cases';

let gcs: TestGcs;
let target: StreamedReadTarget;
let generation = 1_000_000;

before(async () => {
  gcs = await startGcsServer();
  const prefix = `streamed-${randomBytes(4).toString('hex')}/`;
  const fs = new GcsFs(gcsOptions(gcsconfig(gcs, { key_prefix: prefix })), {
    decrypt: async (s) => s.payload ?? '', metrics: NO_STORAGE_METRICS, renameMode: 1, warn: () => undefined, apiEndpoint: gcs.endpoint,
  });
  const key = (p: string): string => prefix + p.slice(1);
  target = {
    fs,
    partSize: 5 * 1024 * 1024,
    put: async (p, data) => {
      // a new generation, as an upload by another client makes
      gcs.objects.set(key(p), { data, contentType: 'application/octet-stream', updated: new Date(), generation: generation++ });
    },
    gets: (p) => gcs.mediaGets.filter((g) => g.name === key(p)).map((g) => g.range),
    inFlight: () => gcs.mediaInFlight,
  };
});
after(async () => { await gcs?.stop(); });

streamedReadCases('gcs', () => target);
