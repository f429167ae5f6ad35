/**
 * httpd.web_root "/sftpgo" with branding for both UIs, in Chromium and curl:
 * every link, form, stylesheet, script and image a page points at, every
 * redirect and every cookie path carries the prefix; the same web URLs
 * without it answer 404 while the REST API stays at /api/v2; the branding
 * (name, short name in the title, favicon, logo, disclaimer link, a CSS
 * replacing the default one, extra CSS) shows on the login and inner pages of
 * both UIs; an upload through the page (tus) works under the prefix. Bad
 * values stop start-up naming the key.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { BrandingConfig } from '../../../src/config/types-ops';
import { createHttpService } from '../../../src/httpd/server';
import { startWebAdminEnv, type WebAdminEnv } from '../webadmin/harness';

const ROOT = '/sftpgo';
// a 1x1 PNG
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64');
let env: WebAdminEnv;
let staticDir: string;

function brand(over: Partial<BrandingConfig>): BrandingConfig {
  return { name: '', short_name: '', favicon_path: '', logo_path: '', disclaimer_name: '', disclaimer_path: '', default_css: [], extra_css: [], ...over };
}

before(async () => {
  env = await startWebAdminEnv((c) => {
    staticDir = join(c.data_provider.name, '..', 'branding-static');
    mkdirSync(join(staticDir, 'brand'), { recursive: true });
    writeFileSync(join(staticDir, 'brand', 'logo.png'), PNG);
    writeFileSync(join(staticDir, 'brand', 'favicon.png'), PNG);
    writeFileSync(join(staticDir, 'brand', 'extra.css'), 'body { outline: 3px solid rgb(1, 2, 3); }\n');
    // replaces client.css: the page must then have no client.css rule (its header background)
    writeFileSync(join(staticDir, 'brand', 'client-base.css'), '#brand-name { color: rgb(4, 5, 6); }\n');
    writeFileSync(join(staticDir, 'brand', 'terms.html'), '<!doctype html><title>Terms</title><p id="terms">Be nice.</p>\n');
    c.httpd.web_root = `${ROOT}/`;
    c.httpd.static_files_path = staticDir;
    c.httpd.bindings[0]!.branding = {
      web_admin: brand({ name: 'ACME Admin Console', short_name: 'ACME Admin', logo_path: '/brand/logo.png', favicon_path: '/brand/favicon.png',
        disclaimer_name: 'Terms of use', disclaimer_path: '/brand/terms.html', extra_css: ['/brand/extra.css'] }),
      web_client: brand({ name: 'ACME Files', short_name: 'Files', logo_path: 'brand/logo.png', disclaimer_name: 'Legal',
        disclaimer_path: 'https://example.com/legal', default_css: ['/brand/client-base.css'], extra_css: ['/brand/extra.css'] }),
    };
  });
  await env.app.ctx.provider.addUser({ username: 'rooted', password: 'Rooted-pw-1', status: 1, home_dir: join(env.dir, 'homes', 'rooted'), permissions: { '/': ['*'] } });
  await env.app.ctx.provider.addAdmin({ username: 'rootadmin', password: 'Root-admin-pw-1', status: 1, permissions: ['*'] });
});
after(async () => { await env?.stop(); });

/** Every same-origin URL the page refers to (links, forms, styles, scripts, images, data-*-url); runs in the page. */
const PAGE_URLS = `(() => {
  const out = [];
  for (const e of document.querySelectorAll('a[href], form[action], link[href], script[src], img[src], [data-upload-url], [data-tus-url]')) {
    for (const attr of ['href', 'action', 'src', 'data-upload-url', 'data-tus-url']) {
      const v = e.getAttribute(attr);
      if (v === null || v.startsWith('?') || v.startsWith('#') || v.startsWith('data:')) continue;
      const u = new URL(v, document.baseURI);
      if (u.origin === location.origin) out.push(u.pathname);
    }
  }
  return out;
})()`;

async function pageUrls(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(PAGE_URLS);
}

/** A computed style property of the first element matching `selector`. */
function styleOf(page: Page, selector: string, prop: string): Promise<string> {
  return page.evaluate<string>(`getComputedStyle(document.querySelector(${JSON.stringify(selector)})).${prop}`);
}

