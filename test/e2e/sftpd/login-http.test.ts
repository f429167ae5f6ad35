/**
 * loginHttpUser, the entry the HTTP layer calls for user logins: the same
 * sequence as SSH/FTP/WebDAV, with the TOTP code beside the password
 * (X-SFTPGO-OTP) for users with TOTP on HTTP, replays refused, and the two
 * rules SFTPGo relaxes over HTTP (a password to change, a second factor to set
 * up) letting the user in so it can fix them. No connection is registered.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loginHttpUser } from '../../../src/common/login';
import { generateTotpSecret, totpCode } from '../../../src/mfa/totp';
import { startSftpServer, type TestSftpServer } from '../../support/server';

describe('loginHttpUser', () => {
  let srv: TestSftpServer;
  let secret: string;
  const login = (username: string, password: string, passcode?: string) =>
    loginHttpUser(srv.ctx, { username, password, ip: '127.0.0.1', encrypted: false, ...(passcode !== undefined ? { passcode } : {}) });

  before(async () => {
    srv = await startSftpServer();
    secret = generateTotpSecret();
    const sealed = await srv.ctx.kms.encrypt(secret, 'totp');
    await srv.createUser({ username: 'web', password: 'web-pw' });
    await srv.createUser({
      username: 'web2fa', password: 'web-pw',
      filters: { totp_config: { enabled: true, config_name: 'Default', secret: sealed, protocols: ['HTTP'] } },
    });
    await srv.createUser({ username: 'change', password: 'web-pw', filters: { require_password_change: true, two_factor_protocols: ['HTTP'] } });
    await srv.createUser({ username: 'nohttp', password: 'web-pw', filters: { denied_protocols: ['HTTP'] } });
  });
  after(async () => { await srv?.stop(); });

  test('password users log in; wrong password and denied protocol are refused', async () => {
    const ok = await login('web', 'web-pw');
    assert.equal(ok.ok, true);
    assert.equal(ok.ok && ok.ops, undefined, 'no connection registered for HTTP');
    const bad = await login('web', 'nope');
    assert.deepEqual(bad.ok ? 'ok' : bad.kind, 'valid_user');
    const denied = await login('nohttp', 'web-pw');
    assert.equal(denied.ok, false);
  });

  test('TOTP on HTTP: the code is required, checked and never accepted twice', async () => {
    assert.equal((await login('web2fa', 'web-pw')).ok, false, 'no code');
    assert.equal((await login('web2fa', 'web-pw', '000000')).ok, false, 'wrong code');
    const code = totpCode(secret, 'sha1', Date.now());
    assert.equal((await login('web2fa', 'web-pw', code)).ok, true);
    const replay = await login('web2fa', 'web-pw', code);
    assert.equal(replay.ok, false);
    assert.match(replay.ok ? '' : replay.message, /already used/);
    assert.equal((await login('web2fa', 'wrong', totpCode(secret, 'sha1', Date.now() + 30_000))).ok, false, 'right code, wrong password');
  });

  test('a password to change or a second factor to set up does not block HTTP (SFTPGo lets the user fix them)', async () => {
    assert.equal((await login('change', 'web-pw')).ok, true);
  });
});
