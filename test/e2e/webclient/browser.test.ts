/**
 * The web client in headless Chromium at laptop and phone widths, against the
 * real application: login (with and without TOTP, TOTP enrolment with the QR
 * page), browse, new folder, upload of three files with per-file progress,
 * download, zip of two, rename, delete, a password share with an expiry
 * opened logged out in a second browser context, an upload-only share
 * receiving a file. Screenshots go to the test's temp dir (and are copied to
 * test/artifacts/webclient, git-ignored, for a look after the run).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { totpCode } from '../../../src/mfa/totp';
import { startWebAdminEnv, type WebAdminEnv } from '../webadmin/harness';

const ARTIFACTS = join(__dirname, '..', '..', '..', '..', 'test', 'artifacts', 'webclient');
const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const STEP_MS = 30_000;
/** per secret, the step whose code was used last: each login uses a later one (replays are refused), within the skew */
const lastStep = new Map<string, number>();
function nextCode(secret: string): string {
  const step = Math.max(Math.floor(Date.now() / STEP_MS), (lastStep.get(secret) ?? 0) + 1);
  lastStep.set(secret, step);
  return totpCode(secret, 'sha1', step * STEP_MS);
}

let env: WebAdminEnv;
let shots: string;

before(async () => {
  env = await startWebAdminEnv((c) => { c.mfa.totp = [{ name: 'Default', issuer: 'SFTPGo-ts', algo: 'sha1' }]; });
  shots = join(env.dir, 'screenshots');
  mkdirSync(shots, { recursive: true });
});
after(async () => {
  if (shots && existsSync(shots)) {
    mkdirSync(ARTIFACTS, { recursive: true });
    cpSync(shots, ARTIFACTS, { recursive: true });
  }
  await env?.stop();
});

