/**
 * The web admin storage fields: users and folders on S3, GCS, Azure Blob,
 * remote SFTP and encrypted local storage added through the forms, secrets
 * sealed by the kms and never written into a page (not even after a
 * validation error): a stored secret shows as [**redacted**], sent back
 * unchanged it keeps the stored secret, emptied it is removed, a new value
 * replaces it (SFTPGo's web admin). HTTPFs fields reach the provider's
 * validation unchanged.
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
  fs_s3_upload_part_size: '8', fs_s3_force_path_style: '1', fs_s3_role_arn: ' arn:aws:iam::123456789012:role/web ', ...extra,
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
  assert.equal(u?.filesystem?.s3config?.role_arn, 'arn:aws:iam::123456789012:role/web');
  const first = await secretOf();
  assert.equal(first.status, 'Secretbox');
  assert.equal(await s.ctx.kms.decrypt(first), 'first-web-secret');

  const page = await web.get('/web/admin/user/cloudy');
  assert.equal(page.status, 200);
  assert.ok(!page.text.includes('first-web-secret') && !page.text.includes(first.payload ?? 'x'), 'no secret in the page');
  assert.match(page.text, /value="bkt"/);
  assert.match(page.text, /name="fs_s3_role_arn" value="arn:aws:iam::123456789012:role\/web"/);
  assert.match(page.text, /name="fs_s3_access_secret" value="\[\*\*redacted\*\*\]"/);

  const kept = await web.submit('/web/admin/user/cloudy', '/web/admin/user/cloudy', userFields({ fs_s3_access_secret: '[**redacted**]', password: '' }));
  assert.equal(kept.status, 303, kept.text.slice(0, 300));
  assert.equal(await s.ctx.kms.decrypt(await secretOf()), 'first-web-secret');

  const replaced = await web.submit('/web/admin/user/cloudy', '/web/admin/user/cloudy', userFields({ fs_s3_access_secret: 'second-web-secret', password: '' }));
  assert.equal(replaced.status, 303);
  assert.equal(await s.ctx.kms.decrypt(await secretOf()), 'second-web-secret');

  // emptied: removed, so the access key alone is refused by validation (the stored secret stays)
  const emptied = await web.submit('/web/admin/user/cloudy', '/web/admin/user/cloudy', userFields({ fs_s3_access_secret: '', password: '' }));
  assert.equal(emptied.status, 400);
  assert.match(emptied.text, /access_secret cannot be empty with access_key not empty/);
  const cleared = await web.submit('/web/admin/user/cloudy', '/web/admin/user/cloudy', userFields({ fs_s3_access_secret: '', fs_s3_access_key: '', password: '' }));
  assert.equal(cleared.status, 303, cleared.text.slice(0, 300));
  assert.equal((await s.ctx.provider.getUser('cloudy'))?.filesystem?.s3config?.access_secret, undefined);
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

const base = (username: string): Record<string, string> => ({ username, password: 'pw-12345678', home_dir: `/srv/${username}`, status: '1', perm_0_path: '/', perm_0_perm: '*' });
const sealed = async (username: string, section: 'gcsconfig' | 'azblobconfig' | 'sftpconfig', key: string): Promise<Secret | undefined> =>
  (await s.ctx.provider.getUser(username))?.filesystem?.[section]?.[key] as Secret | undefined;

test('GCS through the form: credentials JSON sealed, kept as [**redacted**], automatic credentials drop them', async () => {
  const creds = JSON.stringify({ type: 'service_account', project_id: 'p', client_email: 'a@p.iam.gserviceaccount.com' });
  const fields = { ...base('gcsweb'), fs_provider: '2', fs_gcs_bucket: 'gbkt', fs_gcs_key_prefix: 'u/gcsweb', fs_gcs_storage_class: 'NEARLINE', fs_gcs_acl: 'private', fs_gcs_upload_part_size: '4', fs_gcs_upload_part_max_time: '30' };
  const bad = await web.submit('/web/admin/user', '/web/admin/user', { ...fields, fs_gcs_credentials: 'not json' });
  assert.equal(bad.status, 400);
  assert.match(bad.text, /gcsconfig\.credentials: invalid credentials/);
  const added = await web.submit('/web/admin/user', '/web/admin/user', { ...fields, fs_gcs_credentials: creds });
  assert.equal(added.status, 303, added.text.slice(0, 300));
  const u = await s.ctx.provider.getUser('gcsweb');
  assert.deepEqual({ ...u?.filesystem?.gcsconfig, credentials: undefined },
    { bucket: 'gbkt', key_prefix: 'u/gcsweb/', storage_class: 'NEARLINE', acl: 'private', upload_part_size: 4, upload_part_max_time: 30, credentials: undefined });
  assert.equal(await s.ctx.kms.decrypt((await sealed('gcsweb', 'gcsconfig', 'credentials'))!), creds);
  const page = await web.get('/web/admin/user/gcsweb');
  assert.ok(!page.text.includes('gserviceaccount'), 'no credentials in the page');
  assert.match(page.text, /name="fs_gcs_credentials"[^>]*>\[\*\*redacted\*\*\]</);
  const kept = await web.submit('/web/admin/user/gcsweb', '/web/admin/user/gcsweb', { ...fields, password: '', fs_gcs_credentials: '[**redacted**]', fs_gcs_bucket: 'gbkt2' });
  assert.equal(kept.status, 303, kept.text.slice(0, 300));
  assert.equal((await s.ctx.provider.getUser('gcsweb'))?.filesystem?.gcsconfig?.bucket, 'gbkt2');
  assert.equal(await s.ctx.kms.decrypt((await sealed('gcsweb', 'gcsconfig', 'credentials'))!), creds);
  const auto = await web.submit('/web/admin/user/gcsweb', '/web/admin/user/gcsweb', { ...fields, password: '', fs_gcs_credentials: '[**redacted**]', fs_gcs_automatic_credentials: '1' });
  assert.equal(auto.status, 303);
  const g = (await s.ctx.provider.getUser('gcsweb'))?.filesystem?.gcsconfig;
  assert.equal(g?.automatic_credentials, 1);
  assert.equal(g?.credentials, undefined);
});

test('Azure Blob through the form: key and SAS URL sealed and redacted, every field stored', async () => {
  const fields = { ...base('azweb'), fs_provider: '3', fs_az_container: 'cont', fs_az_account_name: 'acct', fs_az_endpoint: 'http://127.0.0.1:10000',
    fs_az_key_prefix: 'p/azweb', fs_az_upload_part_size: '5', fs_az_upload_concurrency: '3', fs_az_download_part_size: '6', fs_az_download_concurrency: '4',
    fs_az_access_tier: 'Cool', fs_az_use_emulator: '1' };
  const noKey = await web.submit('/web/admin/user', '/web/admin/user', fields);
  assert.equal(noKey.status, 400);
  assert.match(noKey.text, /account_key is required/);
  const added = await web.submit('/web/admin/user', '/web/admin/user', { ...fields, fs_az_account_key: 'az-key-secret' });
  assert.equal(added.status, 303, added.text.slice(0, 300));
  const az = (await s.ctx.provider.getUser('azweb'))?.filesystem?.azblobconfig;
  assert.deepEqual({ ...az, account_key: undefined }, { container: 'cont', account_name: 'acct', endpoint: 'http://127.0.0.1:10000', key_prefix: 'p/azweb/',
    upload_part_size: 5, upload_concurrency: 3, download_part_size: 6, download_concurrency: 4, access_tier: 'Cool', use_emulator: true, account_key: undefined });
  const page = await web.get('/web/admin/user/azweb');
  assert.ok(!page.text.includes('az-key-secret'));
  assert.match(page.text, /name="fs_az_account_key" value="\[\*\*redacted\*\*\]"/);
  assert.match(page.text, /name="fs_az_sas_url" value=""/);
  const kept = await web.submit('/web/admin/user/azweb', '/web/admin/user/azweb', { ...fields, password: '', fs_az_account_key: '[**redacted**]', fs_az_access_tier: 'Hot' });
  assert.equal(kept.status, 303, kept.text.slice(0, 300));
  assert.equal(await s.ctx.kms.decrypt((await sealed('azweb', 'azblobconfig', 'account_key'))!), 'az-key-secret');
  const tier = await web.submit('/web/admin/user/azweb', '/web/admin/user/azweb', { ...fields, password: '', fs_az_account_key: '[**redacted**]', fs_az_access_tier: 'Frozen' });
  assert.equal(tier.status, 400);
  assert.match(tier.text, /invalid access tier &quot;Frozen&quot;/);
});

test('remote SFTP through the form (a folder): password, key passphrase sealed; fingerprints one per line', async () => {
  const fp = `SHA256:${'A'.repeat(43)}`;
  const fields = { name: 'remote', mapped_path: '', fs_provider: '5', fs_sftp_endpoint: '127.0.0.1:2022', fs_sftp_username: 'far', fs_sftp_password: 'far-pass',
    fs_sftp_prefix: '/data', fs_sftp_fingerprints: `${fp}\n\n`, fs_sftp_buffer_size: '2', fs_sftp_disable_concurrent_reads: '1', fs_sftp_equality_check_mode: '1' };
  const r = await web.submit('/web/admin/folder', '/web/admin/folder', fields);
  assert.equal(r.status, 303, r.text.slice(0, 300));
  const cfg = (await s.ctx.provider.getFolder('remote'))?.filesystem?.sftpconfig;
  assert.deepEqual({ ...cfg, password: undefined }, { endpoint: '127.0.0.1:2022', username: 'far', fingerprints: [fp], prefix: '/data', buffer_size: 2,
    disable_concurrent_reads: true, equality_check_mode: 1, password: undefined });
  assert.equal(await s.ctx.kms.decrypt(cfg?.password as Secret), 'far-pass');
  const page = await web.get('/web/admin/folder/remote');
  assert.ok(!page.text.includes('far-pass'));
  const badKey = await web.submit('/web/admin/folder/remote', '/web/admin/folder/remote', { ...fields, fs_sftp_password: '[**redacted**]', fs_sftp_private_key: 'not a key' });
  assert.equal(badKey.status, 400);
  assert.match(badKey.text, /private_key: invalid private key/);
  assert.equal(await s.ctx.kms.decrypt((await s.ctx.provider.getFolder('remote'))?.filesystem?.sftpconfig?.password as Secret), 'far-pass');
});

test('HTTPFs fields reach the provider as httpconfig (its answer shown in the form)', async () => {
  const r = await web.submit('/web/admin/user', '/web/admin/user', { ...base('httpweb'), fs_provider: '6', fs_http_endpoint: 'http://127.0.0.1:9/api/v1', fs_http_username: 'h', fs_http_api_key: 'http-api-key' });
  if (r.status === 303) {
    const cfg = (await s.ctx.provider.getUser('httpweb'))?.filesystem?.httpconfig;
    assert.equal(cfg?.endpoint, 'http://127.0.0.1:9/api/v1');
    assert.equal(await s.ctx.kms.decrypt(cfg?.api_key as Secret), 'http-api-key');
  } else {
    assert.equal(r.status, 400);
    assert.match(r.text, /HTTP \(6\)/);
    assert.ok(!r.text.includes('http-api-key'));
  }
});
