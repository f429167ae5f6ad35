/**
 * "Forgot password" in Chromium for a web client user and a web admin: the
 * login page links to the request form, the code arrives by email (a real
 * SMTP server from the smtp-server package), the reset page takes it with the
 * new password, and the new password logs in. A code is used once, works only
 * for its own UI, a wrong code is scored by the defender, an unknown account
 * gets the same answer and no mail. Without smtp the pages do not exist.
 * (Code expiry: test/unit/httpd/pwreset.test.ts, with an injected clock.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import type { Page } from 'playwright-core';
import { freePort } from '../../support/net';
import { startServer } from '../httpd/support';
import { startWebAdminEnv, type WebAdminEnv } from '../webadmin/harness';
import { Browser } from './httpclient';

interface Mail { to: string; text: string }
let env: WebAdminEnv;
let smtp: SMTPServer;
const mails: Mail[] = [];
const waiters: ((m: Mail) => void)[] = [];

/** The next mail to arrive (or already arrived and not taken yet). */
function nextMail(): Promise<Mail> {
  const m = mails.shift();
  if (m) return Promise.resolve(m);
  return new Promise((resolve) => waiters.push(resolve));
}

before(async () => {
  const port = await freePort();
  smtp = new SMTPServer({
    authOptional: true, hideSTARTTLS: true, logger: false,
    onData(stream, session, cb) {
      let data = '';
      stream.on('data', (d: Buffer) => (data += d.toString()));
      stream.on('end', () => {
        const mail = { to: session.envelope.rcptTo.map((r) => r.address).join(','), text: data };
        const w = waiters.shift();
        if (w) w(mail); else mails.push(mail);
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(port, '127.0.0.1', resolve));
  env = await startWebAdminEnv((c) => {
    Object.assign(c.smtp, { host: '127.0.0.1', port, from: 'sftpgo@example.com', encryption: 0 });
    Object.assign(c.common.defender, { enabled: true, driver: 'memory', threshold: 100, score_valid: 1, score_invalid: 2, observation_time: 30 });
  });
  await env.app.ctx.provider.addUser({ username: 'forgetful', password: 'Old-pw-1', email: 'forgetful@example.com', status: 1,
    home_dir: join(env.dir, 'homes', 'forgetful'), permissions: { '/': ['*'] } });
  await env.app.ctx.provider.addAdmin({ username: 'boss', password: 'Old-admin-pw-1', email: 'boss@example.com', status: 1, permissions: ['*'] });
});
after(async () => {
  await env?.stop();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

function codeOf(mail: Mail): string {
  const code = /verification code is: ([A-Za-z0-9_-]+)/.exec(mail.text.replace(/=\r?\n/g, ''))?.[1];
  assert.ok(code, mail.text);
  return code;
}

async function resetThroughPages(page: Page, ui: 'client' | 'admin', username: string, email: string, newPassword: string): Promise<string> {
  await page.goto(`${env.base}/web/${ui}/login`);
  await page.click('#forgot-password');
  await page.waitForURL(`**/web/${ui}/forgot-password`);
  const mail = nextMail();
  await page.fill('#username', username);
  await page.click('#forgot-form button[type=submit]');
  await page.waitForURL(`**/web/${ui}/reset-password`);
  const m = await mail;
  assert.equal(m.to, email);
  const code = codeOf(m);
  await page.fill('#code', code);
  await page.fill('#password', newPassword);
  await page.fill('#confirm_password', newPassword);
  await page.click('#reset-form button[type=submit]');
  await page.waitForURL(`**/web/${ui}/login`);
  assert.match(await page.textContent('#flash') ?? '', /Password reset/);
  return code;
}

test('web client: the emailed code sets a new password, once; the new password logs in', async () => {
  const ctx = await env.browser.newContext();
  try {
    const page = await ctx.newPage();
    const code = await resetThroughPages(page, 'client', 'forgetful', 'forgetful@example.com', 'New-pw-22');
    await page.fill('#username', 'forgetful');
    await page.fill('#password', 'New-pw-22');
    await page.click('#login-form button[type=submit]');
    await page.waitForURL('**/web/client/files');
    await page.screenshot({ path: join(env.dir, 'pwreset-client.png') });
    assert.equal((await env.app.ctx.provider.checkUserAndPass('forgetful', 'New-pw-22', { ip: '127.0.0.1', protocol: 'HTTP' })).username, 'forgetful');

    // the same code a second time, and a made-up one: refused, scored by the defender
    const b = new Browser(env.base);
    for (const c of [code, 'not-a-code']) {
      const form = await b.req('GET', '/web/client/reset-password');
      const r = await b.req('POST', '/web/client/reset-password', { _form_token: b.csrf(form.text), code: c, password: 'Other-pw-3', confirm_password: 'Other-pw-3' });
      assert.equal(r.status, 401);
      assert.match(r.text, /Confirmation code not found or expired/);
    }
    const host = (await env.app.ctx.perimeter.defenderHosts()).find((h) => h.ip === '127.0.0.1');
    assert.ok(host && (host.score ?? 0) >= 2, `defender score ${JSON.stringify(host)}`);
  } finally {
    await ctx.close();
  }
});

test('web admin: the emailed code sets a new password; a user code is not an admin code', async () => {
  const ctx = await env.browser.newContext();
  try {
    const page = await ctx.newPage();
    await resetThroughPages(page, 'admin', 'boss', 'boss@example.com', 'New-admin-pw-2');
    await page.fill('#username', 'boss');
    await page.fill('#password', 'New-admin-pw-2');
    await page.click('#login-form button[type=submit]');
    await page.waitForURL((u) => !u.pathname.endsWith('/login'));
    await page.screenshot({ path: join(env.dir, 'pwreset-admin.png') });

    // a user's code on the admin page
    const b = new Browser(env.base);
    const mail = nextMail();
    const ask = await b.req('GET', '/web/client/forgot-password');
    assert.equal((await b.req('POST', '/web/client/forgot-password', { _form_token: b.csrf(ask.text), username: 'forgetful' })).status, 303);
    const userCode = codeOf(await mail);
    const form = await b.req('GET', '/web/admin/reset-password');
    const r = await b.req('POST', '/web/admin/reset-password', { _form_token: b.csrf(form.text), code: userCode, password: 'Take-over-1', confirm_password: 'Take-over-1' });
    assert.equal(r.status, 401);
    await assert.rejects(env.app.ctx.provider.checkAdminAndPass('boss', 'Take-over-1', '127.0.0.1'));
  } finally {
    await ctx.close();
  }
});

test('an unknown account gets the same answer and no mail', async () => {
  const b = new Browser(env.base);
  const ask = await b.req('GET', '/web/client/forgot-password');
  const r = await b.req('POST', '/web/client/forgot-password', { _form_token: b.csrf(ask.text), username: 'nobody-here' });
  assert.equal(r.status, 303);
  assert.equal(r.location, '/web/client/reset-password');
  // a known account's request after it: the next mail is that one, so none was sent for "nobody-here"
  const mail = nextMail();
  const ask2 = await b.req('GET', '/web/client/forgot-password');
  await b.req('POST', '/web/client/forgot-password', { _form_token: b.csrf(ask2.text), username: 'forgetful' });
  assert.equal((await mail).to, 'forgetful@example.com');
});

test('without smtp there are no reset pages and no link', async () => {
  const s = await startServer({ binding: { enable_web_admin: true, enable_web_client: true } });
  try {
    for (const ui of ['client', 'admin']) {
      const login = await fetch(`${s.base}/web/${ui}/login`);
      assert.ok(!(await login.text()).includes('forgot-password'), ui);
      assert.equal((await fetch(`${s.base}/web/${ui}/forgot-password`)).status, 404, ui);
    }
  } finally {
    await s.close();
  }
});
