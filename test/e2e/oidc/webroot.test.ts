/**
 * OpenID Connect under httpd.web_root "/sftpgo" (a reverse proxy forwarding
 * https://host/sftpgo/... unchanged), with a real provider (oidc-provider)
 * through headless Chromium: the provider is registered with the prefixed
 * redirect URI only, so a login that works proves the redirect carries the
 * prefix; the admin and the web client user land on their prefixed pages,
 * every page URL the flow passes through carries the prefix, and the admin's
 * logout ends on the prefixed login page. The web client user has no
 * password and no key: the IdP is the account's only credential.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { startWebAdminEnv, type WebAdminEnv } from '../webadmin/harness';
import { freePort } from '../../support/net';
import { signInAtIdp, startIdp, type Idp } from './idp';

const ROOT = '/sftpgo';
const WAIT_MS = 60_000;

describe('OpenID Connect under web_root (oidc-provider, Chromium)', () => {
  let idp: Idp;
  let env: WebAdminEnv;
  let base: string;

  before(async () => {
    const httpPort = await freePort();
    base = `http://127.0.0.1:${httpPort}`;
    idp = await startIdp({
      redirectUris: [`${base}${ROOT}/web/oidc/redirect`],
      accounts: {
        'root-admin': { preferred_username: 'root-admin', sftpgo: { role: 'admin' } },
        bob: { preferred_username: 'bob', sftpgo: { role: 'user' } },
      },
    });
    env = await startWebAdminEnv((c) => {
      c.httpd.web_root = ROOT;
      c.httpd.bindings[0] = {
        ...c.httpd.bindings[0]!, port: httpPort, enable_web_client: true,
        oidc: {
          client_id: idp.clientId, client_secret: idp.clientSecret, client_secret_file: '', config_url: idp.issuer,
          redirect_base_url: base, scopes: ['openid', 'profile'], username_field: 'preferred_username',
          role_field: 'sftpgo.role', implicit_roles: false, custom_fields: [],
          insecure_skip_signature_check: false, debug: false,
        },
      };
    });
    const by = { username: 'test', ip: '127.0.0.1' };
    await env.app.ctx.provider.addAdmin({ username: 'root-admin', password: 'unused-Passw0rd!', status: 1, permissions: ['*'] }, by);
    await env.app.ctx.provider.addUser({ username: 'bob', status: 1, home_dir: join(env.dir, 'homes', 'bob'), permissions: { '/': ['*'] } }, by);
  });

  after(async () => {
    await env?.stop();
    await idp?.close();
  });

  async function newContext(): Promise<{ ctx: BrowserContext; visited: string[] }> {
    const ctx = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
    await ctx.route('**/*', (route) => (new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort()));
    const visited: string[] = [];
    ctx.on('request', (r) => { if (r.isNavigationRequest() && r.url().startsWith(base)) visited.push(new URL(r.url()).pathname); });
    return { ctx, visited };
  }

  async function oidcLogin(page: Page, loginPage: string, account: string): Promise<void> {
    await page.goto(`${base}${loginPage}`);
    await page.locator('#oidc-login').click();
    await page.waitForURL((u) => u.toString().startsWith(`${idp.issuer}/interaction/`), { timeout: WAIT_MS });
    await signInAtIdp(page, idp, account, WAIT_MS);
  }

  function assertPrefixed(visited: string[]): void {
    assert.ok(visited.length >= 3, `navigations: ${visited.join(', ')}`);
    assert.deepEqual(visited.filter((p) => !p.startsWith(`${ROOT}/`)), [], 'every page of the flow is under the web root');
  }

  test('an admin logs in by the role claim and out, every page under the prefix', async () => {
    const { ctx, visited } = await newContext();
    try {
      const page = await ctx.newPage();
      await oidcLogin(page, `${ROOT}/web/admin/login`, 'root-admin');
      await page.waitForURL(`${base}${ROOT}/web/admin/users`, { timeout: WAIT_MS });
      assert.match(await page.content(), /root-admin/);
      assert.ok(visited.includes(`${ROOT}/web/oidc/redirect`), 'the provider sent the browser back to the prefixed redirect');
      const logout = page.locator(`form[action="${ROOT}/web/admin/logout"] button, form[action="${ROOT}/web/admin/logout"] [type="submit"]`).first();
      await Promise.all([page.waitForURL(`${base}${ROOT}/web/admin/login`, { timeout: WAIT_MS }), logout.click()]);
      await page.goto(`${base}${ROOT}/web/admin/users`);
      assert.equal(new URL(page.url()).pathname, `${ROOT}/web/admin/login`, 'logged out');
      assertPrefixed(visited);
    } finally {
      await ctx.close();
    }
  });

  test('a web client user without password or key logs in through the IdP under the prefix', async () => {
    const { ctx, visited } = await newContext();
    try {
      const page = await ctx.newPage();
      await oidcLogin(page, `${ROOT}/web/client/login`, 'bob');
      await page.waitForURL(`${base}${ROOT}/web/client/files`, { timeout: WAIT_MS });
      assertPrefixed(visited);
      const bob = await env.app.ctx.provider.getUser('bob');
      assert.ok((bob?.last_login ?? 0) > 0, 'last login recorded');
    } finally {
      await ctx.close();
    }
  });
});
