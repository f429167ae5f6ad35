/**
 * GCS streamed reads against the GCS JSON-API test server: GETs counted at
 * the server, the generation pin checked by replacing the object mid-read.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { FsError } from '../../../src/common/errors';
import { NO_STORAGE_METRICS } from '../../../src/metrics/storage';
import { gcsOptions } from '../../../src/vfs/gcs/config';
import { GcsFs } from '../../../src/vfs/gcs/gcsfs';
import { gcsconfig, startGcsServer, type TestGcs } from '../../support/gcs-server';
import { allClosed, pipelinedRead, streamedReadCases, type StreamedReadTarget } from '../../support/streamed-read-cases';

const MB = 1024 * 1024;

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

test('gcs: a file closed in the middle of its GETs leaves the other reads of the process alone', { timeout: 60_000 }, async () => {
  const a = randomBytes(24 * MB);
  const b = randomBytes(64 * MB);
  await target.put('/a.bin', a);
  await target.put('/b.bin', b);
  const hb = await target.fs.openRead('/b.bin');
  const reading = pipelinedRead(hb);
  // B has its GET going; A opens, starts its read-ahead and closes with it in flight, several times
  for (let i = 0; i < 5; i++) {
    const ha = await target.fs.openRead('/a.bin');
    const head = Buffer.alloc(64 * 1024);
    assert.equal(await ha.readAt(head, 0, head.length, 0), head.length);
    await ha.close();
  }
  const got = await reading;
  await hb.close();
  assert.ok(got.equals(b), 'B is byte exact');
  // the SDK's stream destroyed its shared agent on such a close: B's GET died with A's
  const gets = target.gets('/b.bin');
  assert.equal(gets.length, 1, gets.join(', '));
  await allClosed(target);
});

test('gcs: a media GET answered 503 is retried (3 attempts), then fails as Unavailable', { timeout: 60_000 }, async () => {
  const data = randomBytes(MB + 5);
  await target.put('/flaky.bin', data);
  const h = await target.fs.openRead('/flaky.bin');
  gcs.failMedia.next = 2;
  const got = await pipelinedRead(h);
  assert.ok(got.equals(data));
  assert.equal(target.gets('/flaky.bin').length, 3, 'two 503s then the body');
  await h.close();
  const again = await target.fs.openRead('/flaky.bin');
  gcs.failMedia.next = 3;
  await assert.rejects(again.readAt(Buffer.alloc(10), 0, 10, 0), (e: unknown) => e instanceof FsError && e.kind === 'Unavailable');
  assert.equal(gcs.failMedia.next, 0);
  await again.close();
});
