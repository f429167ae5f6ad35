/**
 * The per-user login rules with a fixed clock: access_time windows (UTC and
 * the server's local time zone, bounds included), password expiration, the
 * anonymous settings, second-factor requirements and SSH multi-step
 * detection, each compared with SFTPGo's semantics.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAccessTimeAllowed, mustChangePassword, withAnonymousSettings } from '../../../src/dataprovider/auth';
import type { User } from '../../../src/dataprovider/models';
import { isPartialAuth, mustSetSecondFactor, nextAuthMethods, userTotp } from '../../../src/dataprovider/user-auth';

const base = (filters: User['filters'] = {}, extra: Partial<User> = {}): User =>
  ({ username: 'u', status: 1, home_dir: '/tmp/u', permissions: { '/': ['*'], '/sub': ['upload'] }, filters, ...extra }) as User;

// Wednesday 2026-12-02 10:30:00 UTC
const WED_1030 = Date.UTC(2026, 11, 2, 10, 30, 0);

test('access_time: weekday and HH:MM window, bounds included, UTC unless tz is "local"', () => {
  const u = base({ access_time: [{ day_of_week: 3, from: '10:30', to: '11:00' }] });
  assert.equal(isAccessTimeAllowed(u, WED_1030), true);
  assert.equal(isAccessTimeAllowed(u, WED_1030 + 30 * 60_000), true, 'upper bound included');
  assert.equal(isAccessTimeAllowed(u, WED_1030 + 31 * 60_000), false);
  assert.equal(isAccessTimeAllowed(u, WED_1030 - 60_000), false);
  assert.equal(isAccessTimeAllowed(u, WED_1030 + 7 * 24 * 3600_000), true, 'same weekday next week');
  assert.equal(isAccessTimeAllowed(u, WED_1030 + 24 * 3600_000), false, 'Thursday');
  assert.equal(isAccessTimeAllowed(base(), WED_1030), true, 'no windows: always');
  const d = new Date(WED_1030);
  const hhmm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  const local = base({ access_time: [{ day_of_week: d.getDay(), from: hhmm, to: hhmm }] });
  assert.equal(isAccessTimeAllowed(local, WED_1030, 'local'), true);
});

test('password expiration and require_password_change', () => {
  const day = 24 * 3600_000;
  assert.equal(mustChangePassword(base({ require_password_change: true }), WED_1030), true);
  assert.equal(mustChangePassword(base({ password_expiration: 5 }, { last_password_change: WED_1030 - 6 * day }), WED_1030), true);
  assert.equal(mustChangePassword(base({ password_expiration: 5 }, { last_password_change: WED_1030 - 4 * day }), WED_1030), false);
  assert.equal(mustChangePassword(base({ password_expiration: 0 }), WED_1030), false);
});

test('anonymous settings: list+download everywhere, SSH and HTTP denied, password only', () => {
  const orig = base({ is_anonymous: true, denied_protocols: ['DAV'] });
  const u = withAnonymousSettings(orig);
  assert.deepEqual(u.permissions, { '/': ['list', 'download'], '/sub': ['list', 'download'] });
  assert.deepEqual([...(u.filters?.denied_protocols ?? [])].sort(), ['DAV', 'HTTP', 'SSH']);
  assert.ok(!u.filters?.denied_login_methods?.includes('password'));
  assert.ok(u.filters?.denied_login_methods?.includes('publickey'));
  assert.deepEqual(orig.permissions['/'], ['*'], 'the stored user is not modified');
});

test('TOTP settings: enabled only, malformed stays enabled (fails closed), must-set per protocol', () => {
  assert.equal(userTotp(base({ totp_config: { enabled: false, config_name: 'Default', secret: { status: 'Plain', payload: 'x' }, protocols: ['SSH'] } })), undefined);
  const broken = userTotp(base({ totp_config: { enabled: true } }));
  assert.deepEqual(broken, { configName: '', secret: { status: '' }, protocols: [] });
  const ssh = base({ two_factor_protocols: ['SSH', 'FTP'], totp_config: { enabled: true, config_name: 'Default', secret: { status: 'Plain', payload: 'x' }, protocols: ['SSH'] } });
  assert.equal(mustSetSecondFactor(ssh, 'SSH'), false);
  assert.equal(mustSetSecondFactor(ssh, 'FTP'), true);
  assert.equal(mustSetSecondFactor(ssh, 'DAV'), false);
});

test('SSH multi-step: partial only when every allowed method needs a key first', () => {
  const all = ['publickey', 'password', 'keyboard-interactive'] as const;
  assert.equal(isPartialAuth(base()), false);
  const keyPw = base({ denied_login_methods: [...all, 'publickey+keyboard-interactive'] });
  assert.equal(isPartialAuth(keyPw), true);
  assert.deepEqual(nextAuthMethods(keyPw), ['password']);
  const both = base({ denied_login_methods: [...all] });
  assert.deepEqual(nextAuthMethods(both), ['password', 'keyboard-interactive']);
  // password denied only over SSH still counts as denied for SSH
  const overSsh = base({ denied_login_methods: ['publickey', 'password-over-SSH', 'keyboard-interactive'] });
  assert.equal(isPartialAuth(overSsh), true);
  assert.equal(isPartialAuth(base({ denied_login_methods: ['password', 'keyboard-interactive'] })), false, 'publickey alone allowed');
});
