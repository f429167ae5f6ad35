/**
 * The web admin end to end, in a real browser: first-start setup, login,
 * folder and user creation (two directory permissions, an ssh-keygen public
 * key), the user's live SFTP session shown and closed from the connections
 * page, every page rendered and saved as a screenshot, user deletion.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { Client, type SFTPWrapper } from 'ssh2';
import { ARTIFACTS, startWebAdminEnv, type WebAdminEnv } from './harness';

let env: WebAdminEnv;
let ctx: BrowserContext;
let page: Page;
const ADMIN = 'root-admin';
const ADMIN_PW = 'S3cret-admin-pw';
const XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';

before(async () => {
  env = await startWebAdminEnv();
  ctx = await env.browser.newContext({ viewport: { width: 1366, height: 768 } });
  page = await ctx.newPage();
  // delete buttons ask for confirmation
  page.on('dialog', (d) => { void d.accept(); });
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

test('first start: / leads to setup, which creates the first admin', async () => {
  await page.goto(`${env.base}/`);
  assert.equal(new URL(page.url()).pathname, '/web/admin/setup');
  await shot('setup');
  await page.fill('#username', ADMIN);
  await page.fill('#email', 'admin@example.com');
  await page.fill('#password', ADMIN_PW);
  await page.fill('#confirm_password', ADMIN_PW);
  await page.click('#setup-form button[type=submit]');
  await page.waitForURL('**/web/admin/users');
  assert.match(await flashText(), /Welcome/);
  assert.equal(await page.textContent('#admin-name'), ADMIN);
  const admin = await env.app.ctx.provider.getAdmin(ADMIN);
  assert.deepEqual(admin?.permissions, ['*']);
  // setup is closed once an admin exists
  await page.goto(`${env.base}/web/admin/setup`);
  assert.equal(new URL(page.url()).pathname, '/web/admin/users');
});

test('logout, wrong password shows an error, right password logs in', async () => {
  await page.click('header form button[type=submit]');
  await page.waitForURL('**/web/admin/login');
  await shot('login');
  await page.fill('#username', ADMIN);
  await page.fill('#password', 'not-the-password');
  await page.click('#login-form button[type=submit]');
  assert.match(await flashText(), /Invalid credentials/);
  await shot('login-error');
  const failed = (await env.logLines()).filter((l) => l.sender === 'connection_failed' && l.username === ADMIN);
  assert.ok(failed.length >= 1, 'failed web login logged for fail2ban');
  assert.equal(failed[0].protocol, 'HTTP');
  await page.fill('#password', ADMIN_PW);
  await page.click('#login-form button[type=submit]');
  await page.waitForURL('**/web/admin/users');
  await shot('users-empty');
});

test('virtual folder: add, list, edit', async () => {
  await page.goto(`${env.base}/web/admin/folders`);
  await page.click('#add-folder');
  await shot('folder-add');
  await page.fill('#name', 'shared');
  await page.fill('#mapped_path', join(env.dir, 'shared-folder'));
  await page.fill('#description', 'Team share');
  await page.click('#folder-form button[type=submit]');
  await page.waitForURL('**/web/admin/folders');
  assert.match(await flashText(), /Folder "shared" added/);
  await shot('folders');
  await page.click('tr[data-folder="shared"] a.btn');
  await shot('folder-edit');
  await page.fill('#description', 'Team share (edited)');
  await page.click('#folder-form button[type=submit]');
  await page.waitForURL('**/web/admin/folders');
  assert.equal((await env.app.ctx.provider.getFolder('shared'))?.description, 'Team share (edited)');
});

let key: { privateKey: string; publicKey: string };

