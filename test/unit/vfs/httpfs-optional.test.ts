/**
 * The HTTPFs contract's optional endpoints (SFTPGo openapi/httpfs.yaml):
 * `dirsize` behind Fs.dirSize and `mimetype` behind Fs.mimeType, against the
 * test service (test/support/httpfs-server.ts) and, for malformed answers, a
 * bare HTTP server; errors map like every other call (404 NotFound, 501
 * Unsupported, 502/503 Unavailable, 403 PermissionDenied, refused
 * connection Unavailable). The quota scan's decision point (fsUsage) asks
 * dirsize once and walks only when the service cannot answer it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { promises as fsp } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { FsError } from '../../../src/common/errors';
import { fsUsage } from '../../../src/common/backend-usage';
import { NO_STORAGE_METRICS } from '../../../src/metrics/storage';
import { httpFsOptions } from '../../../src/vfs/httpfs/config';
import { HttpFs } from '../../../src/vfs/httpfs/httpfs';
import { freePort } from '../../support/net';
import { startHttpFsServer, type HttpFsServerOptions, type TestHttpFs } from '../../support/httpfs-server';

const kindIs = (kind: string, re?: RegExp) => (e: unknown): boolean => e instanceof FsError && e.kind === kind && (!re || re.test(e.message));

function makeFs(endpoint: string, warnings: string[] = []): HttpFs {
  return new HttpFs(httpFsOptions({ endpoint, api_key: { status: 'Plain', payload: 'k' } }), {
    decrypt: async (s) => s.payload ?? '', metrics: NO_STORAGE_METRICS, warn: (m) => warnings.push(m),
  });
}

/** A service holding /a.bin (1000 bytes), /sub/b.bin (234), /sub/deeper/c.pdfish (a PDF) and /notes.zz9 (text). */
async function withService(opts: HttpFsServerOptions, fn: (srv: TestHttpFs, fs: HttpFs, warnings: string[]) => Promise<void>): Promise<void> {
  const srv = await startHttpFsServer({ apiKey: 'k', ...opts });
  const warnings: string[] = [];
  const fs = makeFs(srv.endpoint, warnings);
  try {
    await fsp.mkdir(path.join(srv.root, 'sub', 'deeper'), { recursive: true });
    await fsp.writeFile(path.join(srv.root, 'a.bin'), Buffer.alloc(1000));
    await fsp.writeFile(path.join(srv.root, 'sub', 'b.bin'), Buffer.alloc(234));
    await fsp.writeFile(path.join(srv.root, 'sub', 'deeper', 'c.pdfish'), '%PDF-1.7 not really');
    await fsp.writeFile(path.join(srv.root, 'notes.zz9'), 'plain words\n');
    await fn(srv, fs, warnings);
  } finally {
    await fs.close();
    await srv.stop();
  }
}

const calls = (srv: TestHttpFs, op: string): string[] => srv.requests.filter((r) => r.startsWith(`GET ${op} `));

test('httpfs dirSize: the service counts recursively, one call; a missing directory is NotFound', async () => {
  await withService({}, async (srv, fs) => {
    const total = 1000 + 234 + '%PDF-1.7 not really'.length + 'plain words\n'.length;
    assert.deepEqual(await fs.dirSize('/'), { files: 4, size: total });
    assert.deepEqual(await fs.dirSize('/sub'), { files: 2, size: 234 + '%PDF-1.7 not really'.length });
    assert.deepEqual(calls(srv, 'dirsize'), ['GET dirsize /', 'GET dirsize /sub']);
    await assert.rejects(fs.dirSize('/nope'), kindIs('NotFound'));
    await assert.rejects(fs.dirSize('/../x'), kindIs('InvalidPath'));
  });
});

test('httpfs mimeType: the service\'s own type (content sniffed), not an extension guess; a missing file is NotFound', async () => {
  await withService({}, async (srv, fs) => {
    assert.equal(await fs.mimeType('/sub/deeper/c.pdfish'), 'application/pdf');
    assert.equal(await fs.mimeType('/notes.zz9'), 'text/plain; charset=utf-8');
    assert.deepEqual(calls(srv, 'mimetype'), ['GET mimetype /sub/deeper/c.pdfish', 'GET mimetype /notes.zz9']);
    await assert.rejects(fs.mimeType('/missing.zz9'), kindIs('NotFound'));
  });
});

test('httpfs optional endpoints: a 501 is Unsupported, logged once and not asked again by the instance', async () => {
  await withService({ answer: { dirsize: 501, mimetype: 501 } }, async (srv, fs, warnings) => {
    for (let i = 0; i < 3; i++) {
      await assert.rejects(fs.dirSize('/'), kindIs('Unsupported'));
      await assert.rejects(fs.mimeType('/notes.zz9'), kindIs('Unsupported'));
    }
    assert.equal(calls(srv, 'dirsize').length, 1);
    assert.equal(calls(srv, 'mimetype').length, 1);
    assert.equal(warnings.filter((w) => /does not implement dirsize \(501\): quota scans walk/.test(w)).length, 1, warnings.join('\n'));
    assert.equal(warnings.filter((w) => /does not implement mimetype \(501\): content types come from file extensions/.test(w)).length, 1, warnings.join('\n'));
  });
});

