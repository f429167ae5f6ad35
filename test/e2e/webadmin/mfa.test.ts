/**
 * Web admin two-factor authentication in headless Chromium: enrolment from the
 * profile (QR code rendered by the server, key shown, passcode computed here
 * from it), the recovery codes, the second login step with a passcode (wrong
 * and replayed codes refused) or a recovery code (single use), the half login
 * opening nothing else, require_two_factor sending the admin to the 2FA page,
 * and 2FA resets from the user and admin edit pages.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { totpCode } from '../../../src/mfa/totp';
import { ARTIFACTS, startWebAdminEnv, type WebAdminEnv } from './harness';

const ADMIN = 'mfa-root';
const PW = 'Mfa-root-pw-1';
const PRESET_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const STEP_MS = 30_000;

let env: WebAdminEnv;
let ctx: BrowserContext;
let page: Page;
let secret = '';
let recovery: string[] = [];
/** the step whose code was used last: every login uses a later one, so no code is replayed by accident */
let lastStep = 0;

/** A code the server accepts now and that was not used yet (current step or the next one, within the skew). */
function nextCode(): string {
  const step = Math.max(Math.floor(Date.now() / STEP_MS), lastStep + 1);
  lastStep = step;
  return totpCode(secret, 'sha1', step * STEP_MS);
}

before(async () => {
  env = await startWebAdminEnv((c) => { c.mfa.totp = [{ name: 'Default', issuer: 'SFTPGo-ts', algo: 'sha1' }]; });
  const provider = env.app.ctx.provider;
  await provider.addAdmin({ username: ADMIN, password: PW, status: 1, permissions: ['*'] });
  await provider.addAdmin({ username: 'strict', password: 'Strict-pw-1', status: 1, permissions: ['*'], filters: { require_two_factor: true } });
  const totp = { enabled: true, config_name: 'Default', secret: { status: 'Plain', payload: PRESET_SECRET } };
  await provider.addAdmin({ username: 'other', password: 'Other-pw-1', status: 1, permissions: ['view_users'], filters: { totp_config: totp } });
  await provider.addUser({ username: 'totpuser', password: 'User-pw-1', status: 1, home_dir: join(env.dir, 'totpuser'),
    permissions: { '/': ['*'] }, filters: { totp_config: { ...totp, protocols: ['SSH', 'HTTP'] } } });
  ctx = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await ctx.newPage();
});
after(async () => {
  await ctx?.close().catch(() => undefined);
  await env?.stop();
});

async function shot(name: string, p: Page = page): Promise<void> {
  await p.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function flashText(p: Page = page): Promise<string> {
  return (await p.locator('#flash').textContent())?.trim() ?? '';
}

async function passwordStep(p: Page, username: string, password: string): Promise<void> {
  await p.goto(`${env.base}/web/admin/login`);
  await p.fill('#username', username);
  await p.fill('#password', password);
  await p.click('#login-form button[type=submit]');
}

async function logout(): Promise<void> {
  await page.click('header form button[type=submit]');
  await page.waitForURL('**/web/admin/login');
}

test('enrolment from the profile: QR code, passcode check, recovery codes', async () => {
  await passwordStep(page, ADMIN, PW);
  await page.waitForURL('**/web/admin/users');
  await page.goto(`${env.base}/web/admin/profile`);
  assert.match((await page.textContent('#profile-2fa')) ?? '', /not enabled/);
  await page.click('#manage-2fa');
  await page.waitForURL('**/web/admin/mfa');
  await page.click('#totp-generate');
  await page.waitForSelector('#totp-qr');
  const src = (await page.getAttribute('#totp-qr', 'src')) ?? '';
  assert.ok(src.startsWith('data:image/png;base64,'), 'the QR code is an inline PNG');
  assert.ok(await page.locator('#totp-qr').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth > 0), 'the browser decoded the QR image');
  secret = ((await page.textContent('#totp-secret')) ?? '').trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  await shot('mfa-enrol');
  // a wrong code keeps the same key on screen and enables nothing
  await page.fill('#passcode', '000000');
  await page.click('#totp-save');
  assert.match(await flashText(), /does not match/);
  assert.equal(((await page.textContent('#totp-secret')) ?? '').trim(), secret);
  assert.equal((await env.app.ctx.provider.getAdmin(ADMIN))?.filters?.totp_config, undefined);
  await page.fill('#passcode', nextCode());
  await page.click('#totp-save');
  await page.waitForSelector('#recovery-codes');
  recovery = (await page.locator('#recovery-codes code').allTextContents()).map((c) => c.trim());
  assert.equal(recovery.length, 12);
  assert.match(await page.textContent('#mfa-status') ?? '', /enabled/);
  await shot('mfa-recovery-codes');
  const stored = await env.app.ctx.provider.getAdmin(ADMIN);
  assert.equal(stored?.filters?.totp_config?.secret?.status, 'Secretbox');
  assert.equal(stored?.filters?.recovery_codes?.length, 12);
});

