/**
 * Web client boundaries over plain HTTP: a user cookie is not an admin
 * session (and the reverse), posts without the CSRF token are refused and
 * change nothing, hostile file names are escaped, files are never rendered
 * as active content (SVG/HTML not shown inline), write-disabled users
 * cannot change files, a half (password-only) login opens nothing,
 * disabled_login_methods bit 8 closes the login form.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startServer, type TestServer } from '../httpd/support';
import { Browser } from './httpclient';

let s: TestServer;
const XSS = '<img src=x onerror=alert(1)>.txt';

let home: string;
before(async () => {
  s = await startServer({ binding: { enable_web_admin: true, enable_web_client: true } });
  home = path.join(s.dir, 'homes', 'webu');
  await s.ctx.provider.addUser({ username: 'webu', password: 'Web-pw-1', status: 1, home_dir: home, permissions: { '/': ['*'] } });
  await s.ctx.provider.addUser({ username: 'admin', password: 'Web-pw-2', status: 1, home_dir: path.join(s.dir, 'homes', 'admin'), permissions: { '/': ['*'] } });
  await s.ctx.provider.addUser({ username: 'ro', password: 'Web-pw-3', status: 1, home_dir: path.join(s.dir, 'homes', 'ro'), permissions: { '/': ['*'] }, filters: { web_client: ['write-disabled'] } });
  fs.mkdirSync(home, { recursive: true });
  fs.writeFileSync(path.join(home, XSS), 'x');
  fs.writeFileSync(path.join(home, 'evil.svg'), '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>');
  fs.writeFileSync(path.join(home, 'page.html'), '<script>alert(1)</script>');
});
after(async () => { await s.close(); });

test('a user cookie is not an admin session, even for a user named like an admin', async () => {
  const b = new Browser(s.base);
  assert.equal(await b.login('admin', 'Web-pw-2'), 303);
  assert.equal((await b.req('GET', '/web/client/files')).status, 200);
  const adminPage = await b.req('GET', '/web/admin/users');
  assert.equal(adminPage.status, 303);
  assert.match(adminPage.location, /\/web\/admin\/login/);
});

test('CSRF: a post without the token changes nothing', async () => {
  const b = new Browser(s.base);
  assert.equal(await b.login('webu', 'Web-pw-1'), 303);
  const r = await b.req('POST', '/web/client/mkdir', { path: '/', name: 'csrf-made' });
  assert.equal(r.status, 403);
  assert.equal(fs.existsSync(path.join(home, 'csrf-made')), false);
  const up = await b.req('POST', '/web/client/upload?path=%2F', undefined, { 'content-type': 'multipart/form-data; boundary=x' });
  assert.equal(up.status, 403);
  const files = await b.req('GET', '/web/client/files');
  const ok = await b.req('POST', '/web/client/mkdir', { _form_token: b.csrf(files.text), path: '/', name: 'made' });
  assert.equal(ok.status, 303);
  assert.ok(fs.existsSync(path.join(home, 'made')));
});

test('hostile names are escaped; SVG and HTML are never served as active content', async () => {
  const b = new Browser(s.base);
  await b.login('webu', 'Web-pw-1');
  const page = await b.req('GET', '/web/client/files');
  assert.ok(!page.text.includes('<img src=x onerror'), 'file name rendered as markup');
  assert.ok(page.text.includes('&lt;img src=x onerror=alert(1)&gt;.txt'));
  assert.match(page.csp, /script-src 'self'/);
  assert.equal((await b.req('GET', '/web/client/inline?path=%2Fevil.svg')).status, 400);
  const html = await b.req('GET', '/web/client/inline?path=%2Fpage.html');
  assert.equal(html.status, 200);
  assert.match(html.type, /^text\/plain/);
  assert.match(html.csp, /sandbox/);
  const dl = await b.req('GET', '/web/client/download?path=%2Fpage.html');
  assert.equal(dl.status, 200);
});

test('write-disabled users browse but cannot change files', async () => {
  const b = new Browser(s.base);
  await b.login('ro', 'Web-pw-3');
  const files = await b.req('GET', '/web/client/files');
  assert.equal(files.status, 200);
  assert.ok(!files.text.includes('id="upload-input"'));
  const r = await b.req('POST', '/web/client/mkdir', { _form_token: b.csrf(files.text), path: '/', name: 'nope' });
  assert.equal(r.status, 403);
  assert.equal(fs.existsSync(path.join(s.dir, 'homes', 'ro', 'nope')), false);
});

test('a half login (TOTP pending) opens nothing; no session after logout', async () => {
  await s.ctx.provider.addUser({ username: 'tt', password: 'Web-pw-4', status: 1, home_dir: path.join(s.dir, 'homes', 'tt'), permissions: { '/': ['*'] } });
  await s.ctx.provider.saveSecondFactor('user', 'tt', { totp_config: { enabled: true, config_name: 'Default', secret: { status: 'Plain', payload: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ' }, protocols: ['HTTP'] } });
  const b = new Browser(s.base);
  assert.equal(await b.login('tt', 'Web-pw-4'), 303);
  const files = await b.req('GET', '/web/client/files');
  assert.equal(files.status, 303);
  assert.match(files.location, /\/web\/client\/login/);
  const u = new Browser(s.base);
  await u.login('webu', 'Web-pw-1');
  const page = await u.req('GET', '/web/client/files');
  await u.req('POST', '/web/client/logout', { _form_token: u.csrf(page.text) });
  assert.equal((await u.req('GET', '/web/client/files')).status, 303);
});

test('disabled_login_methods bit 8 closes the web client login form', async () => {
  const closed = await startServer({ binding: { enable_web_client: true, disabled_login_methods: 8 } });
  try {
    await closed.ctx.provider.addUser({ username: 'x', password: 'Web-pw-5', status: 1, home_dir: path.join(closed.dir, 'x'), permissions: { '/': ['*'] } });
    const b = new Browser(closed.base);
    assert.equal(await b.login('x', 'Web-pw-5'), 403);
    assert.equal((await b.req('GET', '/web/client/files')).status, 303);
  } finally {
    await closed.close();
  }
});
