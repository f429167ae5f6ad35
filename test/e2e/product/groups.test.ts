/**
 * Groups and roles through the daemon as users run it: REST CRUD and 400s
 * naming the field; a member logs in with OpenSSH sftp and gets exactly the
 * merged rules (primary group home, permissions, quota, folder; secondary
 * group folder; "/" of a secondary group ignored); an admin with a role sees
 * and manages only its role's users; an SFTPGo 2.7-shaped dump with groups,
 * roles and users loads unchanged and behaves the same.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeDaemonDir, startDaemon, until, type Daemon } from '../../support/daemon';
import { writeKeyPair } from '../../support/sshkeys';
import { Client } from 'ssh2';
import { keyOpts, run } from '../sftpd/openssh';

interface ApiMessage { message?: string; error?: string }

async function tokenFor(d: Daemon, username: string, password: string): Promise<string> {
  const basic = Buffer.from(`${username}:${password}`).toString('base64');
  const r = await fetch(`http://127.0.0.1:${d.httpPort}/api/v2/token`, { headers: { authorization: `Basic ${basic}` } });
  assert.equal(r.status, 200, `token for ${username}`);
  return ((await r.json()) as { access_token: string }).access_token;
}

async function apiAs<T = ApiMessage>(d: Daemon, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const r = await fetch(`http://127.0.0.1:${d.httpPort}/api/v2${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: (text ? JSON.parse(text) : undefined) as T };
}

/** An open SFTP session (ssh2 client); `closed` resolves when the server ends it. */
function sshSession(d: Daemon, username: string, password: string): Promise<{ client: Client; closed: Promise<void> }> {
  const client = new Client();
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  return new Promise((resolve, reject) => {
    client.once('error', reject);
    client.once('ready', () => client.sftp((err) => (err ? reject(err) : resolve({ client, closed }))));
    client.connect({ host: '127.0.0.1', port: d.sftpPort, username, password, readyTimeout: 30000 });
  });
}

function sftp(d: Daemon, key: string, user: string, commands: string): ReturnType<typeof run> {
  return run('sftp', [...keyOpts(key), '-P', String(d.sftpPort), '-b', '-', `${user}@127.0.0.1`], { input: commands });
}