/** True once the image has loaded as the 1x1 PNG. */
function logoLoaded(page: Page): Promise<boolean> {
  return page.evaluate<boolean>(`(() => { const i = document.querySelector('#brand-logo'); return i !== null && i.complete && i.naturalWidth === 1; })()`);
}

async function assertAllPrefixed(page: Page, what: string): Promise<void> {
  const urls = await pageUrls(page);
  assert.ok(urls.length > 3, `${what}: ${urls.length} URLs`);
  const outside = urls.filter((u) => !u.startsWith(`${ROOT}/`));
  assert.deepEqual(outside, [], `${what}: URLs without the web root`);
}

const run = promisify(execFile);

/** curl in a child process (the server runs in this one: a synchronous call would block it). */
async function curl(args: string[]): Promise<string> {
  return (await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', ...args], { encoding: 'utf8' })).stdout;
}

test('curl: redirects carry the prefix, unprefixed web URLs are 404, the REST API stays at the root', async () => {
  const host = env.base;
  assert.equal(await curl([`${host}${ROOT}/`]), `302 ${host}${ROOT}/web/admin`);
  assert.equal(await curl([`${host}${ROOT}/web/client/files`]), `303 ${host}${ROOT}/web/client/login`);
  assert.equal(await curl([`${host}${ROOT}/web/admin/users`]), `303 ${host}${ROOT}/web/admin/login`);
  assert.match(await curl([`${host}${ROOT}/web/client/login`]), /^200 /);
  assert.match(await curl([`${host}${ROOT}/static/brand/logo.png`]), /^200 /);
  assert.match(await curl([`${host}${ROOT}/web/client/static/client.css`]), /^200 /);
  for (const p of ['/web/client/login', '/web/admin/login', '/static/webadmin/admin.css', '/', `${ROOT}/api/v2/token`]) {
    assert.match(await curl([`${host}${p}`]), /^404 /, p);
  }
  assert.match(await curl(['-u', 'rootadmin:Root-admin-pw-1', `${host}/api/v2/token`]), /^200 /);
  assert.match(await curl([`${host}/healthz`]), /^200 /);
  // cookies are scoped to the prefix
  const headers = (await run('curl', ['-s', '-D', '-', '-o', '/dev/null', `${host}${ROOT}/web/client/login`], { encoding: 'utf8' })).stdout;
  const paths = [...headers.matchAll(/^set-cookie: [^\n]*?; Path=([^;\r\n]*)/gim)].map((m) => m[1]);
  assert.ok(paths.length > 0 && paths.every((p) => p!.startsWith(`${ROOT}/`)), `cookie paths ${paths.join(', ')}`);
  // the access log shows the URL as the client sent it, prefix included
  const uris = (await env.logLines()).filter((l) => l['sender'] === 'httpd' && typeof l['uri'] === 'string').map((l) => String(l['uri']));
  assert.ok(uris.includes(`${host}${ROOT}/web/client/login`), `access log uris: ${uris.slice(-5).join(', ')}`);
});

test('web client in Chromium under the prefix, with its branding', async () => {
  const ctx = await env.browser.newContext({ viewport: { width: 1366, height: 800 } });
  try {
    const page = await ctx.newPage();
    await page.goto(`${env.base}${ROOT}/web/client/login`);
    assert.equal(await page.title(), 'Sign in · Files');
    assert.equal(await page.textContent('#brand-name'), 'ACME Files');
    assert.equal(await page.getAttribute('#brand-disclaimer', 'href'), 'https://example.com/legal');
    assert.equal(await page.textContent('#brand-disclaimer'), 'Legal');
    assert.ok(await logoLoaded(page), 'the logo loaded');
    assert.equal(await styleOf(page, '#brand-name', 'color'), 'rgb(4, 5, 6)', 'the replacement CSS applies');
    assert.equal(await styleOf(page, 'body', 'outlineColor'), 'rgb(1, 2, 3)', 'the extra CSS applies');
    assert.equal(await page.$('link[href$="/client.css"]'), null, 'default_css replaces the default stylesheet');
    await assertAllPrefixed(page, 'client login');
    await page.fill('#username', 'rooted');
    await page.fill('#password', 'Rooted-pw-1');
    await page.click('#login-form button[type=submit]');
    await page.waitForURL(`**${ROOT}/web/client/files`);
    await assertAllPrefixed(page, 'client files');
    for (const c of await ctx.cookies()) assert.ok(c.path.startsWith(`${ROOT}/`), `cookie ${c.name} path ${c.path}`);
    // an upload through the page's resumable uploader, then the file list
    await page.setInputFiles('#upload-input', [{ name: 'under-root.txt', mimeType: 'text/plain', buffer: Buffer.from('prefixed upload\n') }]);
    await page.waitForSelector('#upload-summary');
    assert.equal(await page.getAttribute('li.upload', 'data-state'), 'done');
    assert.equal(readFileSync(join(env.dir, 'homes', 'rooted', 'under-root.txt'), 'utf8'), 'prefixed upload\n');
    await page.click('#upload-refresh');
    await page.waitForSelector('text=under-root.txt');
    for (const p of ['profile', 'shares']) {
      await page.click(`#nav a[href="${ROOT}/web/client/${p}"]`);
      await page.waitForURL(`**${ROOT}/web/client/${p}`);
      await assertAllPrefixed(page, `client ${p}`);
    }
    await page.screenshot({ path: join(env.dir, 'webroot-client.png'), fullPage: true });
    await page.click('header form.who button');
    await page.waitForURL(`**${ROOT}/web/client/login`);
  } finally {
    await ctx.close();
  }
});

test('web admin in Chromium under the prefix, with its branding', async () => {
  const ctx = await env.browser.newContext({ viewport: { width: 1366, height: 800 } });
  try {
    const page = await ctx.newPage();
    await page.goto(`${env.base}${ROOT}/web/admin`);
    await page.waitForURL(`**${ROOT}/web/admin/login`);
    assert.equal(await page.title(), 'Login · ACME Admin');
    assert.equal(await page.textContent('#brand-name'), 'ACME Admin Console');
    assert.equal(await page.getAttribute('#brand-favicon', 'href'), `${ROOT}/static/brand/favicon.png`);
    assert.equal(await styleOf(page, 'body', 'outlineColor'), 'rgb(1, 2, 3)');
    assert.ok(await page.$('link[href$="/static/webadmin/admin.css"]'), 'the default stylesheet is kept (no default_css)');
    await assertAllPrefixed(page, 'admin login');
    const [terms] = await Promise.all([ctx.waitForEvent('page'), page.click('#brand-disclaimer')]);
    await terms.waitForLoadState();
    assert.equal(new URL(terms.url()).pathname, `${ROOT}/static/brand/terms.html`);
    assert.equal(await terms.textContent('#terms'), 'Be nice.');
    await terms.close();
    await page.fill('#username', 'rootadmin');
    await page.fill('#password', 'Root-admin-pw-1');
    await page.click('#login-form button[type=submit]');
    await page.waitForURL(`**${ROOT}/web/admin/users`);
    assert.ok(await logoLoaded(page), 'the logo loaded');
    await assertAllPrefixed(page, 'admin users');
    for (const p of ['folders', 'status', 'profile']) {
      await page.goto(`${env.base}${ROOT}/web/admin/${p}`);
      await assertAllPrefixed(page, `admin ${p}`);
    }
    await page.screenshot({ path: join(env.dir, 'webroot-admin.png'), fullPage: true });
  } finally {
    await ctx.close();
  }
});

test('a relative web_root or a branding file that does not exist stops start-up, naming the key', async () => {
  const ctx = env.app.ctx;
  const withHttpd = (httpd: typeof ctx.config.httpd): typeof ctx => ({ ...ctx, config: { ...ctx.config, httpd } });
  const h = ctx.config.httpd;
  const one = (b: Partial<typeof h.bindings[0]>) => [{ ...h.bindings[0]!, port: 0, ...b }];
  await assert.rejects(createHttpService(withHttpd({ ...h, web_root: 'sftpgo', bindings: one({}) }), { serviceStatus: () => ({}), ephemeralPorts: true }).start(),
    /httpd\.web_root: "sftpgo" must be an absolute URL path/);
  const missing = { ...h, bindings: one({ branding: { web_admin: brand({}), web_client: brand({ logo_path: '/brand/nope.png' }) } }) };
  await assert.rejects(createHttpService(withHttpd(missing), { serviceStatus: () => ({}), ephemeralPorts: true }).start(),
    /httpd\.bindings\[0\]\.branding\.web_client\.logo_path: "\/brand\/nope\.png" is not a servable file/);
});