test('httpfs optional endpoints: service failures map as the other calls (503/502 Unavailable, 500 Generic, 403 PermissionDenied)', async () => {
  for (const [status, kind] of [[503, 'Unavailable'], [502, 'Unavailable'], [500, 'Generic'], [403, 'PermissionDenied'], [404, 'NotFound']] as const) {
    await withService({ answer: { dirsize: status, mimetype: status } }, async (srv, fs, warnings) => {
      await assert.rejects(fs.dirSize('/'), kindIs(kind), `dirsize ${status}`);
      await assert.rejects(fs.mimeType('/notes.zz9'), kindIs(kind), `mimetype ${status}`);
      // only a 501 is remembered: the next call asks again
      await assert.rejects(fs.dirSize('/'), kindIs(kind));
      assert.equal(calls(srv, 'dirsize').length, 2);
      if (status !== 404) assert.ok(warnings.some((w) => w.includes(`dirsize /: response code ${status}`)), warnings.join('\n'));
    });
  }
});

test('httpfs optional endpoints: a refused connection is Unavailable', async () => {
  const fs = makeFs(`http://127.0.0.1:${await freePort()}/api/v1`);
  try {
    await assert.rejects(fs.dirSize('/'), kindIs('Unavailable', /ECONNREFUSED/));
    await assert.rejects(fs.mimeType('/f.zz9'), kindIs('Unavailable', /ECONNREFUSED/));
  } finally {
    await fs.close();
  }
});

/** A bare service answering every request 200 with `body`. */
async function answering(body: string): Promise<{ server: Server; endpoint: string }> {
  const server = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(body); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  return { server, endpoint: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/api/v1` };
}

test('httpfs optional endpoints: a malformed answer is an error, never a zero count or an empty type taken as given', async () => {
  const cases: [string, (fs: HttpFs) => Promise<unknown>, RegExp][] = [
    ['{"files":"3","size":10}', (fs) => fs.dirSize('/'), /"files" is not a count/],
    ['{"files":3,"size":-1}', (fs) => fs.dirSize('/'), /"size" is not a count/],
    ['{"files":3}', (fs) => fs.dirSize('/'), /"size" is not a count/],
    ['[1,2]', (fs) => fs.dirSize('/'), /not a JSON object/],
    ['not json', (fs) => fs.mimeType('/f'), /not valid JSON/],
  ];
  for (const [body, call, re] of cases) {
    const { server, endpoint } = await answering(body);
    const fs = makeFs(endpoint);
    try {
      await assert.rejects(call(fs), kindIs('Generic', re), body);
    } finally {
      await fs.close();
      server.close();
    }
  }
  // no "mime" field: the service has no type for the file
  const { server, endpoint } = await answering('{"other":1}');
  const fs = makeFs(endpoint);
  try {
    assert.equal(await fs.mimeType('/f'), '');
  } finally {
    await fs.close();
    server.close();
  }
});

test('fsUsage: a backend with dirSize is asked once instead of walked', async () => {
  await withService({}, async (srv, fs) => {
    const logs: string[] = [];
    const total = 1000 + 234 + '%PDF-1.7 not really'.length + 'plain words\n'.length;
    assert.deepEqual(await fsUsage(fs, [], () => false, (m) => logs.push(m)), { size: total, files: 4 });
    assert.deepEqual(calls(srv, 'dirsize'), ['GET dirsize /']);
    assert.deepEqual(calls(srv, 'readdir'), []);
    assert.deepEqual(logs, []);
  });
});

test('fsUsage: a service without dirsize (501) or answering 404 on it is walked, with a log line; a failing one fails the scan', async () => {
  for (const status of [501, 404]) {
    await withService({ answer: { dirsize: status } }, async (srv, fs) => {
      const logs: string[] = [];
      const total = 1000 + 234 + '%PDF-1.7 not really'.length + 'plain words\n'.length;
      assert.deepEqual(await fsUsage(fs, [], () => false, (m) => logs.push(m)), { size: total, files: 4 });
      assert.ok(calls(srv, 'readdir').includes('GET readdir /sub/deeper'), srv.requests.join('\n'));
      assert.equal(logs.length, 1, logs.join('\n'));
      assert.match(logs[0] ?? '', new RegExp(`httpfs .*response code ${status}.*: walking it`));
    });
  }
  await withService({ answer: { dirsize: 503 } }, async (srv, fs) => {
    await assert.rejects(fsUsage(fs), kindIs('Unavailable'));
    assert.deepEqual(calls(srv, 'readdir'), [], 'a service that is down is not walked either');
  });
});
