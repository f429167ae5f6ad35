/**
 * The web admin's login form feeds the defender like the REST token does: wrong
 * passwords from one address ban it (for every protocol), an unknown admin
 * scores higher than a wrong password, other addresses are not affected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AppConfig } from '../../../src/config/types';
import { startPerimeterApp } from './env';
import { basic, httpGet } from './peers';

function request(port: number, method: string, urlPath: string, localAddress: string, headers: Record<string, string>, body?: string):
  Promise<{ status: number; body: string; cookies: string[] }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method, headers, localAddress, agent: false }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => { text += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, cookies: res.headers['set-cookie'] ?? [] }));
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('http timeout')));
    req.end(body);
  });
}

/** One form login from `ip` (a fresh pre-login cookie and form token each time); the status. */
async function webLogin(port: number, ip: string, username: string, password: string): Promise<number> {
  const page = await request(port, 'GET', '/web/admin/login', ip, {});
  if (page.status !== 200) return page.status;
  const token = /name="_form_token" value="([^"]+)"/.exec(page.body)?.[1];
  assert.ok(token, 'the login form carries its token');
  const cookie = page.cookies.map((c) => c.split(';')[0]).join('; ');
  const form = new URLSearchParams({ username, password, _form_token: token }).toString();
  const r = await request(port, 'POST', '/web/admin/login', ip, { cookie, 'content-type': 'application/x-www-form-urlencoded' }, form);
  return r.status;
}

/** The server with a memory defender banning at `threshold` (wrong password 1, unknown account 2) and one web UI on. */
function startWithDefender(threshold: number, ui: 'enable_web_admin' | 'enable_web_client'): ReturnType<typeof startPerimeterApp> {
  return startPerimeterApp((c: AppConfig) => {
    Object.assign(c.common.defender, {
      enabled: true, driver: 'memory', threshold, score_valid: 1, score_invalid: 2, score_limit_exceeded: Math.min(3, threshold - 1), score_no_auth: 0,
      ban_time: 30, ban_time_increment: 50, observation_time: 30, login_delay: { success: 0, password_failed: 0 },
    });
    c.httpd.bindings[0]![ui] = true;
  });
}

test('web admin login failures are scored by the defender and ban the address', async (t) => {
  const env = await startWithDefender(5, 'enable_web_admin');
  t.after(() => env.close());
  // an unknown admin scores 2: banned at the third failure
  for (let i = 0; i < 3; i++) assert.equal(await webLogin(env.http, '127.0.0.71', 'nobody', 'x'), 401);
  assert.equal((await httpGet(env.http, '/api/v2/token', { localAddress: '127.0.0.71', headers: { Authorization: basic('admin', 'adminpw') } })).status, 403,
    'the banned address is refused everywhere');
  // a known admin with wrong passwords scores 1: still allowed after four
  for (let i = 0; i < 4; i++) assert.equal(await webLogin(env.http, '127.0.0.72', 'admin', `wrong-${i}`), 401);
  assert.equal(await webLogin(env.http, '127.0.0.72', 'admin', 'adminpw'), 303, 'the right password logs in below the threshold');
  assert.equal(await webLogin(env.http, '127.0.0.73', 'admin', 'adminpw'), 303, 'other addresses are not affected');
});

/** A password share of `owner`'s home, made through the user REST API; its id. */
async function addPasswordShare(port: number, owner: string, password: string): Promise<string> {
  const tok = await httpGet(port, '/api/v2/user/token', { headers: { Authorization: basic(owner, password) } });
  const token = (JSON.parse(tok.body) as { access_token: string }).access_token;
  const r = await fetch(`http://127.0.0.1:${port}/api/v2/user/shares`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'guarded', scope: 1, paths: ['/'], password: 'share-pw' }),
  });
  assert.equal(r.status, 201, await r.text());
  return r.headers.get('x-object-id') ?? '';
}

/** One share password attempt through the web client's share login page; the status. */
async function shareLogin(port: number, ip: string, id: string, password: string): Promise<number> {
  const page = await request(port, 'GET', `/web/client/pubshares/${id}/login`, ip, {});
  if (page.status !== 200) return page.status;
  const token = /name="_form_token" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
  const cookie = page.cookies.map((c) => c.split(';')[0]).join('; ');
  const form = new URLSearchParams({ password, _form_token: token }).toString();
  return (await request(port, 'POST', `/web/client/pubshares/${id}/login`, ip, { cookie, 'content-type': 'application/x-www-form-urlencoded' }, form)).status;
}

test('wrong share passwords (web page and REST) are scored by the defender like other logins', async (t) => {
  const env = await startWithDefender(3, 'enable_web_client');
  t.after(() => env.close());
  await env.addUser('owner', 'Owner-pw-1');
  const id = await addPasswordShare(env.http, 'owner', 'Owner-pw-1');
  const rest = (ip: string, pw: string): Promise<{ status: number }> =>
    httpGet(env.http, `/api/v2/shares/${id}/dirs`, { localAddress: ip, headers: { Authorization: basic('x', pw) } });
  assert.equal(await shareLogin(env.http, '127.0.0.81', id, 'share-pw'), 303, 'the right password opens the share');
  // two wrong passwords on the page and one on the REST API reach the threshold (3)
  assert.equal(await shareLogin(env.http, '127.0.0.82', id, 'wrong-1'), 401);
  assert.equal(await shareLogin(env.http, '127.0.0.82', id, 'wrong-2'), 401);
  assert.equal((await rest('127.0.0.82', 'wrong-3')).status, 401);
  assert.equal(await shareLogin(env.http, '127.0.0.82', id, 'share-pw'), 403, 'banned: even the right password is refused');
  assert.equal((await rest('127.0.0.82', 'share-pw')).status, 403);
  assert.equal((await httpGet(env.http, '/api/v2/user/token', { localAddress: '127.0.0.82', headers: { Authorization: basic('owner', 'Owner-pw-1') } })).status, 403,
    'and so is any other login from that address');
  const hosts = await env.app.ctx.perimeter.defenderHosts();
  assert.ok(hosts.some((h) => h.ip === '127.0.0.82'), 'listed by the defender');
  assert.equal((await rest('127.0.0.83', 'share-pw')).status, 200, 'other addresses are not affected');
});
