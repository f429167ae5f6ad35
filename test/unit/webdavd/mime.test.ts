/**
 * ContentTypes (src/webdavd/mime.ts): SFTPGo's WebDAV content type order
 * (custom mapping, no extension or ".dat" binary, extension table, types
 * learned by extension, then the backend) and its bounds: one backend call
 * per extension within a memo (a PROPFIND listing), a cache bounded by
 * size, failures and unusable answers falling back to the binary type.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContentTypes, customMimeMap } from '../../../src/webdavd/mime';

const OCTET = 'application/octet-stream';

/** A backend lookup that records its calls and answers `type` (or throws it when it is an Error). */
function backend(type: string | undefined | Error): { ask: () => Promise<string | undefined>; calls: number } {
  const b = {
    calls: 0,
    ask: async (): Promise<string | undefined> => {
      b.calls++;
      if (type instanceof Error) throw type;
      return type;
    },
  };
  return b;
}

test('ContentTypes: names that tell never reach the backend', async () => {
  const types = new ContentTypes({ custom: customMimeMap([{ ext: 'log', mime: 'text/x-log' }, { ext: '.skip', mime: '' }]), cacheSize: 10 });
  const b = backend('application/x-from-backend');
  assert.equal(await types.of('a.PDF', b.ask), 'application/pdf');
  assert.equal(await types.of('server.log', b.ask), 'text/x-log');
  assert.equal(await types.of('Makefile', b.ask), OCTET);
  assert.equal(await types.of('blob.dat', b.ask), OCTET);
  assert.equal(b.calls, 0);
  // an empty custom type is no mapping: the backend is asked
  assert.equal(await types.of('x.skip', b.ask), 'application/x-from-backend');
  assert.equal(b.calls, 1);
});

test('ContentTypes: an unknown extension asks the backend; without a backend lookup it is binary', async () => {
  const types = new ContentTypes();
  const b = backend('application/pdf');
  assert.equal(await types.of('report.zz1', b.ask), 'application/pdf');
  assert.equal(await types.of('report.zz1', undefined), OCTET);
  // no cache configured: asked again
  assert.equal(await types.of('other.zz1', b.ask), 'application/pdf');
  assert.equal(b.calls, 2);
  assert.equal(await types.of('x.zz2', backend('').ask), OCTET);
  assert.equal(await types.of('x.zz2', backend(undefined).ask), OCTET);
});

test('ContentTypes: a memo asks once per extension, failures included', async () => {
  const types = new ContentTypes();
  const memo = new Map<string, Promise<string>>();
  const ok = backend('image/png');
  const names = Array.from({ length: 50 }, (_, i) => `f${i}.zz3`);
  const got = await Promise.all(names.map((n) => types.of(n, ok.ask, memo)));
  assert.deepEqual(new Set(got), new Set(['image/png']));
  assert.equal(ok.calls, 1);
  const failing = backend(new Error('response code 404'));
  for (const n of ['a.zz4', 'b.zz4', 'c.ZZ4']) assert.equal(await types.of(n, failing.ask, memo), OCTET);
  assert.equal(failing.calls, 1);
});

test('ContentTypes: learned types are kept by extension up to the cache size', async () => {
  const types = new ContentTypes({ cacheSize: 1 });
  const first = backend('application/x-one');
  assert.equal(await types.of('a.one', first.ask), 'application/x-one');
  assert.equal(types.fromName('b.ONE'), 'application/x-one');
  assert.equal(await types.of('b.one', first.ask), 'application/x-one');
  assert.equal(first.calls, 1);
  // the cache is full: the next extension is answered but not kept
  const second = backend('application/x-two');
  assert.equal(await types.of('a.two', second.ask), 'application/x-two');
  assert.equal(types.fromName('a.two'), undefined);
});

test('ContentTypes: a failing backend or an unusable type falls back to binary with a log line, never an error', async () => {
  const logs: string[] = [];
  const types = new ContentTypes({ cacheSize: 10, log: (m) => logs.push(m) });
  assert.equal(await types.of('a.zz5', backend(new Error('response code 503')).ask), OCTET);
  assert.match(logs[0] ?? '', /content type of "a\.zz5": the storage backend did not answer \(response code 503\)/);
  for (const bad of ['text/html\r\nSet-Cookie: x=1', 'nonsense', 'a/b/c', `x/${'y'.repeat(300)}`]) {
    assert.equal(await types.of('b.zz6', backend(bad).ask), OCTET, JSON.stringify(bad));
  }
  assert.equal(logs.filter((l) => /gave an invalid type/.test(l)).length, 4, logs.join('\n'));
  assert.equal(types.fromName('b.zz6'), undefined, 'an invalid type is not learned');
  assert.equal(await types.of('c.zz7', backend('text/plain; charset=utf-8').ask), 'text/plain; charset=utf-8');
});
