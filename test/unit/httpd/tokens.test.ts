import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenManager } from '../../../src/httpd/tokens';
import type { Admin } from '../../../src/dataprovider/models';

const admin: Admin = { status: 1, username: 'admin', permissions: ['*'] };

test('token round trip, IP binding, revocation, expiry', async () => {
  let now = Date.UTC(2026, 0, 1, 10, 0, 0);
  const tm = new TokenManager({ passphrase: 'secret', lifetimeMinutes: 20, skipIpBinding: false, now: () => now });
  const t = await tm.issue(admin, '127.0.0.1');
  assert.equal(t.expires_at, '2026-01-01T10:20:00Z');
  const claims = await tm.verify(t.access_token, '127.0.0.1');
  assert.equal(claims.username, 'admin');
  assert.deepEqual(claims.permissions, ['*']);
  await assert.rejects(tm.verify(t.access_token, '10.0.0.1'), /IP/);
  // another key (random per start) rejects the token
  const other = new TokenManager({ passphrase: '', lifetimeMinutes: 20, skipIpBinding: false, now: () => now });
  await assert.rejects(other.verify(t.access_token, '127.0.0.1'));
  tm.revoke(claims.jti, claims.exp);
  await assert.rejects(tm.verify(t.access_token, '127.0.0.1'), /invalidated/);
  const t2 = await tm.issue(admin, '127.0.0.1');
  now += 21 * 60 * 1000;
  await assert.rejects(tm.verify(t2.access_token, '127.0.0.1'), /exp/);
});

test('token_validation bit 1 disables IP binding', async () => {
  const tm = new TokenManager({ passphrase: 'x', lifetimeMinutes: 5, skipIpBinding: true });
  const t = await tm.issue(admin, '127.0.0.1');
  assert.equal((await tm.verify(t.access_token, '192.168.1.1')).username, 'admin');
  await assert.rejects(tm.verify(`${t.access_token}x`, '127.0.0.1'));
  await assert.rejects(tm.verify('garbage', '127.0.0.1'));
});
