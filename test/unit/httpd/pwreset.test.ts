/** Password reset codes: valid for ten minutes (injected clock), for their own kind of account, used once. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RESET_CODE_TTL_MS, ResetCodes } from '../../../src/httpd/pwreset';
import { MemorySharedSessionStore, SharedSessionType } from '../../../src/dataprovider/shared-sessions';

test('a code lives RESET_CODE_TTL_MS, for its kind only, taken once, given back when unused', async () => {
  let now = 1_000_000;
  const store = new MemorySharedSessionStore();
  const codes = new ResetCodes(store, () => now);
  const code = await codes.add('alice', 'user');
  assert.match(code, /^[A-Za-z0-9_-]{20}$/);
  assert.equal(await codes.take(code, 'admin'), undefined, 'a user code is not an admin code');
  now += RESET_CODE_TTL_MS - 1;
  const grant = await codes.take(code, 'user');
  assert.equal(grant?.username, 'alice', 'still valid just before the end, and the admin attempt did not burn it');
  assert.equal(await codes.take(code, 'user'), undefined, 'used once');
  await codes.giveBack(code, { username: 'alice', kind: 'user', expiresAt: 1_000_000 + RESET_CODE_TTL_MS });
  now += 1;
  assert.equal(await codes.take(code, 'user'), undefined, 'given back with its original expiry: expired now');
  const second = await codes.add('alice', 'user');
  assert.notEqual(second, code);
  assert.equal(await store.countSessions(SharedSessionType.resetCode), 1, 'the expired code was cleaned on add');
  await codes.discard(second);
  assert.equal(await codes.take(second, 'user'), undefined, 'discarded');
});
