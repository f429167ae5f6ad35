/**
 * A dump shaped as SFTPGo 2.7 writes it (version 17: every field present,
 * zero values included, ids, members lists, bcrypt hashes) with roles,
 * groups, folders, an admin with a role and users in groups loads unchanged
 * through POST /api/v2/loaddata and behaves the same: the member logs in
 * with OpenSSH sftp under the group's rules, the role admin sees its users
 * only, and dumpdata gives the groups and roles back.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashPassword } from '../../../src/dataprovider/passwords';
import { removeDaemonDir, startDaemon, type Daemon } from '../../support/daemon';
import { writeKeyPair } from '../../support/sshkeys';
import { keyOpts, run } from '../sftpd/openssh';

const T = 1_764_000_000_000;

/** SFTPGo's JSON for a local filesystem: every backend block present, empty. */
const localFs = {
  provider: 0, osconfig: {}, s3config: {}, gcsconfig: {}, azblobconfig: {}, cryptconfig: {}, sftpconfig: {}, httpconfig: {},
};

const zeroFilters = {
  hooks: { external_auth_disabled: false, pre_login_disabled: false, check_password_disabled: false },
  disable_fs_checks: false, external_auth_cache_time: 0, ftp_security: 0, is_anonymous: false,
  default_shares_expiration: 0, max_shares_expiration: 0, password_expiration: 0, password_strength: 0,
};

function sftpgoDump(dir: string, publicKey: string, adminHash: string): Record<string, unknown> {
  const folder = (id: number, name: string, path: string, users: string[]): Record<string, unknown> => ({
    id, name, mapped_path: path, description: '', used_quota_size: 0, used_quota_files: 0, last_quota_update: 0, users, filesystem: localFs,
  });
  const user = (id: number, username: string, extra: Record<string, unknown>): Record<string, unknown> => ({
    id, status: 1, username, expiration_date: 0, password: '', public_keys: [publicKey], has_password: false,
    home_dir: join(dir, 'homes', 'stored', username), uid: 0, gid: 0, max_sessions: 0, quota_size: 0, quota_files: 0,
    permissions: { '/': ['*'] }, used_quota_size: 0, used_quota_files: 0, last_quota_update: 0, upload_bandwidth: 0,
    download_bandwidth: 0, upload_data_transfer: 0, download_data_transfer: 0, total_data_transfer: 0,
    used_upload_data_transfer: 0, used_download_data_transfer: 0, created_at: T, updated_at: T, last_login: 0,
    first_download: 0, first_upload: 0, last_password_change: 0, filters: { ...zeroFilters, totp_config: {} },
    filesystem: localFs, ...extra,
  });
  return {
    version: 17,
    roles: [{ id: 1, name: 'eu', description: 'Europe', created_at: T, updated_at: T, users: ['bob'], admins: ['euadmin'] }],
    folders: [folder(1, 'team', join(dir, 'team'), [])],
    groups: [{
      id: 1, name: 'staff', description: 'Staff', created_at: T, updated_at: T, users: ['bob'],
      user_settings: {
        home_dir: join(dir, 'homes', '%role%', '%username%'), max_sessions: 0, quota_size: 0, quota_files: 5,
        permissions: { '/': ['list', 'download'], '/in': ['*'] }, upload_bandwidth: 0, download_bandwidth: 0,
        upload_data_transfer: 0, download_data_transfer: 0, total_data_transfer: 0, expires_in: 0,
        filters: { ...zeroFilters, denied_protocols: ['FTP'] }, filesystem: localFs,
      },
      virtual_folders: [{ ...folder(1, 'team', join(dir, 'team'), []), virtual_path: '/team', quota_size: -1, quota_files: -1 }],
    }],
    users: [
      user(1, 'bob', { role: 'eu', groups: [{ name: 'staff', type: 1 }] }),
      user(2, 'carl', {}),
    ],
    admins: [{
      id: 2, status: 1, username: 'euadmin', description: '', password: adminHash, email: '',
      permissions: ['add_users', 'edit_users', 'del_users', 'view_users'], filters: { allow_list: [], totp_config: {}, preferences: {} },
      additional_info: '', created_at: T, updated_at: T, last_login: 0, role: 'eu',
      groups: [{ name: 'staff', options: { add_to_users_as: 1 } }],
    }],
    api_keys: [], shares: [], event_actions: [], event_rules: [], ip_lists: [], configs: {},
  };
}

