/**
 * Content types from an HTTPFs service's `mimetype` (test/support/httpfs-server.ts
 * sniffs the content: a PDF named "*.zq1" is application/pdf, which no
 * extension table gives; the fallback would be application/octet-stream),
 * seen with curl: WebDAV GET and PROPFIND (getcontenttype; one call per
 * unknown extension in a listing, none for a request not asking for the
 * type, none for known extensions or custom mappings); the REST user
 * download goes by extension only, as SFTPGo's. A service answering 501 for it: binary type, the file still
 * served, a log line. Learned types are shared by extension across the
 * WebDAV service, as SFTPGo's cache.mime_types.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { httpconfig, startHttpFsServer, type TestHttpFs } from '../../support/httpfs-server';
import { curl, startCross, type CrossEnv } from '../crossproto/env';

const PDF = '%PDF-1.7\nnot really a document\n';
const mimeCalls = (s: TestHttpFs): string[] => s.requests.filter((r) => r.startsWith('GET mimetype '));
const contentType = (headers: string): string | undefined => /^content-type:\s*(.+)$/im.exec(headers)?.[1]?.trim();

describe('HTTPFs content types over WebDAV and the REST API', () => {
  let svc: TestHttpFs;
  let without: TestHttpFs;
  let env: CrossEnv;

  before(async () => {
    svc = await startHttpFsServer();
    without = await startHttpFsServer({ answer: { mimetype: 501 } });
    env = await startCross((c) => { c.webdavd.cache.mime_types.custom_mappings = [{ ext: '.zqc', mime: 'text/x-custom' }]; });
    await env.addUser({ username: 'mt', password: 'mt-pass', filesystem: { provider: 6, httpconfig: httpconfig(svc) } });
    await env.addUser({ username: 'nomt', password: 'nomt-pass', filesystem: { provider: 6, httpconfig: httpconfig(without) } });
    await fsp.mkdir(path.join(svc.root, 'list'));
    for (let i = 0; i < 6; i++) await fsp.writeFile(path.join(svc.root, 'list', `r${i}.zq2`), PDF);
    await fsp.writeFile(path.join(svc.root, 'list', 'words.txt'), 'plain\n');
    await fsp.writeFile(path.join(svc.root, 'list', 'mapped.zqc'), PDF);
    await fsp.writeFile(path.join(svc.root, 'doc.zq1'), PDF);
    await fsp.writeFile(path.join(svc.root, 'rest.zq3'), PDF);
    await fsp.writeFile(path.join(without.root, 'doc.zq9'), PDF);
    await fsp.writeFile(path.join(without.root, 'doc.zq1'), PDF);
  });
  after(async () => {
    await env?.close();
    await svc?.stop();
    await without?.stop();
  });

  const dav = (user: string, args: string[]): ReturnType<typeof curl> => curl(['-u', `${user}:${user}-pass`, ...args]);

  test('WebDAV GET: the service\'s type for an extension no table knows; known extensions are not asked', async () => {
    const r = await dav('mt', [`${env.davUrl}/doc.zq1`]);
    assert.equal(r.status, 200, r.headers);
    assert.equal(contentType(r.headers), 'application/pdf');
    assert.equal(r.body, PDF);
    assert.deepEqual(mimeCalls(svc), ['GET mimetype /doc.zq1']);
    const head = await dav('mt', ['-I', `${env.davUrl}/list/words.txt`]);
    assert.equal(contentType(head.headers), 'text/plain; charset=utf-8');
    assert.deepEqual(mimeCalls(svc), ['GET mimetype /doc.zq1'], 'a .txt needs no call');
  });

  test('WebDAV PROPFIND: getcontenttype from the service, one call per unknown extension in a listing', async () => {
    const before = mimeCalls(svc).length;
    // a client asking only for sizes costs the service nothing
    const sizes = await dav('mt', ['-X', 'PROPFIND', '-H', 'Depth: 1', '--data', '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getcontentlength/></D:prop></D:propfind>', `${env.davUrl}/list/`]);
    assert.equal(sizes.status, 207, sizes.body);
    assert.equal(mimeCalls(svc).length, before);
    const r = await dav('mt', ['-X', 'PROPFIND', '-H', 'Depth: 1', `${env.davUrl}/list/`]);
    assert.equal(r.status, 207, r.body);
    const typeOf = (name: string): string | undefined =>
      new RegExp(`<D:href>[^<]*/${name.replace('.', '\\.')}</D:href>.*?<D:getcontenttype>([^<]*)</D:getcontenttype>`, 's').exec(r.body)?.[1];
    for (let i = 0; i < 6; i++) assert.equal(typeOf(`r${i}.zq2`), 'application/pdf', r.body.slice(0, 600));
    assert.equal(typeOf('words.txt'), 'text/plain; charset=utf-8');
    assert.equal(typeOf('mapped.zqc'), 'text/x-custom', 'a custom mapping wins over the service');
    assert.equal(mimeCalls(svc).length - before, 1, mimeCalls(svc).join('\n'));
  });

  test('REST user download: by extension only, as SFTPGo (the service is not asked)', async () => {
    const tok = await curl(['-u', 'mt:mt-pass', `${env.httpUrl}/api/v2/user/token`]);
    assert.equal(tok.status, 200, tok.body);
    const token = (JSON.parse(tok.body) as { access_token: string }).access_token;
    const r = await curl(['-H', `Authorization: Bearer ${token}`, `${env.httpUrl}/api/v2/user/files?path=%2Frest.zq3`]);
    assert.equal(r.status, 200, r.headers);
    assert.equal(contentType(r.headers), 'application/octet-stream');
    assert.equal(r.body, PDF);
    assert.ok(!mimeCalls(svc).includes('GET mimetype /rest.zq3'), mimeCalls(svc).join('\n'));
  });

  test('a service without mimetype (501): binary type, the file still served, a log line', async () => {
    const r = await dav('nomt', [`${env.davUrl}/doc.zq9`]);
    assert.equal(r.status, 200, r.headers);
    assert.equal(contentType(r.headers), 'application/octet-stream');
    assert.equal(r.body, PDF);
    assert.deepEqual(mimeCalls(without), ['GET mimetype /doc.zq9']);
    // SFTPGo's type cache is by extension for the whole WebDAV service: ".zq1" was learned from the other service
    const cached = await dav('nomt', [`${env.davUrl}/doc.zq1`]);
    assert.equal(contentType(cached.headers), 'application/pdf');
    assert.deepEqual(mimeCalls(without), ['GET mimetype /doc.zq9']);
    const lines = await env.logLines();
    assert.ok(lines.some((l) => /does not implement mimetype \(501\): content types come from file extensions/.test(String(l.message))),
      'the backend says why the type is binary');
  });
});
