/** httpd.web_root: the accepted forms, and which URLs the rewriter strips, keeps or sends nowhere. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeWebRoot, webRootRewriter } from '../../../src/httpd/webroot';

test('normalizeWebRoot: empty or / is none, trailing slashes go, relative and dot segments are refused', () => {
  assert.equal(normalizeWebRoot(''), '');
  assert.equal(normalizeWebRoot('/'), '');
  assert.equal(normalizeWebRoot('/sftpgo/'), '/sftpgo');
  assert.equal(normalizeWebRoot('//a//b/'), '/a/b');
  assert.throws(() => normalizeWebRoot('sftpgo'), /httpd\.web_root: "sftpgo" must be an absolute URL path/);
  assert.throws(() => normalizeWebRoot('/a/../b'), /no \. or \.\. segments/);
  assert.throws(() => normalizeWebRoot('/a b'), /plain URL path/);
  assert.throws(() => normalizeWebRoot('/a?x=1'), /plain URL path/);
});

test('the rewriter strips the prefix from web URLs only; unprefixed web URLs and prefixed API URLs reach nothing', () => {
  assert.equal(webRootRewriter(''), undefined);
  const r = webRootRewriter('/sftpgo')!;
  assert.equal(r('/sftpgo/web/client/files?path=%2F'), '/web/client/files?path=%2F');
  assert.equal(r('/sftpgo'), '/');
  assert.equal(r('/sftpgo/static/x.css'), '/static/x.css');
  assert.equal(r('/api/v2/token'), '/api/v2/token');
  assert.equal(r('/healthz'), '/healthz');
  assert.equal(r('/sftpgoweb/client'), '/sftpgoweb/client', 'not under the prefix: no route has that path');
  for (const outside of ['/web/client/files', '/static/x.css', '/', '/sftpgo/api/v2/token']) {
    assert.match(r(outside), /^\/\.outside-web-root\//, outside);
  }
});
