/**
 * Admin 2FA over real HTTP: enrolment (configs, generate with QR code,
 * validate, save), GET /api/v2/token with no, wrong, replayed and fresh
 * X-SFTPGO-OTP, recovery codes, require_two_factor (only the 2FA setup is
 * reachable), the 2FA reset of another admin, and secrets never in API output.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startMfaServer, type MfaServer } from './mfa-support';

let s: MfaServer;
const secretsSeen: string[] = [];

before(async () => { s = await startMfaServer(); });
after(async () => { await s.close(); });

test('configs and generate: SFTPGo shapes, QR code as a base64 PNG, unknown config refused', async () => {
  const token = await s.token();
  const c = await s.call('GET', '/api/v2/admin/totp/configs', { token });
  assert.equal(c.status, 200);
  assert.deepEqual(c.json, [{ name: 'Default', issuer: 'SFTPGo', algo: 'sha1' }, { name: 'Strong', issuer: 'SFTPGo-256', algo: 'sha256' }]);
  const g = await s.call('POST', '/api/v2/admin/totp/generate', { token, body: { config_name: 'Strong' } });
  assert.equal(g.status, 200, g.text);
  const body = g.json as { config_name: string; issuer: string; secret: string; url: string; qr_code: string };
  assert.equal(body.config_name, 'Strong');
  assert.equal(body.issuer, 'SFTPGo-256');
  assert.match(body.secret, /^[A-Z2-7]{32}$/);
  assert.ok(body.url.startsWith('otpauth://totp/SFTPGo-256:Admin%20%22admin%22?'), body.url);
  assert.ok(body.url.includes(`secret=${body.secret}`) && body.url.includes('algorithm=SHA256'));
  const png = Buffer.from(body.qr_code, 'base64');
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  // a SHA256 code validates against the Strong config, and a wrong one does not
  s.step();
  const ok = await s.call('POST', '/api/v2/admin/totp/validate', { token, body: { config_name: 'Strong', passcode: s.code(body.secret, 'sha256'), secret: body.secret } });
  assert.equal(ok.status, 200, ok.text);
  const bad = await s.call('POST', '/api/v2/admin/totp/validate', { token, body: { config_name: 'Strong', passcode: '000000', secret: body.secret } });
  assert.equal(bad.status, 400);
  const unknown = await s.call('POST', '/api/v2/admin/totp/generate', { token, body: { config_name: 'Nope' } });
  assert.equal(unknown.status, 400);
  // no recovery codes without 2FA
  assert.equal((await s.call('GET', '/api/v2/admin/2fa/recoverycodes', { token })).status, 403);
  // API keys cannot manage 2FA
  assert.equal((await s.call('GET', '/api/v2/admin/totp/configs', { apiKey: 'x.y' })).status, 403);
});

test('enrolled admin: the token needs X-SFTPGO-OTP; missing, wrong and replayed codes are refused', async () => {
  const added = await s.call('POST', '/api/v2/admins', { token: await s.token(), body: { username: 'otpadmin', password: 'pw-otp-1', status: 1, permissions: ['*'] } });
  assert.equal(added.status, 201, added.text);
  const secret = await s.enrol('/api/v2/admin', await s.token('otpadmin', 'pw-otp-1'));
  secretsSeen.push(secret);

  const noOtp = await s.call('GET', '/api/v2/token', { basic: ['otpadmin', 'pw-otp-1'] });
  assert.equal(noOtp.status, 401);
  assert.match(noOtp.headers.get('www-authenticate') ?? '', /Basic/);
  s.step();
  const current = s.code(secret);
  const wrong = String((Number(current) + 1) % 1_000_000).padStart(6, '0');
  assert.equal((await s.call('GET', '/api/v2/token', { basic: ['otpadmin', 'pw-otp-1'], headers: { 'x-sftpgo-otp': wrong } })).status, 401);
  // a good code with a wrong password is still refused
  assert.equal((await s.call('GET', '/api/v2/token', { basic: ['otpadmin', 'nope'], headers: { 'x-sftpgo-otp': current } })).status, 401);
  const first = await s.call('GET', '/api/v2/token', { basic: ['otpadmin', 'pw-otp-1'], headers: { 'x-sftpgo-otp': current } });
  assert.equal(first.status, 200, first.text);
  const replay = await s.call('GET', '/api/v2/token', { basic: ['otpadmin', 'pw-otp-1'], headers: { 'x-sftpgo-otp': current } });
  assert.equal(replay.status, 401, 'a passcode is accepted once');
  const token = await s.tokenWithOtp('/api/v2/token', 'otpadmin', 'pw-otp-1', secret);
  assert.equal((await s.call('GET', '/api/v2/users', { token })).status, 200);
  const failures = s.logs.filter((l) => l.sender === 'connection_failed' && l.fields?.username === 'otpadmin');
  assert.ok(failures.some((l) => /replayed|already used/.test(String(l.fields?.error))), 'the replay is logged for fail2ban');
});

test('recovery codes: 12 codes, regenerated on demand, stored encrypted', async () => {
  const secret = secretsSeen[0];
  const token = await s.tokenWithOtp('/api/v2/token', 'otpadmin', 'pw-otp-1', secret);
  const r = await s.call('GET', '/api/v2/admin/2fa/recoverycodes', { token });
  assert.equal(r.status, 200);
  const codes = r.json as { code: string; used: boolean }[];
  assert.equal(codes.length, 12);
  for (const c of codes) {
    assert.match(c.code, /^RC-[0-9A-V]{20}$/);
    assert.equal(c.used, false);
  }
  const gen = await s.call('POST', '/api/v2/admin/2fa/recoverycodes', { token });
  assert.equal(gen.status, 200);
  const fresh = gen.json as string[];
  assert.equal(fresh.length, 12);
  assert.ok(fresh.every((c) => !codes.some((o) => o.code === c)));
  const again = (await s.call('GET', '/api/v2/admin/2fa/recoverycodes', { token })).json as { code: string }[];
  assert.deepEqual(again.map((c) => c.code), fresh);
  secretsSeen.push(...fresh);
  const stored = await s.ctx.provider.getAdmin('otpadmin');
  for (const c of stored?.filters?.recovery_codes ?? []) {
    assert.equal(c.secret.status, 'Secretbox');
    assert.equal(c.secret.additional_data, 'otpadmin');
  }
  assert.equal(stored?.filters?.totp_config?.secret?.status, 'Secretbox');
  assert.equal(stored?.filters?.totp_config?.secret?.additional_data, 'otpadmin');
});

test('require_two_factor: only the 2FA setup is reachable until TOTP is enabled', async () => {
  const root = await s.token();
  const add = await s.call('POST', '/api/v2/admins', { token: root, body: { username: 'strict', password: 'pw-strict', status: 1, permissions: ['*'], filters: { require_two_factor: true } } });
  assert.equal(add.status, 201, add.text);
  const token = await s.token('strict', 'pw-strict');
  const users = await s.call('GET', '/api/v2/users', { token });
  assert.equal(users.status, 403);
  assert.match((users.json as { message: string }).message, /Two-factor authentication requirements not met/);
  assert.equal((await s.call('GET', '/api/v2/admins', { token })).status, 403);
  assert.equal((await s.call('PUT', '/api/v2/admin/profile', { token, body: { email: 'a@b.c' } })).status, 403);
  assert.equal((await s.call('GET', '/api/v2/admin/profile', { token })).status, 200);
  assert.equal((await s.call('GET', '/api/v2/admin/totp/configs', { token })).status, 200);
  // saving a disabled configuration is refused for this admin
  const off = await s.call('POST', '/api/v2/admin/totp/save', { token, body: { enabled: false } });
  assert.equal(off.status, 400);
  assert.match((off.json as { message: string }).message, /must be enabled/);
  const secret = await s.enrol('/api/v2/admin', token);
  secretsSeen.push(secret);
  // the same token now reaches everything (the requirement is read from the stored admin)
  assert.equal((await s.call('GET', '/api/v2/users', { token })).status, 200);
  // the admin cannot drop its own 2FA while it is required...
  const selfOff = await s.call('PUT', '/api/v2/admins/strict/2fa/disable', { token });
  assert.equal(selfOff.status, 400);
  // ...another admin can reset it, and the gate closes again
  const reset = await s.call('PUT', '/api/v2/admins/strict/2fa/disable', { token: root });
  assert.equal(reset.status, 200, reset.text);
  assert.equal((await s.call('PUT', '/api/v2/admins/strict/2fa/disable', { token: root })).status, 400, 'already disabled');
  const after2 = await s.token('strict', 'pw-strict');
  assert.equal((await s.call('GET', '/api/v2/users', { token: after2 })).status, 403);
  const stored = await s.ctx.provider.getAdmin('strict');
  assert.equal(stored?.filters?.totp_config, undefined);
  assert.equal(stored?.filters?.recovery_codes, undefined);
});

test('invalid second-factor settings are refused with a 400 naming the field', async () => {
  const root = await s.token();
  const base = { username: 'badtotp', password: 'pw', status: 1, permissions: ['*'] };
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ totp_config: { enabled: true, config_name: 'Nope', secret: { status: 'Plain', payload: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' } } }, /filters\.totp_config\.config_name.*Nope/],
    [{ totp_config: { enabled: true, config_name: 'Default' } }, /filters\.totp_config\.secret.*mandatory/],
    [{ totp_config: { enabled: true, config_name: 'Default', secret: { status: 'Plain', payload: 'not base32!' } } }, /filters\.totp_config\.secret/],
    [{ totp_config: { enabled: true, config_name: 'Default', secret: { status: 'Plain', payload: 'JBSWY3DP' } } }, /filters\.totp_config\.secret.*20 bytes/],
    [{ totp_config: { enabled: true, config_name: 'Default', secret: { status: 'Secretbox', payload: 'AAAA', key: 'zz' } } }, /filters\.totp_config\.secret.*malformed/],
    [{ totp_config: { enabled: true, config_name: 'Default', secret: { status: 'AWS', payload: 'x' } } }, /filters\.totp_config\.secret.*plugin/],
    [{ totp_config: { enabled: true, config_name: 'Default', secret: { status: 'Redacted' } } }, /filters\.totp_config\.secret.*redacted/],
    [{ totp_config: 'yes' }, /filters\.totp_config must be an object/],
    [{ recovery_codes: 'x' }, /filters\.recovery_codes must be an array/],
    [{ recovery_codes: [{ secret: {} }] }, /filters\.recovery_codes\[0\]\.secret/],
  ];
  for (const [filters, re] of cases) {
    const r = await s.call('POST', '/api/v2/admins', { token: root, body: { ...base, filters } });
    assert.equal(r.status, 400, `${JSON.stringify(filters)}: ${r.text}`);
    assert.match((r.json as { message: string }).message, re);
  }
  assert.equal(await s.ctx.provider.getAdmin('badtotp'), undefined, 'nothing stored');
});

test('a TOTP admin given with a Plain secret is stored encrypted; updates keep 2FA', async () => {
  const root = await s.token();
  const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
  const add = await s.call('POST', '/api/v2/admins', { token: root, body: {
    username: 'preset', password: 'pw-preset', status: 1, permissions: ['*'],
    filters: { totp_config: { enabled: true, config_name: 'Default', secret: { status: 'Plain', payload: secret } } },
  } });
  assert.equal(add.status, 201, add.text);
  secretsSeen.push(secret);
  // a client that sends the admin back without the 2FA fields does not disable 2FA
  const upd = await s.call('PUT', '/api/v2/admins/preset', { token: root, body: { username: 'preset', status: 1, permissions: ['*'], filters: {} } });
  assert.equal(upd.status, 200, upd.text);
  assert.equal((await s.call('GET', '/api/v2/token', { basic: ['preset', 'pw-preset'] })).status, 401);
  await s.tokenWithOtp('/api/v2/token', 'preset', 'pw-preset', secret);
});

test('API output never carries a TOTP secret, a recovery code or an encrypted payload', async () => {
  const root = await s.token();
  const list = await s.call('GET', '/api/v2/admins', { token: root });
  const one = await s.call('GET', '/api/v2/admins/otpadmin', { token: root });
  for (const r of [list, one]) {
    assert.equal(r.status, 200);
    assert.ok(!r.text.includes('payload'), r.text);
    assert.ok(!r.text.includes('additional_data'), r.text);
    for (const secret of secretsSeen) assert.ok(!r.text.includes(secret));
  }
  const f = (one.json as { filters: { totp_config: Record<string, unknown>; recovery_codes: unknown[] } }).filters;
  assert.deepEqual(f.totp_config, { enabled: true, config_name: 'Default', secret: { status: 'Secretbox' } });
  assert.equal(f.recovery_codes.length, 12);
  // and the log never carries them either
  const logText = JSON.stringify(s.logs);
  for (const secret of secretsSeen) assert.ok(!logText.includes(secret));
});