test('add a user with two directory permissions, a public key, a virtual folder and hostile text', async () => {
  key = await env.keygen('alice_key', 'alice@laptop <b>comment</b>');
  await page.goto(`${env.base}/web/admin/users`);
  await page.click('#add-user');
  await page.fill('#username', 'alice');
  await page.fill('#home_dir', join(env.dir, 'homes', 'alice'));
  await page.fill('#email', 'alice@example.com');
  await page.fill('#description', XSS);
  await page.fill('#additional_info', XSS);
  await page.fill('#quota_size', '50MB');
  await page.fill('#max_sessions', '3');
  await page.click('#add-key');
  await page.fill('[data-rows="key"] textarea', key.publicKey);
  // row 0 is "/" with "*": narrow it, then add /uploads
  await page.uncheck('input[name="perm_0_perm"][value="*"]');
  for (const p of ['list', 'download']) await page.check(`input[name="perm_0_perm"][value="${p}"]`);
  await page.click('#add-perm');
  await page.fill('#perm_1_path', '/uploads');
  for (const p of ['list', 'upload', 'create_dirs']) await page.check(`input[name="perm_1_perm"][value="${p}"]`);
  await page.click('#add-vf');
  await page.selectOption('#vf_0_name', 'shared');
  await page.fill('#vf_0_path', '/shared');
  await page.click('#add-fp');
  await page.fill('#fp_0_path', '/');
  await page.fill('#fp_0_denied', `*.exe, ${XSS}`);
  await page.check('input[name="denied_protocols"][value="FTP"]');
  await page.fill('#allowed_ip', '127.0.0.0/8');
  await shot('user-add');
  await page.click('#save-user');
  await page.waitForURL('**/web/admin/users');
  assert.match(await flashText(), /User "alice" added/);

  const u = await env.app.ctx.provider.getUser('alice');
  assert.ok(u);
  assert.deepEqual(u.permissions, { '/': ['list', 'download'], '/uploads': ['list', 'upload', 'create_dirs'] });
  assert.deepEqual(u.public_keys, [key.publicKey]);
  assert.equal(u.quota_size, 50 * 1024 * 1024);
  assert.equal(u.max_sessions, 3);
  assert.equal(u.description, XSS);
  assert.deepEqual(u.filters?.denied_protocols, ['FTP']);
  assert.deepEqual(u.filters?.allowed_ip, ['127.0.0.0/8']);
  assert.equal(u.virtual_folders?.[0]?.name, 'shared');
  assert.equal(u.virtual_folders?.[0]?.virtual_path, '/shared');
  await shot('users');
});

test('hostile text is rendered inert on the list and the edit form', async () => {
  await page.goto(`${env.base}/web/admin/users`);
  const cell = page.locator('tr[data-username="alice"] td.desc-cell');
  assert.equal((await cell.textContent())?.trim(), XSS);
  await page.goto(`${env.base}/web/admin/user/alice`);
  assert.equal(await page.inputValue('#description'), XSS);
  assert.equal(await page.inputValue('#additional_info'), XSS);
  assert.equal(await page.inputValue('[data-rows="key"] textarea'), key.publicKey);
  assert.match(await page.inputValue('#fp_0_denied'), /<script>/);
  assert.equal(await page.evaluate('typeof window.__xss === "undefined" ? undefined : window.__xss'), undefined);
  // nothing injected became an element
  assert.equal(await page.locator('img[src="x"]').count(), 0);
  await shot('user-edit');
});

test('edit keeps what the form does not show, and validation errors come back in the form', async () => {
  await page.goto(`${env.base}/web/admin/user/alice`);
  await page.fill('#description', 'Alice from accounting');
  await page.click('#save-user');
  await page.waitForURL('**/web/admin/users');
  const u = await env.app.ctx.provider.getUser('alice');
  assert.equal(u?.description, 'Alice from accounting');
  assert.deepEqual(u?.public_keys, [key.publicKey]);
  assert.ok(u?.password === undefined || u.password === '', 'no password was set');

  await page.goto(`${env.base}/web/admin/user/alice`);
  await page.fill('#allowed_ip', 'not-an-ip');
  await page.click('#save-user');
  assert.match(await flashText(), /allowed_ip/);
  // the submitted values are kept in the form
  assert.equal(await page.inputValue('#allowed_ip'), 'not-an-ip');
  await shot('user-edit-error');
  await page.goto(`${env.base}/web/admin/user?clone-from=alice`);
  assert.equal(await page.inputValue('#username'), '');
  assert.equal(await page.inputValue('#description'), 'Alice from accounting');
  await shot('user-clone');
});

function connectSftp(): Promise<{ client: Client; sftp: SFTPWrapper }> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.on('error', reject);
    client.on('ready', () => {
      client.sftp((err, sftp) => (err ? reject(err) : resolve({ client, sftp })));
    });
    client.connect({ host: '127.0.0.1', port: env.sftpPort, username: 'alice', privateKey: key.privateKey, readyTimeout: 20000 });
  });
}

