/**
 * OpenID Connect login against a real provider (oidc-provider on a free
 * loopback port) through headless Chromium: an admin by the nested role claim
 * (role_field "sftpgo.role"), a web client user created by the pre-login hook
 * (an HTTP hook started here: login_method IDP, protocol OIDC, the custom
 * field forwarded as oidc_custom_fields), logout calling the provider's
 * end-session endpoint; refused: an ID token whose claims were changed after
 * signing, an unsigned one, a user role on the admin link, a callback whose
 * state was altered or that another browser started. Screenshots go to
 * test/artifacts/oidc.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { startWebAdminEnv, type WebAdminEnv } from '../webadmin/harness';
import { freePort } from '../../support/net';
import { signInAtIdp, startIdp, type Idp } from './idp';

const ARTIFACTS = join(__dirname, '..', '..', '..', '..', 'test', 'artifacts', 'oidc');
const WAIT_MS = 60_000;

interface HookCall { query: URLSearchParams; body: Record<string, unknown> }

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('OpenID Connect login (oidc-provider, Chromium)', () => {
  let idp: Idp;
  let env: WebAdminEnv;
  let base: string;
  let hook: Server;
  const hookCalls: HookCall[] = [];

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const httpPort = await freePort();
    base = `http://127.0.0.1:${httpPort}`;
    idp = await startIdp({
      redirectUris: [`${base}/web/oidc/redirect`],
      accounts: {
        'oidc-admin': { preferred_username: 'oidc-admin', sftpgo: { role: 'admin' } },
        alice: { preferred_username: 'alice', sftpgo: { role: 'user' }, department: 'engineering' },
        'not-admin': { preferred_username: 'not-admin', sftpgo: { role: 'user' } },
        'idp-carl': { preferred_username: 'idp-carl', sftpgo: { role: 'user' }, department: 'sales' },
      },
    });
    // the pre-login hook: creates "alice" (and only her) from the IdP login
    hook = createServer((req, res) => {
      void readBody(req).then((text) => {
        const query = new URL(req.url ?? '/', 'http://x').searchParams;
        const body = JSON.parse(text) as Record<string, unknown>;
        hookCalls.push({ query, body });
        if (body.username !== 'alice') { res.writeHead(204).end(); return; }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
          // the user validation wants a credential: a long random password nobody knows (logins go through the IdP)
          username: 'alice', password: 'idp-only-6f1c2b9d8e7a', status: 1, home_dir: join(env.dir, 'homes', 'alice'), permissions: { '/': ['*'] },
          description: `from the IdP, department ${String((body.oidc_custom_fields as Record<string, unknown> | undefined)?.department)}`,
        }));
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/prelogin`;
    env = await startWebAdminEnv((c) => {
      c.httpd.bindings[0] = {
        ...c.httpd.bindings[0]!, port: httpPort, enable_web_client: true,
        oidc: {
          client_id: idp.clientId, client_secret: idp.clientSecret, client_secret_file: '', config_url: idp.issuer,
          redirect_base_url: base, scopes: ['openid', 'profile'], username_field: 'preferred_username',
          role_field: 'sftpgo.role', implicit_roles: false, custom_fields: ['department'],
          insecure_skip_signature_check: false, debug: false,
        },
      };
      c.data_provider.pre_login_hook = hookUrl;
    });
    await env.app.ctx.provider.addAdmin({ username: 'oidc-admin', password: 'unused-Passw0rd!', status: 1, permissions: ['*'] }, { username: 'test', ip: '127.0.0.1' });
  });

  after(async () => {
    await env?.stop();
    await idp?.close();
    await new Promise<void>((resolve) => (hook ? hook.close(() => resolve()) : resolve()));
  });

  /** A fresh browser context that reaches only 127.0.0.1 (the provider's page imports a web font). */
  async function newContext(): Promise<BrowserContext> {
    const ctx = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
    await ctx.route('**/*', (route) => (new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort()));
    return ctx;
  }

  async function oidcLogin(page: Page, loginPage: string, account: string): Promise<void> {
    await page.goto(`${base}${loginPage}`);
    await page.locator('#oidc-login').click();
    await page.waitForURL((u) => u.toString().startsWith(`${idp.issuer}/interaction/`), { timeout: WAIT_MS });
    await signInAtIdp(page, idp, account, WAIT_MS);
  }

  test('an admin logs in to the web admin by the role claim, then logs out (end session called)', async () => {
    const ctx = await newContext();
    try {
      const page = await ctx.newPage();
      await oidcLogin(page, '/web/admin/login', 'oidc-admin');
      await page.waitForURL(`${base}/web/admin/users`, { timeout: WAIT_MS });
      await page.screenshot({ path: join(ARTIFACTS, 'admin-logged-in.png') });
      assert.match(await page.content(), /oidc-admin/);
      const hintsBefore = idp.endSessionHints.length;
      const logout = page.locator('form[action="/web/admin/logout"] button, form[action="/web/admin/logout"] [type="submit"]').first();
      await Promise.all([page.waitForURL(`${base}/web/admin/login`, { timeout: WAIT_MS }), logout.click()]);
      // the end-session call is made in the background after the logout answer: wait for it, bounded
      const deadline = Date.now() + WAIT_MS;
      while (idp.endSessionHints.length === hintsBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(idp.endSessionHints.length, hintsBefore + 1, 'the provider got an end-session call with id_token_hint');
      const status = await page.goto(`${base}/web/admin/users`);
      assert.equal(new URL(page.url()).pathname, '/web/admin/login', `logged out (status ${status?.status()})`);
    } finally {
      await ctx.close();
    }
  });

  test('a web client user is created by the pre-login hook (IDP, OIDC, oidc_custom_fields)', async () => {
    assert.equal(await env.app.ctx.provider.getUser('alice'), undefined);
    const ctx = await newContext();
    try {
      const page = await ctx.newPage();
      await oidcLogin(page, '/web/client/login', 'alice');
      await page.waitForURL(`${base}/web/client/files`, { timeout: WAIT_MS });
      await page.screenshot({ path: join(ARTIFACTS, 'user-logged-in.png') });
      const call = hookCalls.find((c) => c.body.username === 'alice');
      assert.ok(call, 'the pre-login hook was called');
      assert.equal(call.query.get('login_method'), 'IDP');
      assert.equal(call.query.get('protocol'), 'OIDC');
      assert.deepEqual(call.body.oidc_custom_fields, { department: 'engineering' });
      const alice = await env.app.ctx.provider.getUser('alice');
      assert.equal(alice?.description, 'from the IdP, department engineering');
      assert.ok((alice?.last_login ?? 0) > 0, 'last login recorded');
    } finally {
      await ctx.close();
    }
  });

  test('an event rule on IDP login (sync IDP account check) creates the web client user from its template; the pre-login hook is not asked', async () => {
    const by = { username: 'test', ip: '127.0.0.1' };
    await env.app.ctx.eventManager.addAction({ name: 'idp-account', type: 13, options: { idp_config: { mode: 0, template_user: JSON.stringify({
      username: '{{.Name}}', status: 1, home_dir: join(env.dir, 'homes', '{{.Name}}'), permissions: { '/': ['*'] },
      password: 'idp-only-9a8b7c6d5e4f', description: 'department {{.IDPFielddepartment}}' }) } } }, by);
    await env.app.ctx.eventManager.addRule({ name: 'idp-accounts', status: 1, trigger: 7, conditions: { idp_login_event: 1, options: { names: [{ pattern: 'idp-*' }] } },
      actions: [{ name: 'idp-account', relation_options: { execute_sync: true } }] }, by);
    const hookCallsBefore = hookCalls.length;
    const ctx = await newContext();
    try {
      const page = await ctx.newPage();
      await oidcLogin(page, '/web/client/login', 'idp-carl');
      await page.waitForURL(`${base}/web/client/files`, { timeout: WAIT_MS });
      await page.screenshot({ path: join(ARTIFACTS, 'idp-account-check.png') });
      const carl = await env.app.ctx.provider.getUser('idp-carl');
      assert.equal(carl?.description, 'department sales');
      assert.ok((carl?.last_login ?? 0) > 0, 'last login recorded');
      assert.equal(hookCalls.length, hookCallsBefore, 'the account check decided: no pre-login hook call');
    } finally {
      await ctx.close();
    }
  });

  test('a user role on the admin link is refused', async () => {
    const ctx = await newContext();
    try {
      const page = await ctx.newPage();
      await oidcLogin(page, '/web/admin/login', 'not-admin');
      await page.waitForURL(`${base}/web/admin/login`, { timeout: WAIT_MS });
      assert.match(await page.content(), /not an SFTPGo admin/);
      const users = await page.goto(`${base}/web/admin/users`);
      assert.equal(new URL(page.url()).pathname, '/web/admin/login', `no session (status ${users?.status()})`);
    } finally {
      await ctx.close();
    }
  });

  for (const tamper of ['payload', 'unsigned'] as const) {
    test(`an ID token ${tamper === 'payload' ? 'changed after signing (role promoted to admin)' : 'without signature (alg none)'} is refused`, async () => {
      idp.tamper = tamper;
      const ctx = await newContext();
      try {
        const page = await ctx.newPage();
        await oidcLogin(page, '/web/admin/login', 'not-admin');
        await page.waitForURL(`${base}/web/admin/login`, { timeout: WAIT_MS });
        await page.screenshot({ path: join(ARTIFACTS, `refused-${tamper}.png`) });
        assert.match(await page.content(), /Failed to verify OpenID token/);
        await page.goto(`${base}/web/admin/users`);
        assert.equal(new URL(page.url()).pathname, '/web/admin/login');
      } finally {
        idp.tamper = 'none';
        await ctx.close();
      }
      const lines = await env.logLines();
      assert.ok(lines.some((l) => /oidc login refused: failed to verify id token/.test(String(l.message ?? l.msg ?? ''))), 'the refusal is logged');
    });
  }

  test('a callback with an altered state, or started by another browser, is refused', async () => {
    const first = await newContext();
    const second = await newContext();
    try {
      const page = await first.newPage();
      // the provider keeps the way back: the browser stays on its page, the callback URL is kept
      idp.holdCallbacks = true;
      let callback: string;
      try {
        await oidcLogin(page, '/web/client/login', 'alice');
        await page.getByText('callback held by the test').waitFor({ timeout: WAIT_MS });
        callback = idp.heldCallbacks.at(-1) ?? '';
      } finally {
        idp.holdCallbacks = false;
      }
      assert.ok(callback.includes('code='), 'the provider sent the browser back with a code');
      const altered = new URL(callback);
      altered.searchParams.set('state', `${altered.searchParams.get('state') ?? ''}x`);
      const r1 = await page.goto(altered.toString());
      assert.equal(r1?.status(), 400);
      assert.match(await page.content(), /Invalid authentication request/);
      // the genuine callback opened in a browser that did not start the login (no state cookie)
      const other = await second.newPage();
      const r2 = await other.goto(callback);
      assert.equal(r2?.status(), 400);
      // and the state was used up by that attempt: the first browser cannot use it either
      const r3 = await page.goto(callback);
      assert.equal(r3?.status(), 400);
      await page.goto(`${base}/web/client/files`);
      assert.equal(new URL(page.url()).pathname, '/web/client/login');
    } finally {
      await first.close();
      await second.close();
    }
  });
});
