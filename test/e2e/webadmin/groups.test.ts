/**
 * Groups and roles in the web admin, in headless Chromium: roles and groups
 * added, listed and edited through their forms (a 400 names the bad field),
 * a user put in a primary group with a role from the user form, a group in
 * use refused on delete, the member logging in over SFTP with the group's
 * folder, and an admin with a role seeing and creating only its role's users.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { Client } from 'ssh2';
import { ARTIFACTS, startWebAdminEnv, type WebAdminEnv } from './harness';

let env: WebAdminEnv;
let ctx: BrowserContext;
let page: Page;

before(async () => {
  env = await startWebAdminEnv();
  await env.app.ctx.provider.addAdmin({ username: 'boss', password: 'boss-password-1', status: 1, permissions: ['*'] });
  await env.app.ctx.provider.addFolder({ name: 'team', mapped_path: join(env.dir, 'team') });
  ctx = await env.browser.newContext({ viewport: { width: 1366, height: 768 } });
  page = await ctx.newPage();
  page.on('dialog', (d) => { void d.accept(); });
  await login(page, 'boss', 'boss-password-1');
});
after(async () => {
  await ctx?.close().catch(() => undefined);
  await env?.stop();
});

async function login(p: Page, username: string, password: string): Promise<void> {
  await p.goto(`${env.base}/web/admin/login`);
  await p.fill('#username', username);
  await p.fill('#password', password);
  await p.click('#login-form button[type=submit]');
  await p.waitForURL('**/web/admin/users');
}

const flashText = async (p: Page = page): Promise<string> => (await p.locator('#flash').textContent())?.trim() ?? '';

test('roles: add and list', async () => {
  await page.goto(`${env.base}/web/admin/roles`);
  await page.click('#add-role');
  await page.fill('#name', 'eu');
  await page.fill('#description', 'Europe');
  await page.click('#role-form button[type=submit]');
  await page.waitForURL('**/web/admin/roles');
  assert.match(await flashText(), /Role "eu" added/);
  assert.equal(await page.locator('tr[data-role="eu"]').count(), 1);
  assert.equal((await env.app.ctx.provider.groups.getRole('eu'))?.description, 'Europe');
});

test('groups: a bad home is a 400 naming the field, then add with permissions and a folder, edit', async () => {
  await page.goto(`${env.base}/web/admin/groups`);
  await page.click('#add-group');
  await page.fill('#name', 'staff');
  await page.fill('#home_dir', 'relative/home');
  const bad = page.waitForResponse((r) => r.url().endsWith('/web/admin/group') && r.request().method() === 'POST');
  await page.click('#save-group');
  assert.equal((await bad).status(), 400);
  assert.match(await flashText(), /user_settings\.home_dir/);

  await page.fill('#home_dir', join(env.dir, 'homes', '%role%', '%username%'));
  await page.fill('#quota_files', '10');
  await page.click('#add-perm');
  await page.fill('#perm_0_path', '/');
  for (const p of ['list', 'download']) await page.check(`input[name="perm_0_perm"][value="${p}"]`);
  await page.click('#add-vf');
  await page.selectOption('#vf_0_name', 'team');
  await page.fill('#vf_0_path', '/team');
  await page.check('input[name="denied_protocols"][value="FTP"]');
  await page.screenshot({ path: join(ARTIFACTS, 'group-add.png'), fullPage: true });
  await page.click('#save-group');
  await page.waitForURL('**/web/admin/groups');
  assert.match(await flashText(), /Group "staff" added/);
  const g = await env.app.ctx.provider.groups.getGroup('staff');
  assert.deepEqual(g?.user_settings.permissions, { '/': ['list', 'download'] });
  assert.equal(g?.user_settings.quota_files, 10);
  assert.deepEqual(g?.user_settings.filters?.denied_protocols, ['FTP']);
  assert.deepEqual(g?.virtual_folders?.map((f) => f.virtual_path), ['/team']);

  await page.click('tr[data-group="staff"] a.btn');
  await page.fill('#description', 'Staff members');
  await page.click('#save-group');
  await page.waitForURL('**/web/admin/groups');
  assert.equal((await env.app.ctx.provider.groups.getGroup('staff'))?.description, 'Staff members');
  assert.deepEqual((await env.app.ctx.provider.groups.getGroup('staff'))?.virtual_folders?.map((f) => f.name), ['team'], 'kept on edit');
});

