/**
 * Web admin hardening in a real browser: security headers and cookie
 * attributes, static path traversal, and per-IP login throttling (its own
 * app instance, since throttling blocks the test's IP).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import { startWebAdminEnv, type WebAdminEnv } from './harness';

let env: WebAdminEnv;
let ctx: BrowserContext;
let page: Page;
const ADMIN = 'sec-admin';
const ADMIN_PW = 'Sec-admin-pw-1';

before(async () => {
  env = await startWebAdminEnv();
  await env.app.ctx.provider.addAdmin({ username: ADMIN, password: ADMIN_PW, status: 1, permissions: ['*'] });
  ctx = await env.browser.newContext({ viewport: { width: 1366, height: 768 } });
  page = await ctx.newPage();
  await page.goto(`${env.base}/web/admin/login`);
  await page.fill('#username', ADMIN);
  await page.fill('#password', ADMIN_PW);
  await page.click('#login-form button[type=submit]');
  await page.waitForURL('**/web/admin/users');
});
after(async () => {
  await ctx?.close().catch(() => undefined);
  await env?.stop();
});

async function flashText(p: Page = page): Promise<string> {
  return (await p.locator('#flash').textContent())?.trim() ?? '';
}

test('pages carry strict security headers', async () => {
  const res = await page.request.get(`${env.base}/web/admin/users`);
  const h = res.headers();
  assert.match(h['content-security-policy'] ?? '', /script-src 'self'/);
  assert.match(h['content-security-policy'] ?? '', /frame-ancestors 'none'/);
  assert.equal(h['x-frame-options'], 'DENY');
  assert.equal(h['x-content-type-options'], 'nosniff');
  assert.ok(h['referrer-policy']);
  const cookies = await ctx.cookies();
  const jwt = cookies.find((c) => c.name === 'jwt');
  assert.ok(jwt?.httpOnly);
  assert.equal(jwt?.sameSite, 'Strict');
  const trav = await page.request.get(`${env.base}/static/webadmin/..%2f..%2fpackage.json`);
  assert.equal(trav.status(), 404);
});


test('repeated failed logins are throttled with 429', async () => {
  const tctx = await env.browser.newContext();
  try {
    const p = await tctx.newPage();
    let last = 0;
    for (let i = 0; i < 6; i++) {
      await p.goto(`${env.base}/web/admin/login`);
      await p.fill('#username', ADMIN);
      await p.fill('#password', `wrong-${i}`);
      const [resp] = await Promise.all([p.waitForResponse((r) => r.request().method() === 'POST'), p.click('#login-form button[type=submit]')]);
      last = resp.status();
    }
    assert.equal(last, 429);
    assert.match(await flashText(p), /Too many failed login attempts/);
    // the right password is refused while blocked
    await p.fill('#password', ADMIN_PW);
    const [resp] = await Promise.all([p.waitForResponse((r) => r.request().method() === 'POST'), p.click('#login-form button[type=submit]')]);
    assert.equal(resp.status(), 429);
  } finally {
    await tctx.close();
  }
});