test('the user connects over SFTP; the connections page shows it and closes it', async () => {
  const { client, sftp } = await connectSftp();
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  client.on('error', () => undefined);
  const list = await new Promise<string[]>((resolve, reject) => {
    sftp.readdir('/', (err, entries) => (err ? reject(err) : resolve(entries.map((e) => e.filename))));
  });
  assert.ok(list.includes('shared'), 'the virtual folder is visible');

  await page.goto(`${env.base}/web/admin/connections`);
  const row = page.locator('tr[data-user="alice"]');
  assert.equal(await row.count(), 1);
  assert.match((await row.textContent()) ?? '', /SSH|SFTP/);
  await shot('connections');
  await row.locator('button[type=submit]').click();
  await page.waitForURL('**/web/admin/connections');
  await closed;
  assert.match(await flashText(), /Connection closed/);
  assert.equal(env.app.ctx.connections.list().length, 0);
});

test('status, maintenance (backup download), profile, password change and admins pages', async () => {
  await page.goto(`${env.base}/web/admin/status`);
  assert.match((await page.textContent('#provider-status')) ?? '', /sqlite/);
  await shot('status');

  await page.goto(`${env.base}/web/admin/maintenance`);
  await shot('maintenance');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#backup-form button[type=submit]')]);
  const path = await download.path();
  const { readFile } = await import('node:fs/promises');
  const dump = JSON.parse(await readFile(path, 'utf8')) as { users?: { username: string }[]; version: number };
  assert.ok(dump.users?.some((u) => u.username === 'alice'));
  // restore it back through the multipart upload form
  await env.app.ctx.provider.updateUser('alice', { ...(await env.app.ctx.provider.getUser('alice')), password: '', description: 'changed before restore' });
  await page.setInputFiles('#backup_file', path);
  await page.selectOption('#mode', '0');
  await page.click('#restore-form button[type=submit]');
  await page.waitForURL('**/web/admin/maintenance');
  assert.match(await flashText(), /Data restored/);
  assert.equal((await env.app.ctx.provider.getUser('alice'))?.description, 'Alice from accounting');

  await page.goto(`${env.base}/web/admin/profile`);
  await page.fill('#description', 'Main administrator');
  await page.click('#profile-form button[type=submit]');
  await page.waitForURL('**/web/admin/profile');
  assert.match(await flashText(), /Profile updated/);
  await shot('profile');

  await page.goto(`${env.base}/web/admin/changepwd`);
  await shot('changepwd');
  await page.fill('#current_password', 'wrong');
  await page.fill('#new_password', 'Another-pw-1');
  await page.fill('#confirm_password', 'Another-pw-1');
  await page.click('#changepwd-form button[type=submit]');
  assert.match(await flashText(), /current password/);

  await page.goto(`${env.base}/web/admin/managers`);
  await page.click('#add-admin');
  await shot('manager-add');
  await page.fill('#username', 'helpdesk');
  await page.fill('#password', 'Helpdesk-pw-1');
  await page.fill('#description', XSS);
  for (const p of ['view_users', 'view_conns']) await page.check(`input[name="permissions"][value="${p}"]`);
  await page.click('#admin-form button[type=submit]');
  await page.waitForURL('**/web/admin/managers');
  assert.deepEqual((await env.app.ctx.provider.getAdmin('helpdesk'))?.permissions, ['view_users', 'view_conns']);
  await shot('managers');
  await page.click('tr[data-admin="helpdesk"] a.btn');
  await shot('manager-edit');
  await page.goto(`${env.base}/web/admin/nothing-here`);
  assert.equal(await page.textContent('#error-title'), 'Not found');
  await shot('error-404');
});

test('a limited admin sees only its pages and gets 403 elsewhere', async () => {
  const lctx = await env.browser.newContext({ viewport: { width: 1366, height: 768 } });
  try {
    const p = await lctx.newPage();
    await p.goto(`${env.base}/web/admin/login`);
    await p.fill('#username', 'helpdesk');
    await p.fill('#password', 'Helpdesk-pw-1');
    await p.click('#login-form button[type=submit]');
    await p.waitForURL('**/web/admin/users');
    assert.equal(await p.locator('a[href="/web/admin/managers"]').count(), 0, 'no admins link');
    assert.equal(await p.locator('tr[data-username="alice"] button.danger').count(), 0, 'no delete button');
    const res = await p.goto(`${env.base}/web/admin/managers`);
    assert.equal(res?.status(), 403);
    await shot('error-403', p);
    // a forged delete (valid session and token) is refused too
    await p.goto(`${env.base}/web/admin/users`);
    const token = await p.inputValue('header input[name="_form_token"]');
    const del = await p.request.post(`${env.base}/web/admin/user/alice/delete`, { form: { _form_token: token } });
    assert.equal(del.status(), 403);
    assert.ok(await env.app.ctx.provider.getUser('alice'));
  } finally {
    await lctx.close();
  }
});

