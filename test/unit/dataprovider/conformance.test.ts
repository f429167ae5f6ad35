/**
 * One conformance suite, run against every backend: CRUD, duplicates, not
 * found, quota deltas, transaction rollback, dump -> restore round trip.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isFsError } from '../../../src/common/errors';
import { isValidationError } from '../../../src/dataprovider/validation';
import { BACKENDS, tempDir, userInput, withoutIds } from './support';

for (const backend of BACKENDS) {
  describe(`data provider conformance: ${backend.name}`, () => {
    test('user CRUD keeps hashes out of plain text and preserves bookkeeping on update', async (t) => {
      const dp = await backend.open(tempDir(t));
      t.after(() => dp.close());
      const added = await dp.addUser(userInput('alice', { description: 'first', quota_size: 1000 }));
      assert.equal(added.username, 'alice');
      assert.ok(added.id && added.id > 0);
      assert.match(added.password ?? '', /^\$2a\$/, 'password stored as bcrypt hash');
      assert.ok((added.created_at ?? 0) > 0);
      assert.deepEqual(await dp.getUser('alice'), added);

      await dp.updateUserQuota('alice', 100, 2);
      await dp.updateUserQuota('alice', 50, 1);
      await dp.updateUserQuota('alice', -30, -1);
      let u = await dp.getUser('alice');
      assert.equal(u?.used_quota_size, 120);
      assert.equal(u?.used_quota_files, 2);
      await dp.updateUserTransferQuota('alice', 10, 20);
      await dp.backend.updateLastLogin('alice', 12345);

      // update without password keeps the hash; used quota, created_at, last_login are kept
      const updated = await dp.updateUser('alice', { ...userInput('alice'), password: undefined, description: 'second' });
      assert.equal(updated.password, added.password);
      assert.equal(updated.description, 'second');
      assert.equal(updated.used_quota_size, 120);
      assert.equal(updated.used_upload_data_transfer, 10);
      assert.equal(updated.used_download_data_transfer, 20);
      assert.equal(updated.created_at, added.created_at);
      assert.equal(updated.last_login, 12345);

      await dp.updateUserQuota('alice', 7, 3, true);
      u = await dp.getUser('alice');
      assert.equal(u?.used_quota_size, 7);
      assert.equal(u?.used_quota_files, 3);

      assert.deepEqual((await dp.listUsers()).map((x) => x.username), ['alice']);
      await dp.deleteUser('alice');
      assert.equal(await dp.getUser('alice'), undefined);
    });

    test('duplicates are AlreadyExists, unknown names are NotFound', async (t) => {
      const dp = await backend.open(tempDir(t));
      t.after(() => dp.close());
      await dp.addUser(userInput('bob'));
      await assert.rejects(dp.addUser(userInput('bob')), (e) => isFsError(e, 'AlreadyExists'));
      await assert.rejects(dp.updateUser('nobody', userInput('nobody')), (e) => isFsError(e, 'NotFound'));
      await assert.rejects(dp.deleteUser('nobody'), (e) => isFsError(e, 'NotFound'));
      await assert.rejects(dp.updateUserQuota('nobody', 1, 1), (e) => isFsError(e, 'NotFound'));
      await dp.addFolder({ name: 'f1', mapped_path: '/srv/f1' });
      await assert.rejects(dp.addFolder({ name: 'f1', mapped_path: '/srv/f2' }), (e) => isFsError(e, 'AlreadyExists'));
      await assert.rejects(dp.deleteFolder('nofolder'), (e) => isFsError(e, 'NotFound'));
      await dp.addAdmin({ username: 'root1', password: 'pw', status: 1, permissions: ['*'] });
      await assert.rejects(dp.addAdmin({ username: 'root1', password: 'pw', status: 1, permissions: ['*'] }),
        (e) => isFsError(e, 'AlreadyExists'));
      await assert.rejects(dp.deleteAdmin('nobody'), (e) => isFsError(e, 'NotFound'));
      await assert.rejects(dp.deleteApiKey('nokey'), (e) => isFsError(e, 'NotFound'));
    });

    test('virtual folders: created from mapped_path, joined on read, quota, users list', async (t) => {
      const dp = await backend.open(tempDir(t));
      t.after(() => dp.close());
      await dp.addFolder({ name: 'shared', mapped_path: '/srv/shared', description: 'common' });
      const u = await dp.addUser(userInput('carol', {
        virtual_folders: [
          { name: 'shared', virtual_path: '/vshared', quota_size: -1, quota_files: -1 },
          { name: 'newone', mapped_path: '/srv/newone', virtual_path: '/vnew/' },
        ],
      }));
      assert.deepEqual(u.virtual_folders?.map((v) => [v.name, v.virtual_path, v.mapped_path, v.quota_size]),
        [['newone', '/vnew', '/srv/newone', 0], ['shared', '/vshared', '/srv/shared', -1]]);
      assert.deepEqual((await dp.getFolder('newone'))?.users, ['carol']);
      await dp.updateFolderQuota('shared', 500, 5);
      await dp.updateFolderQuota('shared', 500, 5);
      const f = await dp.getFolder('shared');
      assert.equal(f?.used_quota_size, 1000);
      assert.equal(f?.used_quota_files, 10);
      assert.equal((await dp.getUser('carol'))?.virtual_folders?.find((v) => v.name === 'shared')?.used_quota_size, 1000);
      // unknown folder without mapped_path: validation error, nothing stored
      await assert.rejects(dp.addUser(userInput('dave', { virtual_folders: [{ name: 'ghost', virtual_path: '/g' }] })),
        (e) => isValidationError(e));
      assert.equal(await dp.getUser('dave'), undefined);
      await dp.deleteFolder('shared');
      assert.deepEqual((await dp.getUser('carol'))?.virtual_folders?.map((v) => v.name), ['newone']);
    });

    test('folder subpath: kept on user and group mounts, changed, cleared, through dump -> restore', async (t) => {
      const dp = await backend.open(tempDir(t));
      t.after(() => dp.close());
      await dp.addFolder({ name: 'team', mapped_path: '/srv/team' });
      await dp.groups.addGroup({ name: 'g1', virtual_folders: [{ name: 'team', virtual_path: '/gteam', subpath: '/docs/g1' }] });
      await dp.addUser(userInput('sub1', {
        groups: [{ name: 'g1', type: 2 }],
        virtual_folders: [{ name: 'team', virtual_path: '/t', subpath: '/a/b' }, { name: 'whole', mapped_path: '/srv/whole', virtual_path: '/w' }],
      }));
      const mounts = async (): Promise<unknown> => (await dp.getUser('sub1'))?.virtual_folders?.map((v) => [v.name, v.subpath]);
      assert.deepEqual(await mounts(), [['team', '/a/b'], ['whole', undefined]], 'no subpath stays absent, not ""');
      assert.equal((await dp.groups.getGroup('g1'))?.virtual_folders?.[0]?.subpath, '/docs/g1');
      // the member sees the group's mount with its subpath
      const merged = await dp.groups.withGroupSettings((await dp.getUser('sub1'))!);
      assert.deepEqual(merged.virtual_folders?.find((v) => v.virtual_path === '/gteam')?.subpath, '/docs/g1');

      await dp.updateUser('sub1', userInput('sub1', { groups: [{ name: 'g1', type: 2 }],
        virtual_folders: [{ name: 'team', virtual_path: '/t', subpath: '/c' }, { name: 'whole', virtual_path: '/w', subpath: '/x' }] }));
      assert.deepEqual(await mounts(), [['team', '/c'], ['whole', '/x']]);
      const dump = await dp.dump();
      await dp.updateUser('sub1', userInput('sub1', { groups: [{ name: 'g1', type: 2 }], virtual_folders: [{ name: 'team', virtual_path: '/t' }] }));
      assert.deepEqual(await mounts(), [['team', undefined]]);
      await dp.groups.updateGroup('g1', { name: 'g1', virtual_folders: [{ name: 'team', virtual_path: '/gteam' }] });
      assert.equal((await dp.groups.getGroup('g1'))?.virtual_folders?.[0]?.subpath, undefined);

      const dst = await backend.open(tempDir(t));
      t.after(() => dst.close());
      await dst.restore(JSON.parse(JSON.stringify(dump)), 0);
      assert.deepEqual((await dst.getUser('sub1'))?.virtual_folders?.map((v) => [v.name, v.subpath]), [['team', '/c'], ['whole', '/x']]);
      assert.equal((await dst.groups.getGroup('g1'))?.virtual_folders?.[0]?.subpath, '/docs/g1');
      assert.deepEqual(withoutIds(await dst.dump()), withoutIds(dump));
    });

    test('transaction rolls back every write when the body throws', async (t) => {
      const dp = await backend.open(tempDir(t));
      t.after(() => dp.close());
      await dp.addUser(userInput('erin'));
      await assert.rejects(dp.backend.transaction(async () => {
        await dp.backend.updateUserQuota('erin', 99, 9, false);
        await dp.backend.addFolder({ name: 'txfolder', mapped_path: '/srv/tx' });
        throw new Error('boom');
      }), /boom/);
      assert.equal((await dp.getUser('erin'))?.used_quota_size, 0);
      assert.equal(await dp.getFolder('txfolder'), undefined);
      // writes queued while a transaction runs land after it, not inside it
      let release!: () => void;
      const gate = new Promise<void>((r) => { release = r; });
      const tx = dp.backend.transaction(async () => {
        await dp.backend.updateUserQuota('erin', 1, 1, false);
        await gate;
        throw new Error('rollback');
      });
      const outside = dp.backend.updateUserQuota('erin', 10, 0, false);
      release();
      await assert.rejects(tx, /rollback/);
      await outside;
      assert.equal((await dp.getUser('erin'))?.used_quota_size, 10);
    });

    test('restore is all or nothing', async (t) => {
      const dp = await backend.open(tempDir(t));
      t.after(() => dp.close());
      const bad = {
        version: 17,
        folders: [{ name: 'okfolder', mapped_path: '/srv/ok' }],
        users: [userInput('good1'), userInput('bad1', { permissions: { '/': ['fly'] } })],
      };
      await assert.rejects(dp.restore(bad, 0), (e) => isValidationError(e) && /bad1/.test((e as Error).message));
      assert.equal((await dp.listUsers()).length, 0);
      assert.equal((await dp.listFolders()).length, 0);
    });

    test('dump -> restore round trip reproduces the same state, hashes included', async (t) => {
      const dir = tempDir(t);
      const src = await backend.open(dir);
      t.after(() => src.close());
      await src.addFolder({ name: 'zfolder', mapped_path: '/srv/z' });
      await src.addFolder({ name: 'afolder', mapped_path: '/srv/a' });
      await src.addUser(userInput('u2', { public_keys: [], filters: { denied_protocols: ['FTP'], allowed_ip: ['10.0.0.0/8'] },
        virtual_folders: [{ name: 'zfolder', virtual_path: '/z' }, { name: 'afolder', virtual_path: '/a', quota_size: 10, quota_files: 1 }] }));
      await src.addUser(userInput('u1', { password: '$1$abcdefgh$G//4keteveJp0qb8z2DxG/', expiration_date: 1700000000000 }));
      await src.updateUserQuota('u2', 1234, 5);
      await src.updateFolderQuota('afolder', 77, 7);
      await src.addAdmin({ username: 'adm', password: 'adminpw', status: 1, permissions: ['add_users', 'view_users'],
        filters: { allow_list: ['127.0.0.1/32'], allow_api_key_auth: true } });
      await src.addApiKey({ name: 'k1', scope: 1, admin: 'adm' });
      const first = await src.dump();
      assert.equal(first.version, 17);
      assert.equal(first.users?.[0]?.username, 'u1');
      assert.equal(first.users?.[0]?.password, '$1$abcdefgh$G//4keteveJp0qb8z2DxG/');

      const dst = await backend.open(tempDir(t));
      t.after(() => dst.close());
      const r = await dst.restore(JSON.parse(JSON.stringify(first)), 0);
      assert.deepEqual(r.users.sort(), ['u1', 'u2']);
      const second = await dst.dump();
      assert.deepEqual(withoutIds(second), withoutIds(first));
      // restoring again (add+update) is stable too
      await dst.restore(JSON.parse(JSON.stringify(first)), 2);
      assert.deepEqual(withoutIds(await dst.dump()), withoutIds(first));
      // the restored hash still verifies
      await dst.checkUserAndPass('u2', 'secret', { ip: '10.1.1.1', protocol: 'SSH' });
    });

    test('restore mode 1 only adds, mode 0 updates', async (t) => {
      const dp = await backend.open(tempDir(t));
      t.after(() => dp.close());
      await dp.addUser(userInput('m1', { description: 'orig' }));
      await dp.restore({ version: 17, users: [userInput('m1', { description: 'changed' }), userInput('m2')] }, 1);
      assert.equal((await dp.getUser('m1'))?.description, 'orig');
      assert.ok(await dp.getUser('m2'));
      await dp.restore({ version: 17, users: [userInput('m1', { description: 'changed' })] }, 0);
      assert.equal((await dp.getUser('m1'))?.description, 'changed');
    });

    test('api keys: secret returned once, stored hashed, checked', async (t) => {
      const dp = await backend.open(tempDir(t));
      t.after(() => dp.close());
      await dp.addUser(userInput('keyuser', { filters: { allow_api_key_auth: true } }));
      const { apiKey, key } = await dp.addApiKey({ name: 'mine', scope: 2, user: 'keyuser' });
      assert.equal(apiKey.key, undefined);
      const stored = await dp.backend.getApiKey(apiKey.key_id);
      assert.ok(stored?.key && !key.includes(stored.key));
      const ok = await dp.checkApiKey(key);
      assert.equal(ok.user?.username, 'keyuser');
      await assert.rejects(dp.checkApiKey(`${apiKey.key_id}.wrong`), (e) => isFsError(e, 'PermissionDenied'));
      await assert.rejects(dp.checkApiKey('garbage'), (e) => isFsError(e, 'PermissionDenied'));
      assert.ok(((await dp.getApiKey(apiKey.key_id))?.last_use_at ?? 0) > 0);
      await dp.deleteUser('keyuser');
      assert.equal(await dp.getApiKey(apiKey.key_id), undefined, 'keys go with their user');
    });
  });
}
