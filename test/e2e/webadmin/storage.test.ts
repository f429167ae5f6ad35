/**
 * The web admin storage fields: a user on S3 and a folder on encrypted
 * local storage added through the forms, secrets sealed by the kms and never
 * written into a page (not even after a validation error), an edit that
 * leaves a secret field empty keeping the stored secret, a new value
 * replacing it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Secret } from '../../../src/dataprovider/models';
import { startServer, type TestServer } from '../httpd/support';
import { WebSession } from './fetchsession';

let s: TestServer;
let web: WebSession;
before(async () => {
  s = await startServer({ binding: { enable_web_admin: true } });
  web = new WebSession(s.base);
  await web.login('admin', 'password');
});
after(async () => { await s.close(); });

const userFields = (extra: Record<string, string>): Record<string, string> => ({
  username: 'cloudy', password: 'cloudy-pass-1', home_dir: '/srv/cloudy', status: '1', perm_0_path: '/', perm_0_perm: '*',
  fs_provider: '1', fs_s3_bucket: 'bkt', fs_s3_region: 'eu-west-1', fs_s3_access_key: 'AKIA', fs_s3_key_prefix: 'users/cloudy',
  fs_s3_upload_part_size: '8', fs_s3_force_path_style: '1', ...extra,
});

const secretOf = async (): Promise<Secret> => (await s.ctx.provider.getUser('cloudy'))?.filesystem?.s3config?.access_secret as Secret;

test('a user on S3 through the form: sealed secret, never shown, kept when left empty, replaced when typed', async () => {
  const added = await web.submit('/web/admin/user', '/web/admin/user', userFields({ fs_s3_access_secret: 'first-web-secret' }));
  assert.equal(added.status, 303, added.text.slice(0, 300));
  const u = await s.ctx.provider.getUser('cloudy');
  assert.equal(u?.filesystem?.provider, 1);
  assert.equal(u?.filesystem?.s3config?.key_prefix, 'users/cloudy/');
  assert.equal(u?.filesystem?.s3config?.upload_part_size, 8);
  assert.equal(u?.filesystem?.s3config?.force_path_style, true);
  const first = await secretOf();
  assert.equal(first.status, 'Secretbox');
  assert.equal(await s.ctx.kms.decrypt(first), 'first-web-secret');

  const page = await web.get('/web/admin/user/cloudy');
  assert.equal(page.status, 200);
  assert.ok(!page.text.includes('first-web-secret') && !page.text.includes(first.payload ?? 'x'), 'no secret in the page');
  assert.match(page.text, /value="bkt"/);
  assert.match(page.text, /Stored \(encrypted\)\. Leave empty to keep it\./);

  const kept = await web.submit('/web/admin/user/cloudy', '/web/admin/user/cloudy', userFields({ fs_s3_access_secret: '', password: '' }));
  assert.equal(kept.status, 303, kept.text.slice(0, 300));
  assert.equal(await s.ctx.kms.decrypt(await secretOf()), 'first-web-secret');

  const replaced = await web.submit('/web/admin/user/cloudy', '/web/admin/user/cloudy', userFields({ fs_s3_access_secret: 'second-web-secret', password: '' }));
  assert.equal(replaced.status, 303);
  assert.equal(await s.ctx.kms.decrypt(await secretOf()), 'second-web-secret');
});

test('a validation error re-renders the form without echoing the typed secret', async () => {
  const bad = await web.submit('/web/admin/user', '/web/admin/user',
    userFields({ username: 'nobucket', fs_s3_bucket: '', fs_s3_access_secret: 'typed-but-refused' }));
  assert.equal(bad.status, 400);
  assert.match(bad.text, /bucket cannot be empty/);
  assert.ok(!bad.text.includes('typed-but-refused'));
  assert.equal(await s.ctx.provider.getUser('nobucket'), undefined);
});

test('a folder on encrypted local storage through the form: passphrase sealed', async () => {
  const r = await web.submit('/web/admin/folder', '/web/admin/folder',
    { name: 'vault', mapped_path: '/srv/vault', fs_provider: '4', fs_crypt_passphrase: 'a long vault passphrase' });
  assert.equal(r.status, 303, r.text.slice(0, 300));
  const f = await s.ctx.provider.getFolder('vault');
  const pass = f?.filesystem?.cryptconfig?.passphrase as Secret;
  assert.equal(f?.filesystem?.provider, 4);
  assert.equal(pass.additional_data, 'folder_vault');
  assert.equal(await s.ctx.kms.decrypt(pass), 'a long vault passphrase');
  const page = await web.get('/web/admin/folder/vault');
  assert.ok(!page.text.includes('a long vault passphrase'));
  const refused = await web.submit('/web/admin/folder', '/web/admin/folder', { name: 'nopass', mapped_path: '/srv/np', fs_provider: '4' });
  assert.equal(refused.status, 400);
  assert.match(refused.text, /invalid passphrase/);
});
