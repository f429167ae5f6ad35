/**
 * The web admin API keys page: create (key shown once, never again), use
 * the key on the REST API, delete it (refused at once), validation errors,
 * and the page is closed to admins without manage_apikeys / '*'.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../httpd/support';
import { WebSession } from './fetchsession';

let s: TestServer;
let web: WebSession;
before(async () => {
  s = await startServer({ binding: { enable_web_admin: true } });
  web = new WebSession(s.base);
  await web.login('admin', 'password');
  const token = await s.token();
  // keys acting as an admin need the admin's consent, as in SFTPGo
  assert.equal((await s.call('PUT', '/api/v2/admin/profile', { token, body: { allow_api_key_auth: true } })).status, 200);
});
after(async () => { await s.close(); });

test('create shows the key once; it works on the REST API until deleted', async () => {
  const empty = await web.get('/web/admin/apikeys');
  assert.equal(empty.status, 200);
  assert.match(empty.text, /id="no-apikeys"/);
  assert.match(empty.text, /href="\/web\/admin\/apikeys" class="active"/);

  const created = await web.submit('/web/admin/apikeys', '/web/admin/apikeys', { name: 'ci', scope: '1', owner: 'admin', description: 'for CI' });
  assert.equal(created.status, 200);
  const key = /<code id="new-api-key">([^<]+)<\/code>/.exec(created.text)?.[1] ?? '';
  assert.match(key, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  const [keyId, secret] = key.split('.');
  assert.equal((await s.call('GET', '/api/v2/users', { apiKey: key })).status, 200);

  const list = await web.get('/web/admin/apikeys');
  assert.match(list.text, new RegExp(`data-apikey="${keyId}"`));
  assert.ok(!list.text.includes(secret), 'the secret is shown only once');
  assert.match(list.text, /for CI/);

  assert.equal((await web.submit('/web/admin/apikeys', `/web/admin/apikeys/${keyId}/delete`)).status, 303);
  assert.equal((await s.call('GET', '/api/v2/users', { apiKey: key })).status, 401);
  assert.match((await web.get('/web/admin/apikeys')).text, /id="no-apikeys"/);
});

test('validation errors re-render the page with a message; unknown ids are reported', async () => {
  const bad = await web.submit('/web/admin/apikeys', '/web/admin/apikeys', { name: '', scope: '1' });
  assert.equal(bad.status, 400);
  assert.match(bad.text, /<div class="flash error" role="alert" id="flash">\s*<span class="grow">[^<]*name/);
  const badDate = await web.submit('/web/admin/apikeys', '/web/admin/apikeys', { name: 'x', scope: '1', expires_at: 'tomorrow' });
  assert.equal(badDate.status, 400);
  assert.match(badDate.text, /not a date/);
  const missing = await web.submit('/web/admin/apikeys', '/web/admin/apikeys/nope/delete');
  assert.equal(missing.location, "/web/admin/apikeys");
  assert.equal(missing.status, 303);
});

test('admins without manage_apikeys get 403 and no menu entry', async () => {
  const token = await s.token();
  const r = await s.call('POST', '/api/v2/admins', { token, body: { status: 1, username: 'viewer', password: 'viewer-pw', permissions: ['view_users'] } });
  assert.equal(r.status, 201, r.text);
  const v = new WebSession(s.base);
  await v.login('viewer', 'viewer-pw');
  assert.equal((await v.get('/web/admin/apikeys')).status, 403);
  assert.doesNotMatch((await v.get('/web/admin/users')).text, /href="\/web\/admin\/apikeys"/);
});
