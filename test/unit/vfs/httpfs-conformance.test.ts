import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { createServer, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { FsError } from '../../../src/common/errors';
import { Registry } from 'prom-client';
import { createStorageMetrics, NO_STORAGE_METRICS } from '../../../src/metrics/storage';
import { httpFsOptions } from '../../../src/vfs/httpfs/config';
import { HttpFs } from '../../../src/vfs/httpfs/httpfs';
import type { WriteHandle } from '../../../src/vfs/fs';
import { freePort } from '../../support/net';
import { startHttpFsServer } from '../../support/httpfs-server';
import { makePki, type TestPki } from '../../support/tlscerts';
import { listNames, readFile, runConformance, writeFile } from '../../support/vfs-conformance';

const warnings: string[] = [];
const plain = (payload: string): Record<string, string> => ({ status: 'Plain', payload });

function makeFs(endpoint: string, extra: Record<string, unknown> = {}, timeoutMs?: number): HttpFs {
  return new HttpFs(httpFsOptions({ endpoint, username: 'svc', password: plain('svc-secret'), api_key: plain('key-1'), ...extra }), {
    decrypt: async (s) => s.payload ?? '', metrics: NO_STORAGE_METRICS, warn: (m) => warnings.push(m), ...(timeoutMs ? { timeoutMs } : {}),
  });
}

const auth = { username: 'svc', password: 'svc-secret', apiKey: 'key-1' };

runConformance('httpfs', async () => {
  const srv = await startHttpFsServer(auth);
  return { fs: makeFs(srv.endpoint), cleanup: () => srv.stop() };
}, { big: 3 * 1024 * 1024 + 4321 });

let work: string;
let pki: TestPki;
before(async () => {
  work = await fsp.mkdtemp(path.join(os.tmpdir(), 'httpfs-unit-'));
  pki = await makePki(path.join(work, 'pki'), ['c']);
});
after(async () => { await fsp.rm(work, { recursive: true, force: true }); });

/** Writes 64 chunks and closes; returns what failed (the handle aborted), or undefined for a success. */
async function uploadError(w: WriteHandle, chunk: Buffer): Promise<unknown> {
  try {
    for (let i = 0; i < 64; i++) await w.writeAt(chunk, i * chunk.length);
    await w.close();
    return undefined;
  } catch (e) {
    await w.abort(e as Error);
    return e;
  }
}

const kindIs = (kind: string, re?: RegExp) => (e: unknown): boolean => e instanceof FsError && e.kind === kind && (!re || re.test(e.message));

test('httpfs wire: the service sees path-escaped names, Go flags and modes, RFC 3339 times; attributes land on disk', async () => {
  const srv = await startHttpFsServer(auth);
  const fs = makeFs(srv.endpoint);
  try {
    await fs.mkdir('/a dir');
    await writeFile(fs, '/a dir/f?#%.txt', Buffer.from('odd name'));
    assert.equal(await fsp.readFile(path.join(srv.root, 'a dir', 'f?#%.txt'), 'utf8'), 'odd name');
    assert.ok(srv.requests.includes('POST create /a dir/f?#%.txt?flags=577&checks=1'), srv.requests.join('\n'));
    await fs.setStat('/a dir/f?#%.txt', { mode: 0o4640 });
    assert.equal((await fsp.stat(path.join(srv.root, 'a dir', 'f?#%.txt'))).mode & 0o7777, 0o4640);
    const st = await fs.stat('/a dir/f?#%.txt');
    assert.equal(st.mode, 0o104640);
    assert.equal((await fs.stat('/a dir')).mode & 0o170000, 0o040000);
    await fs.setStat('/a dir/f?#%.txt', { size: 3 });
    assert.equal((await readFile(fs, '/a dir/f?#%.txt')).toString(), 'odd');
    await fs.setStat('/a dir/f?#%.txt', { mtime: new Date('2023-05-06T07:08:09.750Z') });
    assert.ok(srv.requests.some((r) => r.includes('chtimes') && r.includes('modification_time=2023-05-06T07%3A08%3A09Z')), srv.requests.join('\n'));
    assert.equal((await fsp.stat(path.join(srv.root, 'a dir', 'f?#%.txt'))).mtime.toISOString(), '2023-05-06T07:08:09.000Z');
    await assert.rejects(fs.setStat('/a dir/f?#%.txt', { uid: 1 }), kindIs('Unsupported'));
    const vfs = await fs.statvfs('/');
    assert.ok(vfs.bsize > 0 && vfs.blocks > 0 && vfs.namemax === 255, JSON.stringify(vfs));
    // a missing parent fails the open itself; an upload over an existing file cannot resume
    await assert.rejects(fs.openWrite('/nodir/x', { create: true, truncate: true, append: false, exclusive: false, read: false }), kindIs('NotFound'));
    await assert.rejects(fs.openWrite('/a dir/f?#%.txt', { create: true, truncate: false, append: false, exclusive: false, read: false }), kindIs('Unsupported'));
    // closing the backend lets go of its keep-alive connections
    await fs.close();
    await srv.idle();
  } finally {
    await fs.close();
    await srv.stop();
  }
});

test('httpfs: a download reuses one stream for sequential reads and reopens at an offset for a jump', async () => {
  const srv = await startHttpFsServer(auth);
  const fs = makeFs(srv.endpoint);
  try {
    const data = randomBytes(5 * 1024 * 1024);
    await writeFile(fs, '/big', data);
    const r = await fs.openRead('/big');
    const buf = Buffer.alloc(32 * 1024);
    // pipelined like an SFTP client: many reads in flight at once
    const reads = [];
    for (let off = 0; off < 2 * 1024 * 1024; off += buf.length) reads.push(r.readAt(Buffer.alloc(buf.length), 0, buf.length, off).then((n) => ({ n, off })));
    for (const { n } of await Promise.all(reads)) assert.equal(n, buf.length);
    // slightly behind the stream: served from the kept bytes
    assert.equal(await r.readAt(buf, 0, 1000, 2 * 1024 * 1024 - 5000), 1000);
    assert.ok(buf.subarray(0, 1000).equals(data.subarray(2 * 1024 * 1024 - 5000, 2 * 1024 * 1024 - 4000)));
    assert.equal(srv.requests.filter((q) => q.startsWith('GET open')).length, 1, srv.requests.join('\n'));
    assert.equal(await r.readAt(buf, 0, 1000, 4 * 1024 * 1024 + 3), 1000);
    assert.ok(buf.subarray(0, 1000).equals(data.subarray(4 * 1024 * 1024 + 3, 4 * 1024 * 1024 + 1003)));
    assert.ok(srv.requests.includes(`GET open /big?offset=${4 * 1024 * 1024 + 3}`), srv.requests.join('\n'));
    await r.close();
    await assert.rejects(r.readAt(buf, 0, 10, 0), kindIs('Aborted'));
  } finally {
    await fs.close();
    await srv.stop();
  }
});

test('httpfs over a UNIX domain socket (http://unix?socket_path=...&api_prefix=...)', async () => {
  const srv = await startHttpFsServer({ ...auth, socketPath: path.join(work, 'httpfs.sock'), basePath: '/api/v2' });
  const fs = makeFs(srv.endpoint);
  try {
    assert.match(srv.endpoint, /^http:\/\/unix\?socket_path=/);
    await fs.mkdir('/d');
    await writeFile(fs, '/d/x', Buffer.from('over the socket'));
    assert.deepEqual([...(await listNames(fs, '/d')).keys()], ['x']);
    assert.equal((await readFile(fs, '/d/x')).toString(), 'over the socket');
  } finally {
    await fs.close();
    await srv.stop();
  }
});

test('httpfs over TLS: a self-signed service is refused unless skip_tls_verify', async () => {
  const tls = { cert: await fsp.readFile(pki.serverCert, 'utf8'), key: await fsp.readFile(pki.serverKey, 'utf8') };
  const srv = await startHttpFsServer({ ...auth, tls });
  const strict = makeFs(srv.endpoint);
  const relaxed = makeFs(srv.endpoint, { skip_tls_verify: true });
  try {
    await assert.rejects(strict.stat('/'), kindIs('Generic', /certificate/));
    assert.ok(warnings.some((w) => /certificate/.test(w)));
    assert.equal((await relaxed.stat('/')).isDirectory, true);
    await writeFile(relaxed, '/t', Buffer.from('tls'));
    assert.equal((await readFile(relaxed, '/t')).toString(), 'tls');
  } finally {
    await strict.close();
    await relaxed.close();
    await srv.stop();
  }
  // https over a UNIX socket: TLS on the socket itself
  const sock = await startHttpFsServer({ ...auth, tls, socketPath: path.join(work, 'tls.sock') });
  const viaSocket = makeFs(sock.endpoint, { skip_tls_verify: true });
  try {
    assert.match(sock.endpoint, /^https:\/\/unix\?/);
    await writeFile(viaSocket, '/s', Buffer.from('tls on a socket'));
    assert.equal((await readFile(viaSocket, '/s')).toString(), 'tls on a socket');
  } finally {
    await viaSocket.close();
    await sock.stop();
  }
});

test('httpfs: wrong credentials are permission denied; the secrets never reach the log', async () => {
  const srv = await startHttpFsServer(auth);
  const wrongPassword = makeFs(srv.endpoint, { password: plain('nope') });
  const wrongKey = makeFs(srv.endpoint, { api_key: plain('other-key') });
  try {
    warnings.length = 0;
    await assert.rejects(wrongPassword.stat('/'), kindIs('PermissionDenied'));
    await assert.rejects(wrongKey.readDir('/')[Symbol.asyncIterator]().next(), kindIs('PermissionDenied'));
    assert.ok(warnings.some((w) => /response code 401/.test(w)), warnings.join('\n'));
    assert.ok(!warnings.join('\n').includes('svc-secret') && !warnings.join('\n').includes('key-1'));
  } finally {
    await wrongPassword.close();
    await wrongKey.close();
    await srv.stop();
  }
});

test('httpfs: a service that is down fails at once with a log line; one that never answers fails at the timeout', async () => {
  const down = makeFs(`http://127.0.0.1:${await freePort()}/api/v1`);
  warnings.length = 0;
  await assert.rejects(down.stat('/x'), kindIs('Unavailable', /ECONNREFUSED/));
  assert.ok(warnings.some((w) => w.includes('ECONNREFUSED')), warnings.join('\n'));
  await down.close();
  const sockets = new Set<Socket>();
  const silent = createServer((s) => { sockets.add(s); s.on('error', () => undefined); });
  silent.listen(0, '127.0.0.1');
  await new Promise((r) => silent.once('listening', r));
  const port = (silent.address() as { port: number }).port;
  const hung = makeFs(`http://127.0.0.1:${port}/api/v1`, {}, 300);
  try {
    await assert.rejects(hung.stat('/x'), kindIs('Unavailable', /within 300 ms/));
    await assert.rejects(hung.openRead('/x'), kindIs('Unavailable'));
    await assert.rejects(hung.openWrite('/y', { create: true, truncate: true, append: false, exclusive: false, read: false }), kindIs('Unavailable'));
  } finally {
    await hung.close();
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  }
});

test('httpfs: an upload refused by the service mid-body fails the write or the close, never reports success', async () => {
  const srv = await startHttpFsServer(auth);
  const fs = makeFs(srv.endpoint);
  try {
    await fs.mkdir('/d');
    const w = await fs.openWrite('/d/f', { create: true, truncate: true, append: false, exclusive: false, read: false });
    // the directory vanishes under the upload: the service answers 404 to the create
    await fsp.rm(path.join(srv.root, 'd'), { recursive: true });
    const failed = await uploadError(w, randomBytes(256 * 1024));
    assert.ok(failed instanceof FsError && failed.kind === 'NotFound', String(failed));
  } finally {
    await fs.close();
    await srv.stop();
  }
});

test('httpfs: a download whose service stops sending, and an upload whose service stops reading, fail at the timeout', async () => {
  const held: ServerResponse[] = [];
  // answers stat, then stalls: a download after 10 bytes, an upload without reading its body
  const stalling = createHttpServer((req, res) => {
    if (req.url?.includes('/stat/')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ name: 'f', size: 1024 * 1024, mode: 420, last_modified: new Date().toISOString() }));
      return;
    }
    held.push(res);
    if (req.url?.includes('/open/')) { res.writeHead(200, { 'content-type': 'application/octet-stream' }); res.write(Buffer.alloc(10, 7)); return; }
    req.pause();
  });
  stalling.listen(0, '127.0.0.1');
  await new Promise((r) => stalling.once('listening', r));
  const fs = makeFs(`http://127.0.0.1:${(stalling.address() as { port: number }).port}/api/v1`, {}, 300);
  try {
    warnings.length = 0;
    const r = await fs.openRead('/f');
    const buf = Buffer.alloc(100);
    await assert.rejects(r.readAt(buf, 0, 100, 0), kindIs('Unavailable', /no data within 300 ms/));
    assert.deepEqual([...buf.subarray(0, 10)], Array(10).fill(7));
    await r.close();
    const w = await fs.openWrite('/g', { create: true, truncate: true, append: false, exclusive: false, read: false });
    await assert.rejects(w.writeAt(Buffer.alloc(16 * 1024 * 1024), 0), kindIs('Unavailable', /took no data for 300 ms/));
    await w.abort(new FsError('Aborted'));
    assert.ok(warnings.some((m) => /no data within/.test(m)) && warnings.some((m) => /took no data/.test(m)), warnings.join('\n'));
  } finally {
    await fs.close();
    for (const res of held) res.destroy();
    stalling.closeAllConnections();
    await new Promise((r) => stalling.close(r));
  }
});