const daemons: Daemon[] = [];
after(() => { for (const d of daemons) removeDaemonDir(d); });

test('an SFTPGo 2.7 dump with roles, groups and users loads unchanged and behaves the same', async () => {
  const d = await startDaemon();
  daemons.push(d);
  const key = await writeKeyPair(d.dir, 'dump_ed25519', 'ed25519');
  const dump = sftpgoDump(d.dir, key.publicKey, await hashPassword('eu-admin-pw'));
  const loaded = await d.api('POST', '/loaddata?mode=0', dump);
  assert.equal(loaded.status, 200, JSON.stringify(loaded.json));

  const group = await d.api<{ users: string[]; user_settings: { quota_files: number }; virtual_folders: { virtual_path: string }[] }>('GET', '/groups/staff');
  assert.equal(group.status, 200);
  assert.deepEqual(group.json.users, ['bob']);
  assert.equal(group.json.user_settings.quota_files, 5);
  assert.deepEqual(group.json.virtual_folders.map((f) => f.virtual_path), ['/team']);
  const admin = await d.api<{ groups: unknown; role: string }>('GET', '/admins/euadmin');
  assert.deepEqual([admin.json.groups, admin.json.role], [[{ name: 'staff', options: { add_to_users_as: 1 } }], 'eu']);
  const role = await d.api<{ users: string[]; admins: string[] }>('GET', '/roles/eu');
  assert.deepEqual([role.json.users, role.json.admins], [['bob'], ['euadmin']]);

  const merged = join(d.dir, 'homes', 'eu', 'bob');
  mkdirSync(join(merged, 'in'), { recursive: true });
  mkdirSync(join(d.dir, 'team'), { recursive: true });
  writeFileSync(join(d.dir, 'team', 'notes.txt'), 'team notes\n');
  const local = join(d.dir, 'up.txt');
  writeFileSync(local, 'data\n');
  const args = [...keyOpts(key.privateKeyPath), '-P', String(d.sftpPort), '-b', '-', 'bob@127.0.0.1'];
  const ok = await run('sftp', args, { input: `put ${local} /in/up.txt\nget /team/notes.txt ${join(d.dir, 'notes.txt')}\n` });
  assert.equal(ok.status, 0, ok.stderr);
  assert.ok(existsSync(join(merged, 'in', 'up.txt')), 'the group home (%role%/%username%) is used');
  assert.ok(existsSync(join(d.dir, 'notes.txt')));
  const denied = await run('sftp', args, { input: `put ${local} /top.txt\n` });
  assert.notEqual(denied.status, 0, 'the group denies uploads at "/"');
  assert.match(denied.stderr, /[Pp]ermission denied/);

  const basic = Buffer.from('euadmin:eu-admin-pw').toString('base64');
  const tr = await fetch(`http://127.0.0.1:${d.httpPort}/api/v2/token`, { headers: { authorization: `Basic ${basic}` } });
  assert.equal(tr.status, 200, 'the dumped admin hash works');
  const token = ((await tr.json()) as { access_token: string }).access_token;
  const users = await fetch(`http://127.0.0.1:${d.httpPort}/api/v2/users`, { headers: { authorization: `Bearer ${token}` } });
  assert.deepEqual(((await users.json()) as { username: string }[]).map((u) => u.username), ['bob'], 'the role admin sees its users only');

  const back = await d.api<{ groups: { name: string }[]; roles: { name: string }[]; users: { username: string; groups?: unknown; role?: string }[] }>('GET', '/dumpdata?output-data=1');
  assert.equal(back.status, 200);
  assert.deepEqual(back.json.groups.map((g) => g.name), ['staff']);
  assert.deepEqual(back.json.roles.map((r) => r.name), ['eu']);
  const bob = back.json.users.find((u) => u.username === 'bob');
  assert.deepEqual([bob?.groups, bob?.role], [[{ name: 'staff', type: 1 }], 'eu']);
});