describe('groups and roles through the daemon', () => {
  const daemons: Daemon[] = [];
  after(() => { for (const d of daemons) removeDaemonDir(d); });

  test('REST CRUD, validation 400s, and a member logging in with OpenSSH sftp gets the merged rules', async () => {
    const d = await startDaemon();
    daemons.push(d);
    const key = await writeKeyPair(d.dir, 'member_ed25519', 'ed25519');
    const homes = join(d.dir, 'homes');

    assert.equal((await d.api('POST', '/roles', { name: 'eu', description: 'Europe' })).status, 201);
    const bad = await d.api<ApiMessage>('POST', '/groups', { name: 'broken', user_settings: { permissions: { '/': ['fly'] } } });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.json), /user_settings\.permissions.*invalid permission \\"fly\\"|user_settings.*fly/);
    const badHome = await d.api<ApiMessage>('POST', '/groups', { name: 'broken', user_settings: { home_dir: 'rel/ative' } });
    assert.equal(badHome.status, 400);
    assert.match(JSON.stringify(badHome.json), /user_settings\.home_dir/);

    const staff = await d.api<{ name: string; virtual_folders: { name: string }[] }>('POST', '/groups', {
      name: 'staff',
      user_settings: {
        home_dir: join(homes, '%role%', '%username%'),
        quota_files: 2,
        permissions: { '/': ['list', 'download'], '/in': ['*'] },
      },
      virtual_folders: [{ name: 'team', mapped_path: join(d.dir, 'team', '%username%'), virtual_path: '/team', quota_size: -1, quota_files: -1 }],
    });
    assert.equal(staff.status, 201, JSON.stringify(staff.json));
    assert.deepEqual(staff.json.virtual_folders.map((f) => f.name), ['team']);
    const extra = await d.api('POST', '/groups', {
      name: 'extra',
      // a secondary group's "/" is ignored: the member must not get upload at the root from it
      user_settings: { permissions: { '/': ['*'], '/shared/drop': ['*'] } },
      virtual_folders: [{ name: 'shared', mapped_path: join(d.dir, 'shared'), virtual_path: '/shared', quota_size: -1, quota_files: -1 }],
    });
    assert.equal(extra.status, 201, JSON.stringify(extra.json));

    const unknown = await d.api<ApiMessage>('POST', '/users', {
      status: 1, username: 'nobody', password: 'pw-123456', home_dir: join(homes, 'x'), permissions: { '/': ['*'] }, groups: [{ name: 'ghost', type: 1 }],
    });
    assert.equal(unknown.status, 400);
    assert.match(JSON.stringify(unknown.json), /groups\[0\]\.name: group \\"ghost\\" does not exist/);

    const stored = join(homes, 'as-stored');
    const created = await d.api<{ home_dir: string; groups: unknown; role: string; permissions: unknown }>('POST', '/users', {
      status: 1, username: 'bob', public_keys: [key.publicKey], home_dir: stored, permissions: { '/': ['*'] }, role: 'eu',
      groups: [{ name: 'staff', type: 1 }, { name: 'extra', type: 2 }],
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    // the API returns the user as stored: groups listed, nothing merged
    assert.equal(created.json.home_dir, stored);
    assert.deepEqual(created.json.permissions, { '/': ['*'] });
    assert.deepEqual(created.json.groups, [{ name: 'extra', type: 2 }, { name: 'staff', type: 1 }]);
    assert.equal(created.json.role, 'eu');
    assert.deepEqual((await d.api<{ users: string[] }>('GET', '/groups/staff')).json.users, ['bob']);

    mkdirSync(join(d.dir, 'team', 'bob'), { recursive: true });
    writeFileSync(join(d.dir, 'team', 'bob', 'hello.txt'), 'hello from the team folder\n');
    mkdirSync(join(d.dir, 'shared', 'drop'), { recursive: true });
    const local = join(d.dir, 'local.txt');
    writeFileSync(local, 'payload\n');
    const mergedHome = join(homes, 'eu', 'bob');

    const list = await sftp(d, key.privateKeyPath, 'bob', 'pwd\nls /\nls /team\nget /team/hello.txt ' + join(d.dir, 'got.txt') + '\n');
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /team/);
    assert.match(list.stdout, /shared/);
    assert.ok(existsSync(join(d.dir, 'got.txt')), 'file of the group folder downloaded');

    const rootPut = await sftp(d, key.privateKeyPath, 'bob', `put ${local} /root.txt\n`);
    assert.notEqual(rootPut.status, 0, 'the primary group allows only list,download at "/"');
    assert.match(rootPut.stderr, /[Pp]ermission denied/);
    assert.ok(!existsSync(join(mergedHome, 'root.txt')));

    // creating /in needs create_dirs on "/", which the group does not give: an administrator creates it
    const mkdirDenied = await sftp(d, key.privateKeyPath, 'bob', 'mkdir /in\n');
    assert.notEqual(mkdirDenied.status, 0);
    mkdirSync(join(mergedHome, 'in'), { recursive: true });
    const inPut = await sftp(d, key.privateKeyPath, 'bob', `put ${local} /in/a.txt\nput ${local} /shared/drop/s.txt\n`);
    assert.equal(inPut.status, 0, inPut.stderr);
    assert.ok(existsSync(join(mergedHome, 'in', 'a.txt')), 'uploaded under the home rendered from %role%/%username%');
    assert.ok(!existsSync(join(stored, 'in', 'a.txt')));
    assert.ok(existsSync(join(d.dir, 'shared', 'drop', 's.txt')), 'secondary group folder and its permission');

    // quota_files 2 from the group: /in/a.txt and /shared/drop/s.txt (a -1 folder counts in the user's quota) fill it
    const third = await sftp(d, key.privateKeyPath, 'bob', `put ${local} /in/c.txt\n`);
    assert.notEqual(third.status, 0, 'the group quota is enforced');
    assert.ok(!existsSync(join(mergedHome, 'in', 'c.txt')));
    const usage = await d.api<{ used_quota_files: number }>('GET', '/users/bob');
    assert.equal(usage.json.used_quota_files, 2);

    const inUse = await d.api<ApiMessage>('DELETE', '/groups/staff');
    assert.equal(inUse.status, 400);
    assert.match(inUse.json.error ?? inUse.json.message ?? '', /the group "staff" is referenced, it cannot be removed/);
    // group changes reach members at their next login
    assert.equal((await d.api('PUT', '/groups/staff', { user_settings: { home_dir: join(homes, '%role%', '%username%'), permissions: { '/': ['*'] } },
      virtual_folders: [] })).status, 200);
    const afterUpdate = await sftp(d, key.privateKeyPath, 'bob', `put ${local} /root.txt\n`);
    assert.equal(afterUpdate.status, 0, afterUpdate.stderr);
  });

  test('an admin with a role sees and manages only the users of its role', async () => {
    const d = await startDaemon();
    daemons.push(d);
    const homes = join(d.dir, 'homes');
    const user = (username: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
      status: 1, username, password: 'pw-123456', home_dir: join(homes, username), permissions: { '/': ['*'] }, ...extra,
    });
    assert.equal((await d.api('POST', '/roles', { name: 'eu' })).status, 201);
    assert.equal((await d.api('POST', '/users', user('inrole', { role: 'eu' }))).status, 201);
    assert.equal((await d.api('POST', '/users', user('outside'))).status, 201);
    const superRole = await d.api<ApiMessage>('POST', '/admins', { username: 'x', password: 'pw-123456', status: 1, permissions: ['*'], role: 'eu' });
    assert.equal(superRole.status, 400);
    assert.match(JSON.stringify(superRole.json), /a role admin cannot have the following permissions/);
    const created = await d.api<{ role: string }>('POST', '/admins', {
      username: 'euadmin', password: 'eu-admin-pw', status: 1,
      permissions: ['add_users', 'edit_users', 'del_users', 'view_users', 'view_conns', 'close_conns'], role: 'eu',
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.equal(created.json.role, 'eu');

    const token = await tokenFor(d, 'euadmin', 'eu-admin-pw');
    const listed = await apiAs<{ username: string }[]>(d, token, 'GET', '/users');
    assert.deepEqual(listed.json.map((u) => u.username), ['inrole']);
    assert.equal((await apiAs(d, token, 'GET', '/users/inrole')).status, 200);
    assert.equal((await apiAs(d, token, 'GET', '/users/outside')).status, 404);
    assert.equal((await apiAs(d, token, 'PUT', '/users/outside', user('outside', { description: 'hijack' }))).status, 404);
    assert.equal((await apiAs(d, token, 'DELETE', '/users/outside')).status, 404);
    assert.equal((await d.api<{ description?: string }>('GET', '/users/outside')).json.description, undefined, 'untouched');

    // sessions: the role admin lists and closes only those of its role's users
    const sessions = await Promise.all([sshSession(d, 'inrole', 'pw-123456'), sshSession(d, 'outside', 'pw-123456')]);
    try {
      type Conn = { connection_id: string; username: string };
      const all = await d.api<Conn[]>('GET', '/connections');
      assert.deepEqual(all.json.map((c) => c.username).sort(), ['inrole', 'outside']);
      const visible = await apiAs<Conn[]>(d, token, 'GET', '/connections');
      assert.deepEqual(visible.json.map((c) => c.username), ['inrole']);
      const foreign = all.json.find((c) => c.username === 'outside')!;
      assert.equal((await apiAs(d, token, 'DELETE', `/connections/${foreign.connection_id}`)).status, 404);
      assert.equal((await apiAs(d, token, 'DELETE', `/connections/${visible.json[0]!.connection_id}`)).status, 200);
      await sessions[0].closed;
      // the daemon (another process) drops the session from its list on its own schedule: bounded poll
      await until('the closed session leaves the list', async () =>
        (await d.api<Conn[]>('GET', '/connections')).json.every((c) => c.username !== 'inrole'));
      assert.deepEqual((await d.api<Conn[]>('GET', '/connections')).json.map((c) => c.username), ['outside'], 'only its own session closed');
    } finally {
      for (const s of sessions) s.client.end();
    }

    const mine = await apiAs<{ role: string }>(d, token, 'POST', '/users', user('newcomer'));
    assert.equal(mine.status, 201, JSON.stringify(mine.json));
    assert.equal(mine.json.role, 'eu', 'new users of a role admin get its role');
    assert.equal((await apiAs(d, token, 'PUT', '/users/newcomer', user('newcomer', { role: '' }))).status, 200);
    assert.equal((await d.api<{ role: string }>('GET', '/users/newcomer')).json.role, 'eu', 'a role admin cannot move users out of its role');
    assert.equal((await apiAs(d, token, 'GET', '/groups')).status, 403);
    assert.equal((await apiAs(d, token, 'GET', '/roles')).status, 403);
    assert.equal((await apiAs(d, token, 'DELETE', '/users/newcomer')).status, 200);

    assert.deepEqual((await d.api<{ username: string }[]>('GET', '/users')).json.map((u) => u.username), ['inrole', 'outside']);
    const roleDelete = await d.api<ApiMessage>('DELETE', '/roles/eu');
    assert.equal(roleDelete.status, 400, 'held by an admin');
    assert.equal((await d.api('DELETE', '/admins/euadmin')).status, 200);
    assert.equal((await d.api('DELETE', '/roles/eu')).status, 200);
    assert.equal((await d.api<{ role?: string }>('GET', '/users/inrole')).json.role, undefined, 'users of a deleted role lose it');
  });
});