async function shot(p: Page, name: string): Promise<void> {
  await p.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function login(p: Page, username: string, password: string): Promise<void> {
  await p.goto(`${env.base}/web/client/login`);
  await p.fill('#username', username);
  await p.fill('#password', password);
  await p.click('#login-form button[type=submit]');
}

const VIEWPORTS = [
  { name: 'laptop', viewport: { width: 1366, height: 800 } },
  { name: 'phone', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
];

for (const vp of VIEWPORTS) {
  describe(`web client (${vp.name})`, () => {
    const username = `wc-${vp.name}`;
    const password = `Pw-${vp.name}-1`;
    let home: string;
    let ctx: BrowserContext;
    let page: Page;
    const s = (n: string): Promise<void> => shot(page, `${vp.name}-${n}`);

    before(async () => {
      home = join(env.dir, 'homes', username);
      await env.app.ctx.provider.addUser({ username, password, status: 1, home_dir: home, permissions: { '/': ['*'] } });
      ctx = await env.browser.newContext({ viewport: vp.viewport, isMobile: vp.isMobile, hasTouch: vp.hasTouch, acceptDownloads: true });
      page = await ctx.newPage();
      page.on('dialog', (d) => { void d.accept(); });
    });
    after(async () => { await ctx?.close().catch(() => undefined); });

    test('login without TOTP, wrong password refused', async () => {
      await login(page, username, 'wrong');
      assert.match((await page.textContent('#flash')) ?? '', /Invalid credentials/);
      await s('login-error');
      await login(page, username, password);
      await page.waitForURL('**/web/client/files');
      assert.equal(await page.textContent('#user-name').catch(() => username), username);
      await s('files-empty');
    });

    test('new folder, browse into it, upload three files with progress', async () => {
      await page.fill('#new-folder-name', 'docs');
      await page.click('#mkdir-btn');
      await page.waitForSelector('.file-row[data-name="docs"]');
      await page.click('.file-row[data-name="docs"] a.dir');
      await page.waitForURL(/path=%2Fdocs/);
      assert.match((await page.textContent('#crumbs')) ?? '', /docs/);
      const big = Buffer.alloc(3 << 20, 7);
      await page.setInputFiles('#upload-input', [
        { name: 'a.txt', mimeType: 'text/plain', buffer: Buffer.from('alpha\n') },
        { name: 'b.txt', mimeType: 'text/plain', buffer: Buffer.from('bravo\n') },
        { name: 'big.bin', mimeType: 'application/octet-stream', buffer: big },
      ]);
      await page.waitForSelector('#upload-summary', { timeout: 60_000 });
      const states = await page.$$eval('li.upload', (els) => els.map((e) => [e.getAttribute('data-file'), e.getAttribute('data-state'), Number(e.querySelector('progress')?.getAttribute('value') ?? (e.querySelector('progress') as unknown as { value: number }).value)]));
      assert.deepEqual(states, [['a.txt', 'done', 100], ['b.txt', 'done', 100], ['big.bin', 'done', 100]]);
      await s('uploaded');
      await page.click('#upload-refresh');
      await page.waitForSelector('.file-row[data-name="big.bin"]');
      assert.equal(readFileSync(join(home, 'docs/a.txt'), 'utf8'), 'alpha\n');
      assert.ok(readFileSync(join(home, 'docs/big.bin')).equals(big));
      await s('listing');
    });

    test('download one file, zip two', async () => {
      const [dl] = await Promise.all([page.waitForEvent('download'), page.click('.file-row[data-name="a.txt"] a.file')]);
      assert.equal(readFileSync((await dl.path())!, 'utf8'), 'alpha\n');
      await page.check('.file-row[data-name="a.txt"] input[name=files]');
      await page.check('.file-row[data-name="b.txt"] input[name=files]');
      const [zip] = await Promise.all([page.waitForEvent('download'), page.click('#zip-btn')]);
      const file = join(env.dir, `${vp.name}.zip`);
      await zip.saveAs(file);
      assert.deepEqual(execFileSync('unzip', ['-Z1', file], { encoding: 'utf8' }).split('\n').filter(Boolean).sort(), ['a.txt', 'b.txt']);
      assert.equal(execFileSync('unzip', ['-p', file, 'b.txt'], { encoding: 'utf8' }), 'bravo\n');
    });

    test('rename, then delete with confirmation', async () => {
      await page.goto(`${env.base}/web/client/files?path=%2Fdocs`);
      await page.click('.file-row[data-name="b.txt"] a.rename-link');
      await page.fill('#target', 'renamed.txt');
      await page.click('#move-btn');
      await page.waitForSelector('.file-row[data-name="renamed.txt"]');
      assert.ok(existsSync(join(home, 'docs/renamed.txt')) && !existsSync(join(home, 'docs/b.txt')));
      await page.check('.file-row[data-name="renamed.txt"] input[name=files]');
      await page.click('#delete-btn');
      await page.waitForSelector('#flash');
      assert.match((await page.textContent('#flash')) ?? '', /deleted/);
      assert.equal(existsSync(join(home, 'docs/renamed.txt')), false);
      await s('after-delete');
    });

    test('a password share with an expiry, opened logged out in a second context', async () => {
      await page.check('.file-row[data-name="a.txt"] input[name=files]');
      await page.click('#share-btn');
      await page.waitForURL('**/web/client/shares/add**');
      assert.equal((await page.inputValue('#share-paths')).trim(), '/docs/a.txt');
      await page.fill('#share-name', `pw-share-${vp.name}`);
      await page.fill('#share-password', 'share-secret');
      await page.fill('#share-expires', new Date(Date.now() + 3 * 86400_000).toISOString().slice(0, 10));
      await s('share-form');
      await page.click('#create-share');
      await page.waitForURL('**/web/client/shares**');
      const link = await page.inputValue('.share-row input.link');
      const stored = (await env.app.ctx.provider.shares.list(username))[0]!;
      assert.ok((stored.expires_at ?? 0) > Date.now());
      assert.match(stored.password, /^\$2a\$/);
      await s('shares');

      const visitor = await env.browser.newContext({ viewport: vp.viewport, acceptDownloads: true });
      try {
        const v = await visitor.newPage();
        await v.goto(link);
        await v.waitForURL('**/login');
        await v.fill('#share-password', 'nope');
        await v.click('#share-login-form button[type=submit]');
        assert.match((await v.textContent('#flash')) ?? '', /Invalid password/);
        await v.fill('#share-password', 'share-secret');
        await v.click('#share-login-form button[type=submit]');
        await v.waitForSelector('#download-file');
        await shot(v, `${vp.name}-visitor-share`);
        const [dl] = await Promise.all([v.waitForEvent('download'), v.click('#download-file')]);
        assert.equal(readFileSync((await dl.path())!, 'utf8'), 'alpha\n');
      } finally {
        await visitor.close();
      }
    });

    test('an upload-only share receives a file from a visitor', async () => {
      await page.goto(`${env.base}/web/client/shares/add?path=%2Fdocs`);
      await page.fill('#share-name', `inbox-${vp.name}`);
      await page.selectOption('#share-scope', '2');
      await page.click('#create-share');
      await page.waitForURL('**/web/client/shares**');
      const link = await page.inputValue(`.share-row:has-text("inbox-${vp.name}") input.link`);
      const visitor = await env.browser.newContext({ viewport: vp.viewport });
      try {
        const v = await visitor.newPage();
        await v.goto(link);
        assert.equal(await v.locator('#download-all').count(), 0, 'nothing to read in a drop box');
        await v.setInputFiles('#upload-input', [{ name: 'dropped.txt', mimeType: 'text/plain', buffer: Buffer.from('from a visitor\n') }]);
        await v.waitForSelector('#upload-summary');
        assert.equal(await v.getAttribute('li.upload', 'data-state'), 'done');
        await shot(v, `${vp.name}-dropbox`);
      } finally {
        await visitor.close();
      }
      assert.equal(readFileSync(join(home, 'docs/dropped.txt'), 'utf8'), 'from a visitor\n');
    });
  });
}

describe('web client TOTP', () => {
  test('login with TOTP (passcode page), and enrolment from the profile with the QR code', async () => {
    const provider = env.app.ctx.provider;
    await provider.addUser({ username: 'wc-totp', password: 'Totp-pw-1', status: 1, home_dir: join(env.dir, 'homes', 'wc-totp'), permissions: { '/': ['*'] },
      filters: { totp_config: { enabled: true, config_name: 'Default', secret: { status: 'Plain', payload: SECRET }, protocols: ['HTTP'] } } });
    await provider.addUser({ username: 'wc-enrol', password: 'Enrol-pw-1', status: 1, home_dir: join(env.dir, 'homes', 'wc-enrol'), permissions: { '/': ['*'] } });
    const ctx = await env.browser.newContext({ viewport: { width: 1366, height: 800 } });
    try {
      const page = await ctx.newPage();
      await login(page, 'wc-totp', 'Totp-pw-1');
      await page.waitForURL('**/web/client/twofactor');
      await page.goto(`${env.base}/web/client/files`);
      await page.waitForURL('**/web/client/login', { timeout: 10_000 }).catch(() => undefined);
      assert.notEqual(new URL(page.url()).pathname, '/web/client/files', 'a half login opens nothing');
      await login(page, 'wc-totp', 'Totp-pw-1');
      await page.waitForURL('**/web/client/twofactor');
      await shot(page, 'totp-passcode');
      await page.fill('#passcode', '000000');
      await page.click('#passcode-form button[type=submit]');
      assert.match((await page.textContent('#flash')) ?? '', /Invalid passcode/);
      await page.fill('#passcode', nextCode(SECRET));
      await page.click('#passcode-form button[type=submit]');
      await page.waitForURL('**/web/client/files');

      await page.click('header form.who button');
      await login(page, 'wc-enrol', 'Enrol-pw-1');
      await page.waitForURL('**/web/client/files');
      await page.goto(`${env.base}/web/client/mfa`);
      await page.click('#mfa-generate');
      await page.waitForSelector('#qr-code');
      assert.match((await page.getAttribute('#qr-code', 'src')) ?? '', /^data:image\/png;base64,/);
      const secret = ((await page.textContent('#totp-secret')) ?? '').trim();
      await shot(page, 'totp-enrol');
      await page.fill('#mfa-passcode', nextCode(secret));
      await page.click('#mfa-save');
      await page.waitForSelector('#recovery-codes');
      const stored = await provider.getUser('wc-enrol');
      assert.equal(stored?.filters?.totp_config?.enabled, true);
      assert.deepEqual(stored?.filters?.totp_config?.protocols, ['SSH', 'FTP', 'HTTP']);
      await page.goto(`${env.base}/web/client/files`);
      await page.click('header form.who button');
      await login(page, 'wc-enrol', 'Enrol-pw-1');
      await page.waitForURL('**/web/client/twofactor');
      await page.fill('#passcode', nextCode(secret));
      await page.click('#passcode-form button[type=submit]');
      await page.waitForURL('**/web/client/files');
    } finally {
      await ctx.close();
    }
  });
});

describe('web client resumable upload', () => {
  test('a PATCH lost on the way is retried from the server\'s offset and the file arrives whole', async () => {
    const home = join(env.dir, 'homes', 'wc-tus');
    await env.app.ctx.provider.addUser({ username: 'wc-tus', password: 'Tus-pw-1', status: 1, home_dir: home, permissions: { '/': ['*'] } });
    const ctx = await env.browser.newContext({ viewport: { width: 1366, height: 800 } });
    try {
      const page = await ctx.newPage();
      let dropped = 0;
      await page.route('**/web/client/tus/*', async (route) => {
        if (route.request().method() === 'PATCH' && dropped === 0) {
          dropped++;
          await route.abort('connectionreset');
          return;
        }
        await route.continue();
      });
      await login(page, 'wc-tus', 'Tus-pw-1');
      await page.waitForURL('**/web/client/files');
      const data = Buffer.alloc(5 << 20);
      for (let i = 0; i < data.length; i += 4096) data[i] = i & 0xff;
      await page.setInputFiles('#upload-input', [{ name: 'resumed.bin', mimeType: 'application/octet-stream', buffer: data }]);
      await page.waitForSelector('#upload-summary', { timeout: 60_000 });
      assert.equal(await page.getAttribute('li.upload', 'data-state'), 'done');
      assert.equal(await page.getAttribute('li.upload', 'data-retries'), '1', 'one retry after the dropped request');
      assert.equal(dropped, 1);
      assert.ok(readFileSync(join(home, 'resumed.bin')).equals(data));
      await shot(page, 'resumable-upload');
    } finally {
      await ctx.close();
    }
  });
});
