import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { v2 } from 'webdav-server';
import type { FileOps } from '../../../src/common/types';
import { parseXml, serialize, childElems, textOf } from '../../../src/webdavd/xml';
import { parsePropfind } from '../../../src/webdavd/propfind';
import { parseLockInfo, parseTimeout, MAX_LOCK_SECONDS } from '../../../src/webdavd/locks';
import { parsePropertyUpdate } from '../../../src/webdavd/proppatch';
import { UserDavState } from '../../../src/webdavd/state';
import { destinationOf } from '../../../src/webdavd/copymove';
import { conditionsHold } from '../../../src/webdavd/put';
import { davMethod, DavStatus } from '../../../src/webdavd/request';
import { DavUser } from '../../../src/webdavd/davfs';

test('parseXml keeps namespace and local name apart; bad documents throw', () => {
  const el = parseXml('<D:propfind xmlns:D="DAV:"><D:prop><x:p0 xmlns:x="http://example.com/neon/litmus/"/><n xmlns=""/></D:prop></D:propfind>');
  assert.equal(el.ns, 'DAV:');
  assert.equal(el.local, 'propfind');
  const props = childElems(childElems(el, 'DAV:', 'prop')[0]!);
  assert.deepEqual(props.map((p) => [p.ns, p.local]), [['http://example.com/neon/litmus/', 'p0'], ['', 'n']]);
  assert.throws(() => parseXml('<a:b/>'));
  assert.throws(() => parseXml('<D:x xmlns:D="DAV:"><y xmlns:p=""/></D:x>'));
  assert.throws(() => parseXml('<a><b></a>'));
  assert.throws(() => parseXml(''));
});

test('serialize makes values self-contained and round-trips', () => {
  const src = '<t:valnspace xmlns:t="http://example.com/alpha" xmlns:z="urn:z" z:att="1 &amp; 2" xml:lang="en">'
    + '<foo xmlns="bar">x &lt; y \u{1F600}</foo><t:deep>text</t:deep></t:valnspace>';
  const el = parseXml(src);
  const out = serialize(el);
  const again = parseXml(out);
  assert.deepEqual(again, el);
  assert.match(out, /^<valnspace xmlns="http:\/\/example.com\/alpha"/);
  assert.equal(textOf(childElems(again, 'bar', 'foo')[0]!), 'x < y \u{1F600}');
  assert.equal(serialize(parseXml('<n xmlns="">v</n>')), '<n>v</n>');
});

test('PROPFIND, PROPPATCH and LOCK bodies', () => {
  assert.deepEqual(parsePropfind(Buffer.alloc(0)), { kind: 'allprop', include: [] });
  assert.deepEqual(parsePropfind(Buffer.from('<propfind xmlns="DAV:"><propname/></propfind>')), { kind: 'propname' });
  assert.deepEqual(parsePropfind(Buffer.from('<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><k:a xmlns:k="urn:k"/></D:prop></D:propfind>')),
    { kind: 'prop', props: [{ ns: 'DAV:', local: 'getetag' }, { ns: 'urn:k', local: 'a' }] });
  assert.throws(() => parsePropfind(Buffer.from('<propfind xmlns="urn:other"><prop/></propfind>')), (e) => e instanceof DavStatus && e.status === 400);
  assert.throws(() => parsePropfind(Buffer.from('<D:propfind xmlns:D="DAV:">')), DavStatus);
  const upd = parsePropertyUpdate(Buffer.from('<D:propertyupdate xmlns:D="DAV:"><D:remove><D:prop><a xmlns="urn:a"/></D:prop></D:remove>'
    + '<D:set><D:prop><a xmlns="urn:a">1</a></D:prop></D:set></D:propertyupdate>'));
  assert.deepEqual(upd.map((i) => [i.op, i.el.local]), [['remove', 'a'], ['set', 'a']]);
  const li = parseLockInfo(Buffer.from('<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype>'
    + '<D:owner><D:href>mailto:x@y</D:href></D:owner></D:lockinfo>'));
  assert.equal(li.scope, 'shared');
  assert.equal(li.ownerXml, '<href xmlns="DAV:">mailto:x@y</href>');
  assert.throws(() => parseLockInfo(Buffer.from('<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope></D:lockinfo>')), DavStatus);
  assert.equal(parseTimeout('Second-100'), 100);
  assert.equal(parseTimeout('Infinite, Second-5'), MAX_LOCK_SECONDS);
  assert.equal(parseTimeout('Second-999999999'), MAX_LOCK_SECONDS);
  assert.equal(parseTimeout('garbage'), 3600);
});

