import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Form } from '../../../src/httpd/web/form';
import { groupFromForm } from '../../../src/httpd/web/routes/groups';

test('web group form: a stored folder subpath survives an edit (the form has no subpath field)', () => {
  const stored = {
    name: 'g', user_settings: {},
    virtual_folders: [{ name: 'f', mapped_path: '', virtual_path: '/v', quota_size: 0, quota_files: 0, subpath: '/team' }],
  };
  const form = new Form({
    name: 'g', home_dir: '', perm_0_path: '/', perm_0_perm: '*',
    vf_0_name: 'f', vf_0_path: '/v', vf_0_quota_size: '0', vf_0_quota_files: '0',
    vf_1_name: 'h', vf_1_path: '/w', vf_1_quota_size: '0', vf_1_quota_files: '0',
  });
  const g = groupFromForm(form, stored);
  assert.equal(g.virtual_folders?.[0]?.subpath, '/team');
  assert.equal(g.virtual_folders?.[1]?.subpath, undefined, 'a new mount gets no subpath');
  // a mount moved to another path is a new mount: no subpath carried over
  const moved = groupFromForm(new Form({ name: 'g', vf_0_name: 'f', vf_0_path: '/elsewhere', vf_0_quota_size: '0', vf_0_quota_files: '0' }), stored);
  assert.equal(moved.virtual_folders?.[0]?.subpath, undefined);
});
