/**
 * Web state on a shared provider: two daemons (`sftpgo serve`, each its own
 * process) on one PostgreSQL database with data_provider.is_shared 1 and a
 * common signing passphrase. A password reset code requested on node A (the
 * mail caught by a real SMTP server) sets the password on node B once; the
 * same code is refused on B and on A afterwards. An OpenID Connect login
 * (oidc-provider, Chromium) started on node A comes back to node B, which
 * opens the web client session; the same callback replayed is refused. The
 * databases are created and dropped by the test.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { chromium } from 'playwright-core';
import { removeDaemonDir } from '../../support/daemon';
import { createDatabase } from '../../support/databases';
import { freePort } from '../../support/net';
import { Browser } from '../webclient/httpclient';
import { signInAtIdp, startIdp } from '../oidc/idp';
import { startNode } from './node';

const WAIT_MS = 60_000;

/** An SMTP peer on loopback handing each message's text to the next waiter. */
async function smtpCatcher(): Promise<{ port: number; next(): Promise<string>; close(): Promise<void> }> {
  const mails: string[] = [];
  const waiters: ((m: string) => void)[] = [];
  const server = new SMTPServer({
    authOptional: true, hideSTARTTLS: true, logger: false,
    onData(stream, _session, cb) {
      let data = '';
      stream.on('data', (d: Buffer) => (data += d.toString()));
      stream.on('end', () => {
        const w = waiters.shift();
        if (w) w(data); else mails.push(data);
        cb();
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    next: () => {
      const m = mails.shift();
      return m !== undefined ? Promise.resolve(m) : new Promise((resolve) => waiters.push(resolve));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('web state shared between nodes on PostgreSQL', () => {
  test('a reset code mailed by node A is accepted by node B once', async (t) => {
    const cleanups: (() => Promise<void> | void)[] = [];
    t.after(async () => { for (const fn of cleanups.reverse()) await fn(); });
    const smtp = await smtpCatcher();
    cleanups.push(() => smtp.close());
    const db = await createDatabase('postgresql');
    cleanups.push(() => db.drop());
    const env = {
      SFTPGO_SMTP__HOST: '127.0.0.1', SFTPGO_SMTP__PORT: String(smtp.port), SFTPGO_SMTP__FROM: 'sftpgo@example.com',
      SFTPGO_SMTP__ENCRYPTION: '0', SFTPGO_HTTPD__SIGNING_PASSPHRASE: 'cluster-wide-signing-passphrase',
    };
    const a = await startNode(db.config, env);
    cleanups.push(() => removeDaemonDir(a));
    const b = await startNode(db.config, env);
    cleanups.push(() => removeDaemonDir(b));
    const created = await a.api('POST', '/users', {
      status: 1, username: 'forgetful', password: 'Old-pw-1', email: 'forgetful@example.com',
      home_dir: join(a.dir, 'homes', 'forgetful'), permissions: { '/': ['*'] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));

    const onA = new Browser(`http://127.0.0.1:${a.httpPort}`);
    const mail = smtp.next();
    const ask = await onA.req('GET', '/web/client/forgot-password');
    assert.equal((await onA.req('POST', '/web/client/forgot-password', { _form_token: onA.csrf(ask.text), username: 'forgetful' })).status, 303);
    const code = /verification code is: ([A-Za-z0-9_-]+)/.exec((await mail).replace(/=\r?\n/g, ''))?.[1];
    assert.ok(code);

    const resetOn = async (br: Browser, password: string): Promise<{ status: number; text: string }> => {
      const form = await br.req('GET', '/web/client/reset-password');
      return br.req('POST', '/web/client/reset-password', { _form_token: br.csrf(form.text), code, password, confirm_password: password });
    };
    const onB = new Browser(`http://127.0.0.1:${b.httpPort}`);
    const used = await resetOn(onB, 'New-pw-22');
    assert.equal(used.status, 303, used.text);
    assert.equal(await new Browser(`http://127.0.0.1:${b.httpPort}`).login('forgetful', 'New-pw-22'), 303, 'the new password logs in on B');
    assert.equal(await new Browser(`http://127.0.0.1:${a.httpPort}`).login('forgetful', 'New-pw-22'), 303, 'and on A');
    for (const [node, br] of [['B', onB], ['A', onA]] as const) {
      const again = await resetOn(br, 'Other-pw-3');
      assert.equal(again.status, 401, `the code used on B is refused on ${node}`);
      assert.match(again.text, /Confirmation code not found or expired/);
    }
  });

  test('an OpenID login started on node A finishes on node B, once', async (t) => {
    const cleanups: (() => Promise<void> | void)[] = [];
    t.after(async () => { for (const fn of cleanups.reverse()) await fn(); });
    const portB = await freePort();
    const baseB = `http://127.0.0.1:${portB}`;
    const idp = await startIdp({ redirectUris: [`${baseB}/web/oidc/redirect`], accounts: { alice: { preferred_username: 'alice' } } });
    cleanups.push(() => idp.close());
    const db = await createDatabase('postgresql');
    cleanups.push(() => db.drop());
    // both nodes send the provider back to B (behind a balancer: the balancer's address)
    const env = {
      SFTPGO_HTTPD__SIGNING_PASSPHRASE: 'cluster-wide-signing-passphrase',
      SFTPGO_HTTPD__BINDINGS__0__OIDC__CONFIG_URL: idp.issuer, SFTPGO_HTTPD__BINDINGS__0__OIDC__CLIENT_ID: idp.clientId,
      SFTPGO_HTTPD__BINDINGS__0__OIDC__CLIENT_SECRET: idp.clientSecret, SFTPGO_HTTPD__BINDINGS__0__OIDC__REDIRECT_BASE_URL: baseB,
      SFTPGO_HTTPD__BINDINGS__0__OIDC__USERNAME_FIELD: 'preferred_username',
    };
    const a = await startNode(db.config, env);
    cleanups.push(() => removeDaemonDir(a));
    const b = await startNode(db.config, env, portB);
    cleanups.push(() => removeDaemonDir(b));
    const created = await a.api('POST', '/users', {
      status: 1, username: 'alice', password: 'idp-only-6f1c2b9d8e7a', home_dir: join(a.dir, 'homes', 'alice'), permissions: { '/': ['*'] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));

    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    cleanups.push(() => browser.close());
    const ctx = await browser.newContext();
    // only 127.0.0.1 (the provider's page imports a web font)
    await ctx.route('**/*', (route) => (new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort()));
    const page = await ctx.newPage();
    // the provider keeps the way back, so the test can send the browser there twice
    idp.holdCallbacks = true;
    await page.goto(`http://127.0.0.1:${a.httpPort}/web/client/login`);
    await page.locator('#oidc-login').click();
    await page.waitForURL((u) => u.toString().startsWith(`${idp.issuer}/interaction/`), { timeout: WAIT_MS });
    await signInAtIdp(page, idp, 'alice', WAIT_MS);
    await page.getByText('callback held by the test').waitFor({ timeout: WAIT_MS });
    idp.holdCallbacks = false;
    const callback = idp.heldCallbacks.at(-1) ?? '';
    assert.ok(callback.startsWith(`${baseB}/web/oidc/redirect?`) && callback.includes('code='), callback);

    await page.goto(callback);
    await page.waitForURL(`${baseB}/web/client/files`, { timeout: WAIT_MS });
    assert.match(await page.content(), /alice/);
    const replay = await page.goto(callback);
    assert.equal(replay?.status(), 400, 'the pending login was used up on B');
    assert.match(await page.content(), /Invalid authentication request/);
  });
});