test('a POST without the CSRF token is rejected', async () => {
  const res = await page.request.post(`${env.base}/web/admin/user/alice/delete`, { form: { other: '1' } });
  assert.equal(res.status(), 403);
  assert.match(await res.text(), /form token/);
  const bad = await page.request.post(`${env.base}/web/admin/user/alice/delete`, { form: { _form_token: 'forged' } });
  assert.equal(bad.status(), 403);
  assert.ok(await env.app.ctx.provider.getUser('alice'), 'user still exists');
  // no session: refused before the body is read
  const anon = await fetch(`${env.base}/web/admin/maintenance/restore`, {
    method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x\r\n',
  });
  assert.equal(anon.status, 401);
  // a broken multipart body from a logged-in admin is a 400 page, and the server keeps serving
  const broken = await page.request.post(`${env.base}/web/admin/maintenance/restore`, {
    headers: { 'content-type': 'multipart/form-data; boundary=zz' }, data: Buffer.from('--zz\r\nno headers end'),
  });
  assert.equal(broken.status(), 400);
  assert.match(await broken.text(), /multipart/);
  assert.equal((await page.request.get(`${env.base}/web/admin/users`)).status(), 200);
});

test('phone width: the sidebar becomes a top menu', async () => {
  const mctx = await env.browser.newContext({ viewport: { width: 390, height: 844 }, storageState: await ctx.storageState() });
  try {
    const p = await mctx.newPage();
    await p.goto(`${env.base}/web/admin/users`);
    assert.equal(await p.isVisible('.nav'), false);
    assert.equal(await p.isVisible('.menu-toggle'), true);
    await shot('phone-users', p);
    await p.click('.menu-toggle');
    assert.equal(await p.isVisible('.nav a[href="/web/admin/connections"]'), true);
    await shot('phone-menu', p);
    await p.goto(`${env.base}/web/admin/user/alice`);
    await shot('phone-user-edit', p);
    await p.goto(`${env.base}/web/admin/status`);
    await shot('phone-status', p);
    // nothing overflows horizontally
    const overflow = Number(await p.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
    assert.ok(overflow <= 0, `page wider than the screen by ${overflow}px`);
  } finally {
    await mctx.close();
  }
});

test('users list: search, sort and paging', async () => {
  for (let i = 0; i < 25; i++) {
    await env.app.ctx.provider.addUser({
      status: 1, username: `bulk${String(i).padStart(2, '0')}`, password: 'Bulk-pw-1', home_dir: join(env.dir, 'homes', `bulk${i}`),
      permissions: { '/': ['*'] }, description: i % 5 === 0 ? 'night shift' : 'day shift',
    });
  }
  await page.goto(`${env.base}/web/admin/users`);
  assert.equal(await page.locator('#users-table tbody tr').count(), 20);
  assert.match((await page.textContent('.pager')) ?? '', /26 users · page 1 of 2/);
  await page.click('.pager a:has-text("Next")');
  assert.equal(await page.locator('#users-table tbody tr').count(), 6);
  await shot('users-page2');
  await page.goto(`${env.base}/web/admin/users?sort=username&dir=desc`);
  assert.equal(await page.getAttribute('#users-table tbody tr:first-child', 'data-username'), 'bulk24');
  await page.fill('input[name="q"]', 'night');
  await page.click('form[role=search] button');
  assert.equal(await page.locator('#users-table tbody tr').count(), 5);
  assert.equal(await page.getAttribute('#users-table tbody tr:first-child', 'data-username'), 'bulk20');
  await shot('users-search');
});

test('delete the user from the list', async () => {
  await page.goto(`${env.base}/web/admin/users`);
  await page.click('tr[data-username="alice"] button.danger');
  await page.waitForURL('**/web/admin/users');
  assert.match(await flashText(), /User "alice" deleted/);
  assert.equal(await env.app.ctx.provider.getUser('alice'), undefined);
  assert.equal(await page.locator('tr[data-username="alice"]').count(), 0);
});
