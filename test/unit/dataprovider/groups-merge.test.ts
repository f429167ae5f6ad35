/**
 * The group merge (SFTPGo's applyGroupSettings), rule by rule: the primary
 * group fills unset values and replaces home/filesystem; primary and
 * secondary groups add permissions, folders and patterns for paths the user
 * does not define ("/" only from the primary); list filters are appended and
 * de-duplicated; membership groups change nothing; placeholders render.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyGroupSettings } from '../../../src/dataprovider/groups-merge';
import type { Group, User } from '../../../src/dataprovider/models';

const base = (extra: Partial<User> = {}): User => ({
  status: 1, username: 'ann', home_dir: '/home/ann', permissions: { '/': ['list'] }, created_at: 1_000_000, role: 'eu', ...extra,
});

const folder = (name: string, virtualPath: string, quota = 0): NonNullable<Group['virtual_folders']>[number] => ({
  name, mapped_path: `/srv/${name}/%username%`, virtual_path: virtualPath, quota_size: quota, quota_files: quota,
});

const primary: Group = {
  name: 'p',
  user_settings: {
    home_dir: '/data/%role%/%username%', max_sessions: 2, quota_size: 500, quota_files: 9, upload_bandwidth: 10,
    upload_data_transfer: 7, expires_in: 2,
    permissions: { '/': ['*'], '/ro': ['list', 'download'], '/%username%/x': ['upload'] },
    filters: {
      denied_protocols: ['FTP'], allowed_ip: ['10.0.0.0/8'], start_directory: '/%username%', max_upload_file_size: 50,
      file_patterns: [{ path: '/', denied_patterns: ['*.exe'] }, { path: '/docs', allowed_patterns: ['*.pdf'] }],
    },
  },
  virtual_folders: [folder('pf', '/pf', 100), folder('shared', '/shared', 5)],
};
const secondary: Group = {
  name: 's',
  user_settings: {
    home_dir: '/ignored', quota_size: 1, permissions: { '/': ['list'], '/ro': ['*'], '/extra': ['delete'] },
    filters: { denied_protocols: ['FTP', 'DAV'], file_patterns: [{ path: '/', allowed_patterns: ['*'] }, { path: '/s', denied_patterns: ['*.tmp'] }] },
  },
  virtual_folders: [folder('root', '/'), folder('sf', '/sf'), folder('shared', '/shared-again', 77)],
};
const groups = new Map([['p', primary], ['s', secondary]]);

test('membership-only and group-less users are returned untouched', () => {
  const u = base({ groups: [{ name: 'p', type: 3 }] });
  assert.equal(applyGroupSettings(u, groups), u);
  const none = base();
  assert.equal(applyGroupSettings(none, groups), none);
});

test('primary group: unset values filled, home rendered, "/" permission replaced, placeholders rendered', () => {
  const u = base({ quota_files: 3, groups: [{ name: 'p', type: 1 }] });
  const m = applyGroupSettings(u, groups);
  assert.equal(m.home_dir, '/data/eu/ann');
  assert.equal(m.max_sessions, 2);
  assert.equal(m.quota_size, 500);
  assert.equal(m.quota_files, 3, 'the user value wins');
  assert.equal(m.upload_bandwidth, 10);
  assert.equal(m.upload_data_transfer, 7);
  assert.equal(m.expiration_date, 1_000_000 + 2 * 86_400_000);
  assert.deepEqual(m.permissions, { '/': ['*'], '/ro': ['list', 'download'], '/ann/x': ['upload'] });
  assert.deepEqual(m.filters?.denied_protocols, ['FTP']);
  assert.equal(m.filters?.start_directory, '/ann');
  assert.equal(m.filters?.max_upload_file_size, 50);
  assert.deepEqual(m.filters?.file_patterns?.map((p) => p.path), ['/', '/docs']);
  assert.deepEqual(m.virtual_folders?.map((f) => [f.virtual_path, f.mapped_path]), [['/pf', '/srv/pf/ann'], ['/shared', '/srv/shared/ann']]);
  assert.equal(u.home_dir, '/home/ann', 'the stored user is not modified');
  assert.deepEqual(u.permissions, { '/': ['list'] });
});

test('secondary group adds only paths the user lacks, never "/", and appends list filters without duplicates', () => {
  const u = base({
    permissions: { '/': ['list'], '/ro': ['download'] },
    filters: { denied_protocols: ['DAV'] },
    virtual_folders: [{ ...folder('mine', '/sf'), mapped_path: '/mine' }],
    groups: [{ name: 's', type: 2 }],
  });
  const m = applyGroupSettings(u, groups);
  assert.equal(m.home_dir, '/home/ann', 'secondary groups do not set the home');
  assert.equal(m.quota_size, undefined);
  assert.deepEqual(m.permissions, { '/': ['list'], '/ro': ['download'], '/extra': ['delete'] });
  assert.deepEqual(m.filters?.denied_protocols, ['DAV', 'FTP']);
  assert.deepEqual(m.filters?.file_patterns?.map((p) => p.path), ['/s']);
  assert.deepEqual(m.virtual_folders?.map((f) => [f.virtual_path, f.name]), [['/sf', 'mine'], ['/shared-again', 'shared']]);
});

test('primary then secondary: primary wins on shared paths; one folder mounted twice keeps the first limits', () => {
  const u = base({ groups: [{ name: 's', type: 2 }, { name: 'p', type: 1 }] });
  const m = applyGroupSettings(u, groups);
  assert.deepEqual(m.permissions['/'], ['*']);
  assert.deepEqual(m.permissions['/ro'], ['list', 'download']);
  assert.deepEqual(m.permissions['/extra'], ['delete']);
  const shared = m.virtual_folders?.filter((f) => f.name === 'shared').map((f) => [f.virtual_path, f.quota_size]);
  assert.deepEqual(shared, [['/shared', 5], ['/shared-again', 5]]);
  assert.deepEqual(m.filters?.denied_protocols, ['FTP', 'DAV']);
});

test('a total transfer limit or any user limit keeps the user transfer limits', () => {
  const u = base({ download_data_transfer: 3, groups: [{ name: 'p', type: 1 }] });
  const m = applyGroupSettings(u, groups);
  assert.deepEqual([m.upload_data_transfer ?? 0, m.download_data_transfer], [0, 3]);
});
