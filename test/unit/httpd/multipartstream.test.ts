/** The streaming multipart reader against bodies split at every possible byte boundary. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MultipartError, MultipartReader, boundaryOf } from '../../../src/httpd/multipartstream';

function body(boundary: string, parts: { name: string; filename?: string; data: Buffer }[]): Buffer {
  const out: Buffer[] = [Buffer.from('preamble\r\n')];
  for (const p of parts) {
    const fn = p.filename !== undefined ? `; filename="${p.filename}"` : '';
    out.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${fn}\r\nContent-Type: application/octet-stream\r\n\r\n`), p.data, Buffer.from('\r\n'));
  }
  out.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(out);
}

async function* chunked(b: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

async function readAll(b: Buffer, boundary: string, size: number): Promise<{ name: string; filename?: string; data: string }[]> {
  const r = new MultipartReader(chunked(b, size), boundary);
  const out: { name: string; filename?: string; data: string }[] = [];
  for (let i = 0; i < 100; i++) {
    const h = await r.nextPart();
    if (!h) break;
    const chunks: Buffer[] = [];
    for await (const c of r.partData()) chunks.push(Buffer.from(c));
    out.push({ name: h.name, filename: h.filename, data: Buffer.concat(chunks).toString('latin1') });
  }
  return out;
}

test('parts are read back exactly whatever the chunk size, including data that looks like a boundary', async () => {
  const boundary = '----xyz';
  const tricky = Buffer.from('a\r\n----xy\r\n--\r\n----xyzNOT? no: \r\n---');
  const b = body(boundary, [
    { name: 'filenames', filename: 'a.txt', data: tricky },
    { name: 'other', data: Buffer.from('field') },
    { name: 'filenames', filename: 'empty.bin', data: Buffer.alloc(0) },
  ]);
  for (const size of [1, 2, 3, 7, 64, b.length]) {
    const parts = await readAll(b, boundary, size);
    assert.deepEqual(parts.map((p) => p.name), ['filenames', 'other', 'filenames'], `chunk size ${size}`);
    assert.equal(parts[0]!.data, tricky.toString('latin1'));
    assert.equal(parts[0]!.filename, 'a.txt');
    assert.equal(parts[1]!.filename, undefined);
    assert.equal(parts[2]!.data, '');
  }
});

test('skipped parts, truncated bodies and missing boundaries', async () => {
  const b = body('bb', [{ name: 'x', filename: 'x', data: Buffer.from('skip me') }, { name: 'y', filename: 'y', data: Buffer.from('keep') }]);
  const r = new MultipartReader(chunked(b, 5), 'bb');
  assert.equal((await r.nextPart())?.name, 'x');
  assert.equal((await r.nextPart())?.name, 'y');
  const trunc = new MultipartReader(chunked(b.subarray(0, b.length - 12), 5), 'bb');
  await assert.rejects(async () => {
    for (let i = 0; i < 10; i++) {
      const h = await trunc.nextPart();
      if (!h) break;
      for await (const _c of trunc.partData()) { /* drain */ }
    }
  }, MultipartError);
  assert.throws(() => boundaryOf('application/json'), MultipartError);
  assert.equal(boundaryOf('multipart/form-data; boundary="a b"'), 'a b');
});
