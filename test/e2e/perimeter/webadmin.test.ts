/**
 * The web admin's defender and IP lists pages through the real login form:
 * a banned host is listed and unbanned, IP list entries are added (with
 * protocols), refused when invalid, deleted; the pages are closed to admins
 * without the permissions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSession } from '../webadmin/fetchsession';
import { startPerimeterApp } from './env';
import { sshLogin } from './peers';

test('defender and IP lists pages', async (t) => {
  const env = await startPerimeterApp((c) => {
    c.httpd.bindings[0]!.enable_web_admin = true;
    Object.assign(c.common.defender, { enabled: true, threshold: 3, score_valid: 1, score_invalid: 2, score_limit_exceeded: 2, login_delay: { success: 0, password_failed: 0 } });
  });
  t.after(() => env.close());
  await env.addUser('alice', 'alice-pw');
  const web = new WebSession(`http://127.0.0.1:${env.http}`);
  await web.login('admin', 'adminpw');

  const empty = await web.get('/web/admin/defender');
  assert.equal(empty.status, 200);
  assert.match(empty.text, /id="no-hosts"/);
  for (let i = 0; i < 2; i++) assert.notEqual(await sshLogin(env.ssh, 'mallory', 'x', { localAddress: '127.0.0.90' }), 'ok');
  const listed = await web.get('/web/admin/defender');
  assert.match(listed.text, /data-host="127\.0\.0\.90"/);
  assert.match(listed.text, />Unban</);
  const id = Buffer.from('127.0.0.90').toString('hex');
  assert.equal((await web.submit('/web/admin/defender', `/web/admin/defender/${id}/delete`)).status, 303);
  assert.match((await web.get('/web/admin/defender')).text, /id="no-hosts"/);
  assert.equal(await sshLogin(env.ssh, 'alice', 'alice-pw', { localAddress: '127.0.0.90' }), 'ok');

  const lists = await web.get('/web/admin/iplists/2');
  assert.equal(lists.status, 200);
  assert.match(lists.text, /id="no-entries"/);
  const added = await web.submit('/web/admin/iplists/2', '/web/admin/iplists/2', { ipornet: '127.0.0.91', mode: '2', proto_SSH: '1', description: 'from the console' });
  assert.equal(added.status, 303);
  const page = await web.get('/web/admin/iplists/2');
  assert.match(page.text, /data-ipornet="127\.0\.0\.91\/32"/);
  assert.match(page.text, /<td>Deny<\/td>\s*<td>SSH<\/td>/);
  assert.notEqual(await sshLogin(env.ssh, 'alice', 'alice-pw', { localAddress: '127.0.0.91' }), 'ok', 'the new deny entry applies at once');
  const bad = await web.submit('/web/admin/iplists/2', '/web/admin/iplists/2', { ipornet: '999.1.1.1', mode: '2' });
  assert.equal(bad.status, 400);
  assert.match(bad.text, /invalid IP or network/);
  const dup = await web.submit('/web/admin/iplists/2', '/web/admin/iplists/2', { ipornet: '127.0.0.91/32', mode: '2' });
  assert.equal(dup.status, 400);
  const del = await web.submit('/web/admin/iplists/2', `/web/admin/iplists/2/${encodeURIComponent('127.0.0.91/32')}/delete`);
  assert.equal(del.status, 303);
  assert.equal(await sshLogin(env.ssh, 'alice', 'alice-pw', { localAddress: '127.0.0.91' }), 'ok');

  await env.app.ctx.provider.addAdmin({ username: 'viewer', password: 'viewer-pw', status: 1, permissions: ['view_defender'] });
  const viewer = new WebSession(`http://127.0.0.1:${env.http}`);
  await viewer.login('viewer', 'viewer-pw');
  const v = await viewer.get('/web/admin/defender');
  assert.equal(v.status, 200);
  assert.ok(!v.text.includes('iplists/1'), 'no IP lists link without "*"');
  assert.equal((await viewer.get('/web/admin/iplists/1')).status, 403);
});
