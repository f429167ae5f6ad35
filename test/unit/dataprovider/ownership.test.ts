import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { validateUser } from '../../../src/dataprovider/validation-user';
import { isValidationError } from '../../../src/dataprovider/validation';

const base = { username: 'u', password: 'pw', status: 1, home_dir: '/srv/u', permissions: { '/': ['*'] } };

test('uid/gid: root may map to any account, another account only to itself (or 0 = unset)', () => {
  const asRoot = { namingRules: 1, usersBaseDir: '', runningAs: { uid: 0, gid: 0 } };
  assert.deepEqual([validateUser({ ...base, uid: 1234, gid: 99 }, asRoot).uid, validateUser({ ...base, uid: 1234, gid: 99 }, asRoot).gid], [1234, 99]);
  const asService = { namingRules: 1, usersBaseDir: '', runningAs: { uid: 1000, gid: 1000 } };
  assert.equal(validateUser({ ...base, uid: 1000, gid: 1000 }, asService).uid, 1000);
  assert.equal(validateUser({ ...base }, asService).uid, 0);
  for (const [extra, field] of [[{ uid: 1001 }, 'uid 1001'], [{ uid: 1000, gid: 5 }, 'gid 5']] as const) {
    assert.throws(() => validateUser({ ...base, ...extra }, asService), (e: unknown) => {
      assert.ok(isValidationError(e));
      assert.match((e as Error).message, new RegExp(`^${field} cannot be honoured: the server runs as`));
      return true;
    });
  }
});
