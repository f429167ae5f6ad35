/**
 * The event manager and cloud storage forms in headless Chromium, against
 * real peers: an HTTP action and an upload rule made through the forms fire
 * on an OpenSSH sftp upload and the receiver in this process gets the POST;
 * a user on Azure Blob (azurite, telemetry off) made through the form takes
 * an OpenSSH sftp upload that lands in the container; a user on GCS (the
 * JSON-API test server) made with an uploaded credentials file, then edited
 * with the credentials left as [**redacted**]: they stay the stored ones.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import type { BrowserContext, Page } from 'playwright-core';
import type { Secret } from '../../../src/dataprovider/models';
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite, type TestAzurite } from '../../support/azurite';
import { startGcsServer, type TestGcs } from '../../support/gcs-server';
import { startReceiver, type Received, type Receiver } from '../events/env';
import { keyOpts, run } from '../sftpd/openssh';
import { ARTIFACTS, startWebAdminEnv, type WebAdminEnv } from './harness';

let env: WebAdminEnv;
let ctx: BrowserContext;
let page: Page;
let receiver: Receiver;
let azurite: TestAzurite;
let gcs: TestGcs;
let keyPath: string;
let publicKey: string;
const previousEmulator = process.env.STORAGE_EMULATOR_HOST;

before(async () => {
  receiver = await startReceiver();
  azurite = await startAzurite('webadmin');
  gcs = await startGcsServer('web-bucket');
  // the GCS SDK reads the emulator address from the environment, as SFTPGo's users set it
  process.env.STORAGE_EMULATOR_HOST = gcs.endpoint;
  env = await startWebAdminEnv();
  await env.app.ctx.provider.addAdmin({ username: 'ops', password: 'ops-password-1', status: 1, permissions: ['*'] });
  const key = await env.keygen('client_key', 'client');
  keyPath = join(env.dir, 'client_key');
  publicKey = key.publicKey;
  ctx = await env.browser.newContext({ viewport: { width: 1366, height: 900 } });
  page = await ctx.newPage();
  page.on('dialog', (d) => { void d.accept(); });
  await page.goto(`${env.base}/web/admin/login`);
  await page.fill('#username', 'ops');
  await page.fill('#password', 'ops-password-1');
  await page.click('#login-form button[type=submit]');
  await page.waitForURL('**/web/admin/users');
});
after(async () => {
  await ctx?.close().catch(() => undefined);
  await env?.stop();
  await receiver?.close();
  await azurite?.stop();
  await gcs?.stop();
  if (previousEmulator === undefined) delete process.env.STORAGE_EMULATOR_HOST; else process.env.STORAGE_EMULATOR_HOST = previousEmulator;
});

const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const flash = async (): Promise<string> => (await page.locator('#flash').textContent())?.trim() ?? '';

async function sftpPut(user: string, remote: string, content: string): Promise<void> {
  const local = join(env.dir, `put-${user}-${remote.replace(/\//g, '_')}`);
  await writeFile(local, content);
  const r = await run('sftp', ['-P', String(env.sftpPort), ...keyOpts(keyPath), '-b', '-', `${user}@127.0.0.1`], { input: `put ${local} ${remote}\n` });
  assert.equal(r.status, 0, r.stderr);
}

/** Fills the account part of the add-user form: name, home, the test key; "/" keeps its default "*". */
async function newUserForm(username: string): Promise<void> {
  await page.goto(`${env.base}/web/admin/user`);
  await page.fill('#username', username);
  await page.fill('#home_dir', join(env.dir, 'homes', username));
  await page.click('#add-key');
  await page.fill('[data-rows="key"] textarea', publicKey);
}

