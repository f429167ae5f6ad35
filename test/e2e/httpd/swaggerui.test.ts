/**
 * /openapi renders Swagger UI from locally served assets (no network): a
 * headless Chromium opens the page, Swagger UI loads /openapi/openapi.json
 * and shows one operation block per documented operation.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser } from 'playwright-core';
import { startServer, type TestServer } from './support';

let s: TestServer;
let browser: Browser;
before(async () => {
  s = await startServer();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});
after(async () => {
  await browser?.close();
  await s?.close();
});

test('the assets are served locally', async () => {
  const page = await s.call('GET', '/openapi');
  assert.match(page.text, /<script src="\/openapi\/ui\/swagger-ui-bundle\.js"><\/script><script src="\/openapi\/ui\/init\.js"><\/script>/);
  const bundle = await fetch(`${s.base}/openapi/ui/swagger-ui-bundle.js`);
  assert.equal(bundle.status, 200);
  assert.match(bundle.headers.get('content-type') ?? '', /javascript/);
  assert.match(await bundle.text(), /SwaggerUIBundle/);
  const css = await fetch(`${s.base}/openapi/ui/swagger-ui.css`);
  assert.equal(css.status, 200);
  assert.match(css.headers.get('content-type') ?? '', /text\/css/);
  await css.arrayBuffer();
  const init = await s.call('GET', '/openapi/ui/init.js');
  assert.match(init.text, /url: '\/openapi\/openapi\.json'/);
  assert.equal((await s.call('GET', '/openapi/ui/../../api/v2/users')).status, 401, 'no path games: normalized to an API route');
  assert.equal((await s.call('GET', '/openapi/ui/package.json')).status, 404, 'only the two assets are served');
});

test('a browser renders every documented operation with Swagger UI, offline', async () => {
  const doc = (await s.call('GET', '/openapi/openapi.json')).json as { paths: Record<string, Record<string, unknown>> };
  const ops = Object.values(doc.paths).reduce((n, p) => n + Object.keys(p).length, 0);
  const ctx = await browser.newContext();
  const external: string[] = [];
  await ctx.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(s.base)) return route.continue();
    external.push(url);
    return route.abort();
  });
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${s.base}/openapi`);
  await page.locator('.swagger-ui .opblock').first().waitFor({ timeout: 30_000 });
  assert.equal(await page.locator('.swagger-ui .opblock').count(), ops);
  assert.ok(await page.locator('.swagger-ui .opblock-summary-path[data-path="/api/v2/users/{username}"]').count() > 0);
  assert.deepEqual(errors, []);
  assert.deepEqual(external, [], 'no request leaves the server');
  await ctx.close();
});