test('user form: primary group and role; the member logs in with the group folder; a group in use is not deleted', async () => {
  await page.goto(`${env.base}/web/admin/user`);
  await page.fill('#username', 'bob');
  await page.fill('#password', 'bob-password-1');
  await page.fill('#home_dir', join(env.dir, 'homes', 'stored-bob'));
  await page.selectOption('#group_primary', 'staff');
  await page.selectOption('#role', 'eu');
  await page.click('#save-user');
  await page.waitForURL('**/web/admin/users');
  const bob = await env.app.ctx.provider.getUser('bob');
  assert.deepEqual([bob?.groups, bob?.role], [[{ name: 'staff', type: 1 }], 'eu']);

  // editing keeps the groups the form shows
  await page.goto(`${env.base}/web/admin/user/bob`);
  assert.equal(await page.inputValue('#group_primary'), 'staff');
  await page.fill('#description', 'edited');
  await page.click('#save-user');
  await page.waitForURL('**/web/admin/users');
  assert.deepEqual((await env.app.ctx.provider.getUser('bob'))?.groups, [{ name: 'staff', type: 1 }]);

  mkdirSync(join(env.dir, 'homes', 'eu', 'bob'), { recursive: true });
  const names = await sftpList('bob', 'bob-password-1', '/');
  assert.ok(names.includes('team'), `the group folder is mounted: ${names.join(',')}`);

  await page.goto(`${env.base}/web/admin/groups`);
  assert.match(await page.locator('tr[data-group="staff"] .members').textContent() ?? '', /bob/);
  await page.click('tr[data-group="staff"] form button[type=submit]');
  await page.waitForURL('**/web/admin/groups');
  assert.match(await flashText(), /the group "staff" is referenced, it cannot be removed/);
  assert.ok(await env.app.ctx.provider.groups.getGroup('staff'));
});

test('an admin with a role sees and creates only users of its role', async () => {
  const provider = env.app.ctx.provider;
  await provider.addUser({ status: 1, username: 'outsider', password: 'pw-outsider-1', home_dir: join(env.dir, 'homes', 'outsider'), permissions: { '/': ['*'] } });
  await provider.addAdmin({
    username: 'euadmin', password: 'eu-password-1', status: 1, permissions: ['view_users', 'add_users', 'edit_users'], role: 'eu',
    groups: [{ name: 'staff', options: { add_to_users_as: 1 } }],
  });
  // the admin form shows and keeps the role
  await page.goto(`${env.base}/web/admin/manager/euadmin`);
  assert.equal(await page.inputValue('#role'), 'eu');
  await page.fill('#description', 'EU admin');
  await page.click('#admin-form button[type=submit]');
  await page.waitForURL('**/web/admin/managers');
  assert.equal((await provider.getAdmin('euadmin'))?.role, 'eu');
  const other = await env.browser.newContext();
  try {
    const p = await other.newPage();
    await login(p, 'euadmin', 'eu-password-1');
    const rows = await p.locator('#users-table tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-username')));
    assert.deepEqual(rows, ['bob']);
    const hidden = await p.goto(`${env.base}/web/admin/user/outsider`);
    assert.equal(hidden?.status(), 404);
    await p.goto(`${env.base}/web/admin/user`);
    assert.equal((await p.locator('#role-fixed').textContent())?.trim(), 'eu');
    assert.equal(await p.inputValue('#group_primary'), 'staff', "the admin's group is preselected as primary");
    await p.fill('#username', 'newbie');
    await p.fill('#password', 'newbie-password-1');
    await p.fill('#home_dir', join(env.dir, 'homes', 'newbie'));
    await p.click('#save-user');
    await p.waitForURL('**/web/admin/users');
    const newbie = await provider.getUser('newbie');
    assert.deepEqual([newbie?.role, newbie?.groups], ['eu', [{ name: 'staff', type: 1 }]]);
  } finally {
    await other.close();
  }
});

function sftpList(username: string, password: string, dir: string): Promise<string[]> {
  const client = new Client();
  return new Promise<string[]>((resolve, reject) => {
    client.once('error', reject);
    client.once('ready', () => client.sftp((err, sftp) => {
      if (err) { reject(err); return; }
      sftp.readdir(dir, (e, list) => {
        client.end();
        if (e) reject(e); else resolve(list.map((x) => x.filename));
      });
    }));
    client.connect({ host: '127.0.0.1', port: env.sftpPort, username, password, readyTimeout: 30000 });
  });
}