test('an HTTP action and an upload rule made in the forms POST to the receiver on an sftp upload', async () => {
  const got = new Promise<Received>((resolve) => {
    receiver.hold = (r) => { if (r.url.pathname === '/hook') resolve(r); return Promise.resolve(); };
  });
  await page.goto(`${env.base}/web/admin/eventactions`);
  await page.click('#add-action');
  await page.fill('#name', 'notify');
  await page.selectOption('#type', '1');
  assert.ok(await page.isVisible('#opts-http'));
  assert.ok(!(await page.isVisible('#opts-email')), 'only the chosen type\'s options are shown');
  await page.fill('#http_endpoint', `${receiver.url}/hook`);
  await page.selectOption('#http_method', 'POST');
  await page.fill('#http_timeout', '10');
  await page.click('#add-http_header');
  await page.fill('#http_header_0_key', 'X-Event');
  await page.fill('#http_header_0_value', '{{.Event}}');
  await page.click('#add-http_query');
  await page.fill('#http_query_0_key', 'path');
  await page.fill('#http_query_0_value', '{{.VirtualPath}}');
  await page.fill('#http_body', '{"user":"{{.Name}}","path":"{{.VirtualPath}}","size":{{.FileSize}}}');
  await shot('eventaction-add');
  await page.click('#action-form button[type=submit]');
  await page.waitForURL('**/web/admin/eventactions');
  assert.match(await flash(), /Event action "notify" added/);
  await shot('eventactions');

  await page.goto(`${env.base}/web/admin/eventrules`);
  await page.click('#add-rule');
  await page.fill('#name', 'csv-in');
  await page.selectOption('#trigger', '1');
  await page.check('input[name="fs_events"][value="upload"]');
  await page.click('#add-cond_path');
  await page.fill('#cond_path_0_pattern', '/inbox/*.csv');
  await page.click('#add-act');
  await page.selectOption('#act_0_name', 'notify');
  await page.fill('#act_0_order', '1');
  // a wrong size first: the validator's message comes back in the form, the typed values stay
  await page.fill('#max_size', 'huge');
  await page.click('#rule-form button[type=submit]');
  assert.match(await flash(), /max_size must be an integer/);
  assert.equal(await page.inputValue('#cond_path_0_pattern'), '/inbox/*.csv');
  await shot('eventrule-error');
  await page.fill('#max_size', '');
  await shot('eventrule-add');
  await page.click('#rule-form button[type=submit]');
  await page.waitForURL('**/web/admin/eventrules');
  assert.match(await flash(), /Event rule "csv-in" added/);
  await shot('eventrules');

  await env.app.ctx.provider.addUser({ username: 'uploader', home_dir: join(env.dir, 'homes', 'uploader'), status: 1, public_keys: [publicKey], permissions: { '/': ['*'] } });
  const content = 'a,b\n1,2\n';
  await mkdir(join(env.dir, 'homes', 'uploader', 'inbox'), { recursive: true });
  await sftpPut('uploader', '/inbox/data.csv', content);
  const r = await got;
  assert.equal(r.method, 'POST');
  assert.equal(r.url.searchParams.get('path'), '/inbox/data.csv');
  assert.equal(r.headers['x-event'], 'upload');
  assert.deepEqual(JSON.parse(r.body.toString()), { user: 'uploader', path: '/inbox/data.csv', size: content.length });
});

test('an on-demand rule made in the form runs from the list\'s Run button', async () => {
  const got = new Promise<Received>((resolve) => {
    receiver.hold = (r) => { if (r.headers['x-event'] === 'on-demand') resolve(r); return Promise.resolve(); };
  });
  await page.goto(`${env.base}/web/admin/eventrules`);
  await page.click('#add-rule');
  await page.fill('#name', 'by-hand');
  await page.selectOption('#trigger', '6');
  assert.ok(!(await page.isVisible('#cond-fs')), 'filesystem conditions are hidden for on-demand rules');
  await page.click('#add-act');
  await page.selectOption('#act_0_name', 'notify');
  await page.click('#rule-form button[type=submit]');
  await page.waitForURL('**/web/admin/eventrules');
  await page.click('tr[data-rule="by-hand"] form[action$="/run"] button');
  await page.waitForURL('**/web/admin/eventrules');
  assert.match(await flash(), /Event rule "by-hand" started/);
  const r = await got;
  assert.equal(r.method, 'POST');
  // the csv rule has no Run button: it is not on demand
  assert.equal(await page.locator('tr[data-rule="csv-in"] form[action$="/run"]').count(), 0);
});

