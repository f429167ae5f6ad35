/**
 * User 2FA over real HTTP: GET /api/v2/user/token (basic auth, X-SFTPGO-OTP
 * when TOTP covers HTTP), enrolment with a user token, two_factor_protocols,
 * recovery codes, token audiences kept apart, and an admin resetting it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startMfaServer, type MfaServer } from './mfa-support';

let s: MfaServer;
let root: string;

async function addUser(username: string, filters: Record<string, unknown> = {}): Promise<void> {
  const r = await s.call('POST', '/api/v2/users', { token: root, body: {
    username, password: `pw-${username}`, status: 1, home_dir: `${s.dir}/${username}`, permissions: { '/': ['*'] }, filters,
  } });
  assert.equal(r.status, 201, r.text);
}

async function userToken(username: string, otp?: string): Promise<{ status: number; token: string }> {
  const r = await s.call('GET', '/api/v2/user/token', { basic: [username, `pw-${username}`], headers: otp ? { 'x-sftpgo-otp': otp } : {} });
  return { status: r.status, token: (r.json as { access_token?: string } | undefined)?.access_token ?? '' };
}

before(async () => {
  s = await startMfaServer();
  root = await s.token();
});
after(async () => { await s.close(); });

test('user token: basic auth, wrong password and unknown user refused; a TOTP config in the create body is ignored', async () => {
  await addUser('u1', { totp_config: { enabled: true, config_name: 'Default', protocols: ['HTTP'], secret: { status: 'Plain', payload: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' } } });
  const stored = await s.ctx.provider.getUser('u1');
  assert.equal(stored?.filters?.totp_config, undefined, 'users start without 2FA, as in SFTPGo');
  assert.equal((await userToken('u1')).status, 200);
  assert.equal((await s.call('GET', '/api/v2/user/token', { basic: ['u1', 'wrong'] })).status, 401);
  assert.equal((await s.call('GET', '/api/v2/user/token', { basic: ['ghost', 'x'] })).status, 401);
  assert.equal((await s.call('GET', '/api/v2/user/token')).status, 401);
  // a user denied HTTP gets no token
  await addUser('nohttp', { denied_protocols: ['HTTP'] });
  assert.equal((await userToken('nohttp')).status, 401);
});

test('tokens are not interchangeable: admin tokens on user routes and user tokens on admin routes are refused', async () => {
  const { token } = await userToken('u1');
  assert.equal((await s.call('GET', '/api/v2/user/totp/configs', { token })).status, 200);
  assert.equal((await s.call('GET', '/api/v2/user/totp/configs', { token: root })).status, 401);
  assert.equal((await s.call('GET', '/api/v2/users', { token })).status, 401);
  assert.equal((await s.call('GET', '/api/v2/admin/totp/configs', { token })).status, 401);
});

test('enrolled for HTTP: the user token needs the passcode, replays are refused, recovery codes work', async () => {
  const { token } = await userToken('u1');
  const secret = await s.enrol('/api/v2/user', token, { protocols: ['HTTP', 'SSH'] });
  const stored = await s.ctx.provider.getUser('u1');
  assert.equal(stored?.filters?.totp_config?.secret?.status, 'Secretbox');
  assert.equal(stored?.filters?.totp_config?.secret?.additional_data, 'u1');
  assert.deepEqual(stored?.filters?.totp_config?.protocols, ['HTTP', 'SSH']);

  assert.equal((await userToken('u1')).status, 401);
  assert.equal((await userToken('u1', '123')).status, 401);
  s.step();
  const code = s.code(secret);
  assert.equal((await userToken('u1', code)).status, 200);
  assert.equal((await userToken('u1', code)).status, 401, 'replayed passcode');
  const t2 = await s.tokenWithOtp('/api/v2/user/token', 'u1', 'pw-u1', secret);
  const codes = await s.call('GET', '/api/v2/user/2fa/recoverycodes', { token: t2 });
  assert.equal(codes.status, 200);
  assert.equal((codes.json as unknown[]).length, 12);
  // the admin view shows the configuration, never the secret
  const view = await s.call('GET', '/api/v2/users/u1', { token: root });
  assert.ok(!view.text.includes(secret) && !view.text.includes('payload'), view.text);
  const f = (view.json as { filters: { totp_config: unknown } }).filters;
  assert.deepEqual(f.totp_config, { enabled: true, config_name: 'Default', secret: { status: 'Secretbox' }, protocols: ['HTTP', 'SSH'] });
  // an update from the admin keeps the user's 2FA
  const upd = await s.call('PUT', '/api/v2/users/u1', { token: root, body: { username: 'u1', status: 1, home_dir: `${s.dir}/u1`, permissions: { '/': ['*'] }, filters: {} } });
  assert.equal(upd.status, 200, upd.text);
  assert.equal((await userToken('u1')).status, 401);
});

test('TOTP only for SSH: the HTTP token needs no passcode', async () => {
  await addUser('sshonly');
  const { token } = await userToken('sshonly');
  await s.enrol('/api/v2/user', token, { protocols: ['SSH'] });
  assert.equal((await userToken('sshonly')).status, 200);
});

test('two_factor_protocols: the requirement is enforced on save and reported by the token', async () => {
  await addUser('must2fa', { two_factor_protocols: ['HTTP', 'FTP'] });
  const { status, token } = await userToken('must2fa');
  assert.equal(status, 200);
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
  assert.equal(claims['2fa_required'], true);
  assert.deepEqual(claims['2fa_protos'], ['HTTP', 'FTP']);
  assert.ok((claims.aud as string[]).includes('APIUser'));
  const off = await s.call('POST', '/api/v2/user/totp/save', { token, body: { enabled: false } });
  assert.equal(off.status, 400);
  const g = await s.call('POST', '/api/v2/user/totp/generate', { token, body: { config_name: 'Default' } });
  const secret = (g.json as { secret: string }).secret;
  const partial = await s.call('POST', '/api/v2/user/totp/save', { token, body: { enabled: true, config_name: 'Default', protocols: ['HTTP'], secret: { status: 'Plain', payload: secret } } });
  assert.equal(partial.status, 400);
  assert.match((partial.json as { message: string }).message, /HTTP, FTP/);
  const ok = await s.call('POST', '/api/v2/user/totp/save', { token, body: { enabled: true, config_name: 'Default', protocols: ['HTTP', 'FTP'], secret: { status: 'Plain', payload: secret } } });
  assert.equal(ok.status, 200, ok.text);
  const t2 = await s.tokenWithOtp('/api/v2/user/token', 'must2fa', 'pw-must2fa', secret);
  const claims2 = JSON.parse(Buffer.from(t2.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
  assert.equal(claims2['2fa_required'], undefined);
});

test('web_client mfa-disabled forbids the user 2FA endpoints', async () => {
  await addUser('nomfa', { web_client: ['mfa-disabled'] });
  const { token } = await userToken('nomfa');
  assert.equal((await s.call('GET', '/api/v2/user/totp/configs', { token })).status, 403);
  assert.equal((await s.call('POST', '/api/v2/user/totp/generate', { token, body: { config_name: 'Default' } })).status, 403);
});

test('an admin with disable_mfa resets a user 2FA; without it the reset is refused', async () => {
  const limited = await s.call('POST', '/api/v2/admins', { token: root, body: { username: 'viewer', password: 'pw-viewer', status: 1, permissions: ['view_users'] } });
  assert.equal(limited.status, 201);
  const viewer = await s.token('viewer', 'pw-viewer');
  assert.equal((await s.call('PUT', '/api/v2/users/u1/2fa/disable', { token: viewer })).status, 403);
  const r = await s.call('PUT', '/api/v2/users/u1/2fa/disable', { token: root });
  assert.equal(r.status, 200, r.text);
  assert.equal((await userToken('u1')).status, 200);
  assert.equal((await s.call('PUT', '/api/v2/users/u1/2fa/disable', { token: root })).status, 400);
  assert.equal((await s.call('PUT', '/api/v2/users/ghost/2fa/disable', { token: root })).status, 404);
  const stored = await s.ctx.provider.getUser('u1');
  assert.equal(stored?.filters?.recovery_codes, undefined);
});

test('user logout invalidates the user token', async () => {
  const { token } = await userToken('sshonly');
  assert.equal((await s.call('GET', '/api/v2/user/logout', { token })).status, 200);
  assert.equal((await s.call('GET', '/api/v2/user/totp/configs', { token })).status, 401);
});