test('login asks for the passcode; the half login opens nothing else; wrong and replayed codes are refused', async () => {
  await logout();
  await passwordStep(page, ADMIN, PW);
  await page.waitForURL('**/web/admin/twofactor');
  await shot('twofactor');
  // with only the password, the console stays closed
  await page.goto(`${env.base}/web/admin/users`);
  assert.equal(new URL(page.url()).pathname, '/web/admin/login');
  await page.goto(`${env.base}/web/admin/twofactor`);
  await page.fill('#passcode', '123456' === totpCode(secret, 'sha1', Date.now()) ? '654321' : '123456');
  await page.click('#twofactor-form button[type=submit]');
  assert.match(await flashText(), /Invalid passcode/);
  const code = nextCode();
  await page.fill('#passcode', code);
  await page.click('#twofactor-form button[type=submit]');
  await page.waitForURL('**/web/admin/users');
  // the same code a second time is refused
  await logout();
  await passwordStep(page, ADMIN, PW);
  await page.waitForURL('**/web/admin/twofactor');
  await page.fill('#passcode', code);
  await page.click('#twofactor-form button[type=submit]');
  assert.match(await flashText(), /Invalid passcode/);
  assert.equal(new URL(page.url()).pathname, '/web/admin/twofactor');
  const failed = (await env.logLines()).filter((l) => l.sender === 'connection_failed' && l.username === ADMIN);
  assert.ok(failed.some((l) => /already used/.test(String(l.error))), 'the replay is logged for fail2ban');
});

test('a recovery code signs in once', async () => {
  await page.click('#use-recovery');
  await page.waitForURL('**/web/admin/twofactor-recovery');
  await shot('twofactor-recovery');
  await page.fill('#recovery_code', recovery[0]);
  await page.click('#recovery-form button[type=submit]');
  await page.waitForURL('**/web/admin/users');
  await logout();
  await passwordStep(page, ADMIN, PW);
  await page.waitForURL('**/web/admin/twofactor');
  await page.goto(`${env.base}/web/admin/twofactor-recovery`);
  await page.fill('#recovery_code', recovery[0]);
  await page.click('#recovery-form button[type=submit]');
  assert.match(await flashText(), /Invalid recovery code/);
  await page.fill('#recovery_code', recovery[1]);
  await page.click('#recovery-form button[type=submit]');
  await page.waitForURL('**/web/admin/users');
  await page.goto(`${env.base}/web/admin/mfa?codes=1`);
  const used = await page.locator('#recovery-codes code.used').allTextContents();
  assert.deepEqual(used.map((c) => c.trim()).sort(), [recovery[0], recovery[1]].sort());
});

test('require_two_factor: the admin only reaches the 2FA page until it is set up', async () => {
  const other = await env.browser.newContext();
  try {
    const p = await other.newPage();
    await passwordStep(p, 'strict', 'Strict-pw-1');
    await p.waitForURL('**/web/admin/mfa');
    assert.ok(await p.isVisible('#mfa-required'));
    await shot('mfa-required', p);
    for (const path of ['/web/admin/users', '/web/admin/managers', '/web/admin/status']) {
      await p.goto(`${env.base}${path}`);
      assert.equal(new URL(p.url()).pathname, '/web/admin/mfa', path);
    }
    await p.goto(`${env.base}/web/admin/profile`);
    assert.equal(new URL(p.url()).pathname, '/web/admin/profile');
  } finally {
    await other.close();
  }
});

test('2FA of a user and of an admin is disabled from their edit pages', async () => {
  await page.goto(`${env.base}/web/admin/user/totpuser`);
  assert.match((await page.textContent('#twofa-card')) ?? '', /SSH, HTTP/);
  await shot('user-2fa');
  await page.click('#twofa-disable');
  await page.waitForURL('**/web/admin/user/totpuser');
  assert.match(await flashText(), /disabled for "totpuser"/);
  assert.equal((await env.app.ctx.provider.getUser('totpuser'))?.filters?.totp_config, undefined);
  assert.equal(await page.locator('#twofa-card').count(), 0);

  await page.goto(`${env.base}/web/admin/manager/other`);
  await page.click('#twofa-disable');
  await page.waitForURL('**/web/admin/manager/other');
  assert.match(await flashText(), /disabled for "other"/);
  assert.equal((await env.app.ctx.provider.getAdmin('other'))?.filters?.totp_config, undefined);
  // the pages never carry a stored secret
  const html = await page.content();
  assert.ok(!html.includes(PRESET_SECRET) && !html.includes('payload'));
});