test('a user on Azure Blob made in the form takes an OpenSSH sftp upload', async () => {
  await newUserForm('azuser');
  await page.selectOption('#fs_provider', '3');
  assert.ok(await page.isVisible('#storage-az'));
  assert.ok(!(await page.isVisible('#storage-s3')));
  await page.fill('#fs_az_container', azurite.container);
  await page.fill('#fs_az_account_name', AZURITE_ACCOUNT);
  await page.fill('#fs_az_account_key', AZURITE_KEY);
  await page.fill('#fs_az_endpoint', azurite.endpoint);
  await page.fill('#fs_az_key_prefix', 'users/azuser');
  await page.check('#fs_az_use_emulator');
  await shot('user-add-azure');
  await page.click('#save-user');
  await page.waitForURL('**/web/admin/users');
  assert.match(await flash(), /User "azuser" added/);
  const stored = (await env.app.ctx.provider.getUser('azuser'))?.filesystem?.azblobconfig;
  assert.equal(await env.app.ctx.kms.decrypt(stored?.account_key as Secret), AZURITE_KEY);

  await sftpPut('azuser', '/hello.txt', 'hello azure\n');
  const svc = new BlobServiceClient(`${azurite.endpoint}/${AZURITE_ACCOUNT}`, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
  const blob = await svc.getContainerClient(azurite.container).getBlobClient('users/azuser/hello.txt').downloadToBuffer();
  assert.equal(blob.toString(), 'hello azure\n');

  await page.goto(`${env.base}/web/admin/user/azuser`);
  assert.equal(await page.inputValue('#fs_az_account_key'), '[**redacted**]');
  assert.ok(!(await page.content()).includes(AZURITE_KEY));
  await shot('user-edit-azure');
});

test('a GCS user made with an uploaded credentials file keeps them when edited as [**redacted**]', async () => {
  const creds = JSON.stringify({ type: 'service_account', project_id: 'web-project', client_email: 'sa@web-project.iam.gserviceaccount.com',
    private_key: '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n' });
  await newUserForm('gcsuser');
  await page.selectOption('#fs_provider', '2');
  await page.fill('#fs_gcs_bucket', gcs.bucket);
  await page.fill('#fs_gcs_key_prefix', 'users/gcsuser');
  await page.setInputFiles('#fs_gcs_credential_file', { name: 'sa.json', mimeType: 'application/json', buffer: Buffer.from(creds) });
  await page.click('#save-user');
  await page.waitForURL('**/web/admin/users');
  assert.match(await flash(), /User "gcsuser" added/);
  const sealed = async (): Promise<Secret> => (await env.app.ctx.provider.getUser('gcsuser'))?.filesystem?.gcsconfig?.credentials as Secret;
  assert.equal(await env.app.ctx.kms.decrypt(await sealed()), creds);

  await page.goto(`${env.base}/web/admin/user/gcsuser`);
  assert.equal(await page.inputValue('#fs_gcs_credentials'), '[**redacted**]');
  assert.ok(!(await page.content()).includes('web-project'), 'no credentials in the page');
  await page.fill('#fs_gcs_storage_class', 'NEARLINE');
  await shot('user-edit-gcs');
  await page.click('#save-user');
  await page.waitForURL('**/web/admin/users');
  assert.match(await flash(), /User "gcsuser" updated/);
  const after = await env.app.ctx.provider.getUser('gcsuser');
  assert.equal(after?.filesystem?.gcsconfig?.storage_class, 'NEARLINE');
  assert.equal(await env.app.ctx.kms.decrypt(await sealed()), creds);

  await sftpPut('gcsuser', '/report.txt', 'to gcs\n');
  assert.equal(gcs.objects.get('users/gcsuser/report.txt')?.data.toString(), 'to gcs\n');
});
