/**
 * The `webdav` npm client (ESM, loaded with a dynamic import from this CJS
 * test) against the real service: content round trips with checksums,
 * listings, collection and file operations, stat and ranged downloads.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { startDav, type DavServer } from './harness';

type WebdavModule = typeof import('webdav');
type Client = ReturnType<WebdavModule['createClient']>;
// TypeScript (module nodenext) keeps import() as a real dynamic import in CJS output
const loadWebdav = (): Promise<WebdavModule> => import('webdav');

let srv: DavServer;
let client: Client;

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function toBuffer(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof ArrayBuffer) return Buffer.from(v);
  throw new Error(`unexpected content type ${typeof v}`);
}

async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

before(async () => {
  srv = await startDav();
  await srv.createUser({ username: 'bob', password: 'bob-pw' });
  const { createClient } = await loadWebdav();
  client = createClient(srv.url, { username: 'bob', password: 'bob-pw' });
});
after(async () => { await srv.stop(); });

test('putFileContents/getFileContents keep content (sha256), stat reports size and type', async () => {
  const data = randomBytes(300_000);
  assert.equal(await client.putFileContents('/blob.bin', data), true);
  const back = toBuffer(await client.getFileContents('/blob.bin', { format: 'binary' }));
  assert.equal(sha256(back), sha256(data));
  assert.equal(sha256(await fsp.readFile(path.join(srv.homeOf('bob'), 'blob.bin'))), sha256(data));
  const st = await client.stat('/blob.bin');
  assert.ok(!('data' in st));
  assert.equal(st.type, 'file');
  assert.equal(st.size, data.length);
  assert.equal(st.basename, 'blob.bin');
  // overwrite with different content
  const data2 = randomBytes(1234);
  await client.putFileContents('/blob.bin', data2, { overwrite: true });
  assert.equal(sha256(toBuffer(await client.getFileContents('/blob.bin'))), sha256(data2));
  // overwrite: false sends If-None-Match: * and reports the 412 as false
  assert.equal(await client.putFileContents('/blob.bin', data, { overwrite: false }), false);
  assert.equal(sha256(toBuffer(await client.getFileContents('/blob.bin'))), sha256(data2));
});

test('createDirectory, getDirectoryContents, copyFile, moveFile, deleteFile', async () => {
  await client.createDirectory('/docs');
  await client.createDirectory('/docs/deep/er', { recursive: true });
  await client.putFileContents('/docs/a.txt', 'alpha');
  await client.putFileContents('/docs/b ü.txt', 'beta');
  const list = await client.getDirectoryContents('/docs');
  assert.ok(Array.isArray(list));
  const names = list.map((e) => `${e.type}:${e.basename}`).sort();
  assert.deepEqual(names, ['directory:deep', 'file:a.txt', 'file:b ü.txt']);
  const a = list.find((e) => e.basename === 'a.txt');
  assert.equal(a?.size, 5);
  assert.equal(a?.filename, '/docs/a.txt');

  await client.copyFile('/docs/a.txt', '/docs/c.txt');
  assert.equal(await client.getFileContents('/docs/c.txt', { format: 'text' }), 'alpha');
  await client.copyFile('/docs', '/docs-copy');
  assert.equal(await client.getFileContents('/docs-copy/b ü.txt', { format: 'text' }), 'beta');
  assert.ok((await fsp.stat(path.join(srv.homeOf('bob'), 'docs-copy', 'deep', 'er'))).isDirectory());

  await client.moveFile('/docs/c.txt', '/moved.txt');
  assert.equal(await client.exists('/docs/c.txt'), false);
  assert.equal(await client.getFileContents('/moved.txt', { format: 'text' }), 'alpha');

  await client.deleteFile('/moved.txt');
  await client.deleteFile('/docs-copy');
  assert.equal(await client.exists('/moved.txt'), false);
  await assert.rejects(fsp.stat(path.join(srv.homeOf('bob'), 'docs-copy')));
  await assert.rejects(client.stat('/nope'), /404/);
});

test('partial download with a byte range', async () => {
  const data = randomBytes(64 * 1024);
  await client.putFileContents('/ranged.bin', data);
  const part = await readAll(client.createReadStream('/ranged.bin', { range: { start: 1000, end: 40_999 } }) as unknown as Readable);
  assert.equal(part.length, 40_000);
  assert.equal(sha256(part), sha256(data.subarray(1000, 41_000)));
  const tail = await readAll(client.createReadStream('/ranged.bin', { range: { start: 65_000 } }) as unknown as Readable);
  assert.deepEqual(tail, data.subarray(65_000));
});
