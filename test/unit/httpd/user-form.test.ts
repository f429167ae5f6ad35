import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Form } from '../../../src/httpd/web/form';
import { editableCopy, userFromForm } from '../../../src/httpd/web/user-form';

test('web user form: the stored filesystem and folder subpaths survive an edit (the form shows neither)', () => {
  const stored = editableCopy({
    status: 1, username: 'u', home_dir: '/h', permissions: { '/': ['*'] },
    filesystem: { provider: 1, s3config: { bucket: 'b', region: 'r', access_key: 'k', access_secret: { status: 'Secretbox', payload: 'sealed', key: 'k1' } } },
    virtual_folders: [{ name: 'f', mapped_path: '', virtual_path: '/v', quota_size: 0, quota_files: 0, subpath: '/team' }],
  });
  const form = new Form({
    username: 'u', home_dir: '/h', status: '1', perm_0_path: '/', perm_0_perm: '*',
    vf_0_name: 'f', vf_0_path: '/v', vf_0_quota_size: '0', vf_0_quota_files: '0',
    vf_1_name: 'g', vf_1_path: '/w', vf_1_quota_size: '0', vf_1_quota_files: '0',
  });
  const u = userFromForm(form, stored);
  assert.deepEqual(u.filesystem, stored.filesystem);
  assert.equal(u.virtual_folders?.[0]?.subpath, '/team');
  assert.equal(u.virtual_folders?.[1]?.subpath, undefined, 'a new mapping gets no subpath');
});

test('web user form: an Azure Blob user edited in the form: fields read, [**redacted**] keeps the stored key, empty removes it, typed replaces it', () => {
  const azblobconfig = { container: 'c', account_name: 'a', account_key: { status: 'Secretbox', payload: 'sealed' }, key_prefix: 'p/' };
  const stored = editableCopy({
    status: 1, username: 'u', home_dir: '/h', permissions: { '/': ['*'] }, filesystem: { provider: 3, azblobconfig },
  });
  const fields = { username: 'u', home_dir: '/h', status: '1', perm_0_path: '/', perm_0_perm: '*', fs_provider: '3', fs_az_container: 'c2', fs_az_account_name: 'a', fs_az_key_prefix: 'p/', fs_az_upload_concurrency: '4' };
  const kept = userFromForm(new Form({ ...fields, fs_az_account_key: '[**redacted**]' }), stored).filesystem;
  assert.deepEqual(kept, { provider: 3, azblobconfig: { container: 'c2', account_name: 'a', key_prefix: 'p/', upload_concurrency: 4, account_key: azblobconfig.account_key } });
  assert.equal(userFromForm(new Form({ ...fields, fs_az_account_key: '' }), stored).filesystem?.azblobconfig?.account_key, undefined);
  assert.deepEqual(userFromForm(new Form({ ...fields, fs_az_account_key: 'new-key' }), stored).filesystem?.azblobconfig?.account_key, { status: 'Plain', payload: 'new-key' });
  // a user switched to Azure keeps nothing of another backend, and [**redacted**] with nothing stored is no secret
  const fresh = editableCopy({ status: 1, username: 'v', home_dir: '/h', permissions: { '/': ['*'] } });
  assert.equal(userFromForm(new Form({ ...fields, fs_az_account_key: '[**redacted**]' }), fresh).filesystem?.azblobconfig?.account_key, undefined);
  // an unknown provider number is passed on for validation to refuse, never turned into local disk
  assert.deepEqual(userFromForm(new Form({ ...fields, fs_provider: '9' }), stored).filesystem, { provider: 9 });
});
