/**
 * A web client user whose password must be changed (require_password_change,
 * or password_expiration days elapsed since the last change) logs in, but
 * every page except the password change redirects there (GET) or is refused
 * (POST) until the password is changed; then the account works again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startServer, type TestServer } from '../httpd/support';
import { Browser } from './httpclient';

let s: TestServer;
const DAY_MS = 24 * 3600_000;
const GATED_PAGES = ['/web/client/files', '/web/client/profile', '/web/client/shares', '/web/client/mfa', '/web/client/edit?path=%2Fa.txt', '/web/client/files?path=%2F&sort=name'];

before(async () => {
  s = await startServer({ binding: { enable_web_client: true } });
  const home = (u: string): string => path.join(s.dir, 'homes', u);
  await s.ctx.provider.addUser({ username: 'mustchange', password: 'Old-pw-1', status: 1, home_dir: home('mustchange'), permissions: { '/': ['*'] },
    filters: { require_password_change: true } });
  // an account whose password is 3 days old with a 2-day expiration, as a dump would bring it
  await s.ctx.provider.restore({ version: 17, users: [{ username: 'expired', password: 'Exp-pw-1', status: 1, home_dir: home('expired'), permissions: { '/': ['*'] },
    last_password_change: Date.now() - 3 * DAY_MS, filters: { password_expiration: 2 } }] }, 0);
  fs.mkdirSync(home('mustchange'), { recursive: true });
});
after(async () => { await s.close(); });

for (const [username, password] of [['mustchange', 'Old-pw-1'], ['expired', 'Exp-pw-1']] as const) {
  test(`${username}: every page but the password change is gated until the password is changed`, async () => {
    const b = new Browser(s.base);
    assert.equal(await b.login(username, password), 303, 'the web login is allowed: it is where the password gets changed');
    for (const p of GATED_PAGES) {
      const r = await b.req('GET', p);
      assert.equal(r.status, 303, p);
      assert.equal(r.location, '/web/client/changepwd', p);
    }
    const form = await b.req('GET', '/web/client/changepwd');
    assert.equal(form.status, 200);
    assert.match(form.text, /id="password-required"/);
    const csrf = b.csrf(form.text);
    const mkdir = await b.req('POST', '/web/client/mkdir', { _form_token: csrf, path: '/', name: 'not-yet' });
    assert.equal(mkdir.status, 403, 'a form post is refused too');
    assert.equal(fs.existsSync(path.join(s.dir, 'homes', username, 'not-yet')), false);
    // a wrong current password keeps the gate
    const bad = await b.req('POST', '/web/client/changepwd', { _form_token: csrf, current_password: 'nope', new_password1: 'New-pw-9', new_password2: 'New-pw-9' });
    assert.equal(bad.location, '/web/client/changepwd');
    assert.equal((await b.req('GET', '/web/client/files')).location, '/web/client/changepwd');
    const ok = await b.req('POST', '/web/client/changepwd', { _form_token: csrf, current_password: password, new_password1: 'New-pw-9', new_password2: 'New-pw-9' });
    assert.equal(ok.status, 303);
    assert.equal(ok.location, '/web/client/login', 'a new password ends the session');
    const stored = await s.ctx.provider.getUser(username);
    assert.equal(stored?.filters?.require_password_change ?? false, false);

    const again = new Browser(s.base);
    assert.equal(await again.login(username, 'New-pw-9'), 303);
    assert.equal((await again.req('GET', '/web/client/files')).status, 200, 'the account works again');
    assert.equal((await again.req('GET', '/web/client/profile')).status, 200);
  });
}
