/**
 * The shared web state rows (SFTPGo's shared_sessions table) on every
 * backend: a row read back until it expires, the same key under two types
 * kept apart, single use when several nodes take one row at once, a row
 * refused by the taker left in place, expired rows cleaned per type.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SharedSessionType, takeSharedSession } from '../../../src/dataprovider/shared-sessions';
import { BACKENDS, tempDir } from './support';

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const TTL = 10 * 60_000;

for (const backend of BACKENDS) {
  describe(`data provider conformance: ${backend.name} shared sessions`, () => {
    test('rows expire, types are apart, a take succeeds once however many race', async (t) => {
      const dp = await backend.open(tempDir(t));
      t.after(() => dp.close());
      const store = dp.backend.sharedSessions;
      const code = { key: 'c0de', type: SharedSessionType.resetCode, data: '{"username":"alice","kind":"user"}', expiresAt: T0 + TTL };
      await store.putSession(code);
      await store.putSession({ ...code, type: SharedSessionType.oidcAuth, data: '{"nonce":"n"}' });
      assert.deepEqual(await store.getSession('c0de', SharedSessionType.resetCode, T0), code);
      assert.equal(await store.getSession('c0de', SharedSessionType.resetCode, T0 + TTL), undefined, 'dead at its expiry');
      assert.equal(await store.getSession('other', SharedSessionType.resetCode, T0), undefined);
      assert.equal(await store.countSessions(SharedSessionType.resetCode), 1);
      // a taker that refuses the row (another account kind) leaves it usable
      assert.equal(await takeSharedSession(store, 'c0de', SharedSessionType.resetCode, T0, () => false), undefined);
      const taken = await Promise.all([1, 2, 3, 4, 5].map(() => takeSharedSession(store, 'c0de', SharedSessionType.resetCode, T0 + 1)));
      assert.deepEqual(taken.filter((s) => s !== undefined), [code], 'exactly one of five racing takes wins');
      assert.equal(await takeSharedSession(store, 'c0de', SharedSessionType.resetCode, T0 + 2), undefined, 'used once');
      assert.equal((await store.getSession('c0de', SharedSessionType.oidcAuth, T0))?.data, '{"nonce":"n"}', 'the other type is untouched');
      assert.equal(await store.deleteSession('c0de', SharedSessionType.resetCode), false);
    });

    test('expired rows of a type are cleaned, live ones and other types kept', async (t) => {
      const dp = await backend.open(tempDir(t));
      t.after(() => dp.close());
      const store = dp.backend.sharedSessions;
      await store.putSession({ key: 'old', type: SharedSessionType.resetCode, data: '{}', expiresAt: T0 });
      await store.putSession({ key: 'new', type: SharedSessionType.resetCode, data: '{}', expiresAt: T0 + TTL });
      await store.putSession({ key: 'old', type: SharedSessionType.oidcToken, data: '{}', expiresAt: T0 });
      await store.deleteExpiredSessions(SharedSessionType.resetCode, T0);
      assert.equal(await store.countSessions(SharedSessionType.resetCode), 1);
      assert.equal(await store.countSessions(SharedSessionType.oidcToken), 1);
      assert.ok(await store.getSession('new', SharedSessionType.resetCode, T0));
      // a put replaces the row under the same key and type
      await store.putSession({ key: 'new', type: SharedSessionType.resetCode, data: '{"v":2}', expiresAt: T0 + 2 * TTL });
      assert.equal((await store.getSession('new', SharedSessionType.resetCode, T0 + TTL))?.data, '{"v":2}');
    });
  });
}
