/**
 * Groups and roles conformance, on every backend (sqlite, memory, postgresql,
 * mysql): CRUD, references from users and admins, the refusals of deleting
 * what is in use, role filtering, folder deletion, and a dump -> restore round trip.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isFsError } from '../../../src/common/errors';
import { isValidationError } from '../../../src/dataprovider/validation';
import { BACKENDS, tempDir, userInput, withoutIds } from './support';

const refused = (pattern: RegExp) => (e: unknown): boolean => isValidationError(e) && pattern.test((e as Error).message);

const groupInput = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name,
  description: `group ${name}`,
  user_settings: {
    home_dir: '/srv/groups/%username%',
    quota_size: 1000,
    permissions: { '/': ['list', 'download'], '/in': ['*'] },
    filters: { denied_protocols: ['FTP'] },
  },
  virtual_folders: [{ name: `${name}-shared`, mapped_path: `/srv/shared/${name}`, virtual_path: '/shared', quota_size: -1, quota_files: -1 }],
  ...extra,
});

for (const backend of BACKENDS) {
  describe(`groups and roles conformance: ${backend.name}`, () => {
    test('group CRUD, members, and a group in use cannot be deleted', async (t) => {
      const dp = await backend.open(tempDir(t));
      t.after(() => dp.close());
      const added = await dp.groups.addGroup(groupInput('devs'));
      assert.ok(added.id && added.id > 0);
      assert.equal(added.user_settings.home_dir, '/srv/groups/%username%');
      assert.deepEqual(added.user_settings.permissions, { '/': ['list', 'download'], '/in': ['*'] });
      assert.deepEqual(added.virtual_folders?.map((f) => [f.name, f.virtual_path, f.mapped_path]), [['devs-shared', '/shared', '/srv/shared/devs']]);
      assert.equal((await dp.getFolder('devs-shared'))?.mapped_path, '/srv/shared/devs', 'missing folder created from mapped_path');
      await assert.rejects(dp.groups.addGroup(groupInput('devs')), (e) => isFsError(e, 'AlreadyExists'));
      await dp.groups.addGroup({ name: 'ops' });

      const user = await dp.addUser(userInput('carol', { groups: [{ name: 'devs', type: 1 }, { name: 'ops', type: 2 }] }));
      assert.deepEqual(user.groups, [{ name: 'devs', type: 1 }, { name: 'ops', type: 2 }]);
      assert.equal(user.home_dir, '/srv/sftpgo/data/carol', 'stored as given: the merge happens at login only');
      assert.deepEqual((await dp.groups.getGroup('devs'))?.users, ['carol']);

      await dp.groups.updateGroup('devs', { ...groupInput('devs'), description: 'changed', virtual_folders: [] });
      const changed = await dp.groups.getGroup('devs');
      assert.equal(changed?.description, 'changed');
      assert.equal(changed?.virtual_folders, undefined);
      assert.equal(changed?.created_at, added.created_at);

      await assert.rejects(dp.groups.deleteGroup('devs'), refused(/the group "devs" is referenced, it cannot be removed/));
      await dp.updateUser('carol', userInput('carol', { groups: [] }));
      await dp.groups.deleteGroup('devs');
      assert.equal(await dp.groups.getGroup('devs'), undefined);
      await assert.rejects(dp.groups.deleteGroup('devs'), (e) => isFsError(e, 'NotFound'));
      assert.deepEqual((await dp.groups.listGroups()).map((g) => g.name), ['ops']);
    });

    test('user and admin references are checked, 400 naming the field', async (t) => {
      const dp = await backend.open(tempDir(t));
      t.after(() => dp.close());
      await assert.rejects(dp.addUser(userInput('u1', { groups: [{ name: 'nope', type: 1 }] })), refused(/^groups\[0\]\.name: group "nope" does not exist/));
      await assert.rejects(dp.addUser(userInput('u1', { role: 'nope' })), refused(/^role: role "nope" does not exist/));
      await dp.groups.addGroup({ name: 'g1' });
      await dp.groups.addGroup({ name: 'g2' });
      await assert.rejects(dp.addUser(userInput('u1', { groups: [{ name: 'g1', type: 1 }, { name: 'g2', type: 1 }] })), refused(/only one primary group/));
      await assert.rejects(dp.addUser(userInput('u1', { groups: [{ name: 'g1', type: 2 }, { name: 'g1', type: 3 }] })), refused(/"g1" is duplicated/));
      await assert.rejects(dp.addUser(userInput('u1', { groups: [{ name: 'g1', type: 4 }] })), refused(/groups\[0\]\.type: invalid group type: 4/));
      await assert.rejects(dp.groups.addGroup({ name: 'bad', user_settings: { home_dir: 'relative' } }), refused(/user_settings\.home_dir/));
      await assert.rejects(dp.groups.addGroup({ name: 'bad', user_settings: { permissions: { '/': ['fly'] } } }), refused(/user_settings\..*invalid permission "fly"/));
      await assert.rejects(dp.groups.addGroup({ name: 'bad', user_settings: { quota_size: -1 } }), refused(/user_settings\.quota_size/));
      await assert.rejects(dp.addAdmin({ username: 'ra', password: 'pw', status: 1, permissions: ['*'], role: 'r1' }), refused(/^role: role "r1" does not exist|a role admin cannot/));
      await dp.groups.addRole({ name: 'r1' });
      await assert.rejects(dp.addAdmin({ username: 'ra', password: 'pw', status: 1, permissions: ['*'], role: 'r1' }), refused(/a role admin cannot have the following permissions/));
      await assert.rejects(dp.addAdmin({ username: 'ra', password: 'pw', status: 1, permissions: ['view_users', 'manage_admins'], role: 'r1' }), refused(/a role admin cannot/));
      assert.equal(await dp.getUser('u1'), undefined, 'nothing half-written');
    });

    test('roles: members listed, listUsers filtered by role, delete refused while admins hold it', async (t) => {
      const dp = await backend.open(tempDir(t));
      t.after(() => dp.close());
      const role = await dp.groups.addRole({ name: 'sales', description: 'sales team' });
      assert.equal(role.description, 'sales team');
      await assert.rejects(dp.groups.addRole({ name: 'sales' }), (e) => isFsError(e, 'AlreadyExists'));
      await dp.groups.addRole({ name: 'hr' });
      await dp.addUser(userInput('s1', { role: 'sales' }));
      await dp.addUser(userInput('s2', { role: 'sales' }));
      await dp.addUser(userInput('h1', { role: 'hr' }));
      await dp.addUser(userInput('free'));
      const admin = await dp.addAdmin({ username: 'salesadmin', password: 'pw', status: 1, permissions: ['add_users', 'view_users'], role: 'sales' });
      assert.equal(admin.role, 'sales');
      assert.equal((await dp.getAdmin('salesadmin'))?.role, 'sales');
      const got = await dp.groups.getRole('sales');
      assert.deepEqual([got?.users, got?.admins], [['s1', 's2'], ['salesadmin']]);
      assert.deepEqual((await dp.listUsers({ role: 'sales' })).map((u) => u.username), ['s1', 's2']);
      assert.deepEqual((await dp.listUsers({ role: 'sales', limit: 1, offset: 1 })).map((u) => u.username), ['s2']);
      assert.equal((await dp.getUser('s1'))?.role, 'sales');
      await dp.groups.updateRole('sales', { description: 'renamed team' });
      assert.equal((await dp.groups.getRole('sales'))?.description, 'renamed team');

      await assert.rejects(dp.groups.deleteRole('sales'), refused(/the role "sales" is referenced, it cannot be removed/));
      await dp.groups.deleteRole('hr');
      assert.equal((await dp.getUser('h1'))?.role, undefined, 'users of a deleted role lose it');
      await dp.deleteAdmin('salesadmin');
      await dp.groups.deleteRole('sales');
      assert.deepEqual((await dp.groups.listRoles()).map((r) => r.name), []);
    });

    test('admin groups: stored with their options, listed on the group, dropped when the group goes', async (t) => {
      const dp = await backend.open(tempDir(t));
      t.after(() => dp.close());
      await dp.groups.addGroup({ name: 'g1' });
      await dp.groups.addGroup({ name: 'g2' });
      await assert.rejects(dp.addAdmin({ username: 'a1', password: 'pw', status: 1, permissions: ['*'], groups: [{ name: 'nope' }] }),
        refused(/^groups\[0\]\.name: group "nope" does not exist/));
      await assert.rejects(dp.addAdmin({ username: 'a1', password: 'pw', status: 1, permissions: ['*'],
        groups: [{ name: 'g1', options: { add_to_users_as: 1 } }, { name: 'g2', options: { add_to_users_as: 1 } }] }), refused(/only one primary group/));
      await assert.rejects(dp.addAdmin({ username: 'a1', password: 'pw', status: 1, permissions: ['*'], groups: [{ name: 'g1', options: { add_to_users_as: 3 } }] }),
        refused(/add_to_users_as: invalid mode/));
      const a = await dp.addAdmin({ username: 'a1', password: 'pw', status: 1, permissions: ['*'],
        groups: [{ name: 'g1', options: { add_to_users_as: 1 } }, { name: 'g2', options: {} }] });
      assert.deepEqual(a.groups, [{ name: 'g1', options: { add_to_users_as: 1 } }, { name: 'g2', options: {} }]);
      assert.deepEqual((await dp.groups.getGroup('g1'))?.admins, ['a1']);
      await dp.groups.deleteGroup('g1');
      assert.deepEqual((await dp.getAdmin('a1'))?.groups, [{ name: 'g2', options: {} }]);
    });

    test('a deleted folder leaves its groups; dump -> restore round trip keeps groups, roles and references', async (t) => {
      const dp = await backend.open(tempDir(t));
      t.after(() => dp.close());
      await dp.groups.addRole({ name: 'r1' });
      await dp.groups.addGroup(groupInput('g1'));
      await dp.groups.addGroup(groupInput('g2', { virtual_folders: [] }));
      await dp.addUser(userInput('m1', { role: 'r1', groups: [{ name: 'g1', type: 1 }, { name: 'g2', type: 3 }] }));
      await dp.addAdmin({ username: 'a1', password: 'pw', status: 1, permissions: ['view_users'], role: 'r1', groups: [{ name: 'g2', options: { add_to_users_as: 2 } }] });
      const dump = await dp.dump();
      assert.deepEqual(dump.groups?.map((g) => g.name), ['g1', 'g2']);
      assert.deepEqual(dump.roles?.map((r) => r.name), ['r1']);

      const other = await backend.open(tempDir(t));
      t.after(() => other.close());
      await other.restore(JSON.parse(JSON.stringify(dump)), 0);
      const again = await other.dump();
      assert.deepEqual(withoutIds(again), withoutIds(dump));

      await dp.deleteFolder('g1-shared');
      assert.equal((await dp.groups.getGroup('g1'))?.virtual_folders, undefined);
    });
  });
}