test('lock table: coverage, subtree, expiry, property transfer', () => {
  let now = 1000;
  const s = new UserDavState(() => now);
  const coll = s.addLock({ root: '/a', depth: 'infinity', scope: 'shared', ownerXml: '', timeout: 10 });
  s.addLock({ root: '/a/b/c', depth: 0, scope: 'exclusive', ownerXml: '', timeout: 100 });
  assert.deepEqual(s.locksCovering('/a/b/c').length, 2);
  assert.deepEqual(s.locksCovering('/ab').length, 0);
  assert.equal(s.locksBelow('/a').length, 1);
  assert.equal(s.findCovering('/a/x', coll.token), coll);
  now += 10_001;
  assert.equal(s.findCovering('/a/x', coll.token), undefined);
  assert.equal(s.locksCovering('/a/b/c').length, 1);
  s.setProps('/a/b', new Map([['{urn:x}p', { ns: 'urn:x', local: 'p', xml: '<p xmlns="urn:x"/>' }]]));
  s.transferProps('/a', '/z', false);
  assert.equal(s.propsAt('/a/b').size, 0);
  assert.equal(s.propsAt('/z/b').size, 1);
  s.forget('/z');
  assert.equal(s.propsAt('/z/b').size, 0);
});

test('Destination header and PUT preconditions', () => {
  const clean = (p: string): string => p;
  assert.equal(destinationOf('http://h:1/dav/a%20b', '/dav', clean), '/a b');
  assert.equal(destinationOf('/x/y', '', clean), '/x/y');
  assert.throws(() => destinationOf('http://h/other/a', '/dav', clean), (e) => e instanceof DavStatus && e.status === 502);
  assert.throws(() => destinationOf(undefined, '', clean), DavStatus);
  assert.equal(conditionsHold('', '*', undefined), true);
  assert.equal(conditionsHold('', '*', '"e"'), false);
  assert.equal(conditionsHold('"e"', '', '"e"'), true);
  assert.equal(conditionsHold('"f"', '', '"e"'), false);
  assert.equal(conditionsHold('*', '', undefined), false);
});

test('an unexpected exception inside a method becomes a 500 and a report, not a crash', async () => {
  const ops = { user: { username: 'u' }, cleanPath: (p: string) => p, touch: () => undefined } as unknown as FileOps;
  const reports: string[] = [];
  const run = (impl: () => Promise<void>): Promise<{ status: number; done: number }> => new Promise((resolve) => {
    const res = {
      headersSent: false, statusCode: 200, writableEnded: false,
      setHeader: () => undefined, end() { this.writableEnded = true; }, destroy: () => undefined,
    };
    let done = 0;
    const ctx = {
      user: new DavUser(ops, new UserDavState()), requested: { path: { toString: () => '/f' } }, response: res,
      setCode(c: number) { res.statusCode = c; },
    } as unknown as v2.HTTPRequestContext;
    const m = davMethod('TEST', (where, e) => reports.push(`${where}: ${(e as Error).message}`), impl);
    const input = new PassThrough();
    input.end();
    m.chunked!(ctx, input, () => {
      done++;
      setImmediate(() => resolve({ status: res.statusCode, done }));
    });
  });
  assert.deepEqual(await run(async () => { throw new TypeError('boom'); }), { status: 500, done: 1 });
  assert.deepEqual(await run(() => { throw new RangeError('sync boom'); }), { status: 500, done: 1 });
  assert.deepEqual(await run(async () => { throw new DavStatus(423); }), { status: 423, done: 1 });
  assert.deepEqual(reports, ['TEST: boom', 'TEST: sync boom']);
});