test('httpfs metrics: sftpgo_httpfs_* transfer counters as SFTPGo names them, no object-store request counters', async () => {
  const srv = await startHttpFsServer(auth);
  const registry = new Registry();
  const fs = new HttpFs(httpFsOptions({ endpoint: srv.endpoint, username: 'svc', password: plain('svc-secret'), api_key: plain('key-1') }), {
    decrypt: async (s) => s.payload ?? '', metrics: createStorageMetrics(registry, ['httpfs']), warn: () => undefined,
  });
  try {
    await writeFile(fs, '/m', Buffer.alloc(1000, 1));
    assert.equal((await readFile(fs, '/m')).length, 1000);
    const w = await fs.openWrite('/n', { create: true, truncate: true, append: false, exclusive: false, read: false });
    await w.writeAt(Buffer.alloc(10), 0);
    await w.abort(new FsError('Aborted'));
    const text = await registry.metrics();
    const value = (name: string): number => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
    assert.equal(value('sftpgo_httpfs_uploads_total'), 1);
    assert.equal(value('sftpgo_httpfs_upload_errors_total'), 1);
    assert.equal(value('sftpgo_httpfs_upload_size'), 1010);
    assert.equal(value('sftpgo_httpfs_downloads_total'), 1);
    assert.equal(value('sftpgo_httpfs_download_size'), 1000);
    assert.ok(!text.includes('sftpgo_httpfs_list_objects'));
  } finally {
    await fs.close();
    await srv.stop();
  }
});

test('httpfs: a service that answers an upload with success before reading its body never makes it a success', async () => {
  // answers 201 at once, then drops the connection without reading the body
  const hasty = createHttpServer((req, res) => {
    if (req.url?.includes('/stat/')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not found"}');
      return;
    }
    res.writeHead(201, { 'content-type': 'application/json', connection: 'close' });
    res.end('{"message":"upload OK"}', () => req.socket.destroy());
  });
  hasty.listen(0, '127.0.0.1');
  await new Promise((r) => hasty.once('listening', r));
  const fs = makeFs(`http://127.0.0.1:${(hasty.address() as { port: number }).port}/api/v1`, {}, 2000);
  try {
    const w = await fs.openWrite('/f', { create: true, truncate: true, append: false, exclusive: false, read: false });
    const failed = await uploadError(w, Buffer.alloc(1024 * 1024, 3));
    // the early answer (Generic) or the dropped connection (Unavailable) may be seen first: either way a failure
    assert.ok(failed instanceof FsError && (failed.kind === 'Generic' || failed.kind === 'Unavailable'), `the upload must fail, got ${String(failed)}`);
  } finally {
    await fs.close();
    hasty.closeAllConnections();
    await new Promise((r) => hasty.close(r));
  }
});
