import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { SignJWT } from 'jose';
import { HASH_RE, startServer, type TestServer } from './support';

let s: TestServer;
before(async () => {
  s = await startServer({
    configure: (c) => { c.httpd.signing_passphrase = 'test-passphrase'; },
    service: { tokenRateLimit: { maxFailures: 3, windowMs: 600_000 } },
  });
});
after(async () => { await s.close(); });

test('healthz is public, version needs a token', async () => {
  const h = await s.call('GET', '/healthz');
  assert.equal(h.status, 200);
  assert.equal(h.text, 'ok');
  const v0 = await s.call('GET', '/api/v2/version');
  assert.equal(v0.status, 401);
  assert.equal(typeof (v0.json as { error: string }).error, 'string');
  assert.equal(typeof (v0.json as { message: string }).message, 'string');
  const token = await s.token();
  const v = await s.call('GET', '/api/v2/version', { token });
  assert.equal(v.status, 200);
  const body = v.json as Record<string, unknown>;
  for (const k of ['version', 'build_date', 'commit_hash', 'features']) assert.ok(k in body, k);
});

test('token: shape, wrong password, garbage, forged and expired tokens', async () => {
  const r = await s.call('GET', '/api/v2/token', { basic: ['admin', 'password'] });
  assert.equal(r.status, 200);
  const t = r.json as { access_token: string; expires_at: string };
  assert.match(t.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const lifetime = Date.parse(t.expires_at) - Date.now();
  assert.ok(lifetime > 19 * 60_000 && lifetime <= 20 * 60_000 + 1000, `lifetime ${lifetime}`);

  const noAuth = await s.call('GET', '/api/v2/token');
  assert.equal(noAuth.status, 401);
  for (const bad of ['Bearer garbage', `Bearer ${t.access_token}x`, 'Basic YWRtaW46cGFzc3dvcmQ=']) {
    const x = await s.call('GET', '/api/v2/users', { headers: { authorization: bad } });
    assert.equal(x.status, 401, bad);
    assert.ok((x.json as { error: string }).error.length > 0);
  }
  // signed with the configured passphrase but expired
  const key = createHash('sha256').update('test-passphrase').digest();
  const now = Math.floor(Date.now() / 1000);
  const mk = (exp: number, aud: string[]) => new SignJWT({ username: 'admin', permissions: ['*'] })
    .setProtectedHeader({ alg: 'HS256' }).setJti(`j${exp}`).setIssuedAt(now - 3600).setExpirationTime(exp).setAudience(aud).sign(key);
  const valid = await mk(now + 600, ['API', '127.0.0.1']);
  assert.equal((await s.call('GET', '/api/v2/users', { token: valid })).status, 200);
  const expired = await mk(now - 60, ['API', '127.0.0.1']);
  const e = await s.call('GET', '/api/v2/users', { token: expired });
  assert.equal(e.status, 401);
  assert.match((e.json as { error: string }).error, /expired/);
  // bound to another IP / another audience
  assert.equal((await s.call('GET', '/api/v2/users', { token: await mk(now + 600, ['API', '10.9.9.9']) })).status, 401);
  assert.equal((await s.call('GET', '/api/v2/users', { token: await mk(now + 600, ['WebAdmin', '127.0.0.1']) })).status, 401);
  // a token of an admin that no longer exists
  const ghost = await new SignJWT({ username: 'ghost', permissions: ['*'] }).setProtectedHeader({ alg: 'HS256' })
    .setJti('g').setExpirationTime(now + 600).setAudience(['API', '127.0.0.1']).sign(key);
  assert.equal((await s.call('GET', '/api/v2/users', { token: ghost })).status, 401);
});

test('logout revokes the token', async () => {
  const token = await s.token();
  assert.equal((await s.call('GET', '/api/v2/users', { token })).status, 200);
  const out = await s.call('GET', '/api/v2/logout', { token });
  assert.equal(out.status, 200);
  const again = await s.call('GET', '/api/v2/users', { token });
  assert.equal(again.status, 401);
  assert.equal((await s.call('GET', '/api/v2/logout', { token })).status, 401);
  // other tokens still work
  assert.equal((await s.call('GET', '/api/v2/users', { token: await s.token() })).status, 200);
});

test('access log lines carry SFTPGo fields and never credentials; metrics count requests', async () => {
  const metric = async (): Promise<number> => {
    const m = await s.call('GET', '/metrics');
    assert.equal(m.status, 200);
    const line = m.text.split('\n').find((l) => l.startsWith('sftpgo_http_req_total '));
    assert.ok(line, 'sftpgo_http_req_total present');
    return Number(line.split(' ')[1]);
  };
  const before = await metric();
  const token = await s.token();
  await s.call('GET', '/api/v2/users?limit=1', { token, headers: { 'user-agent': 'e2e-agent' } });
  const afterCount = await metric();
  assert.ok(afterCount >= before + 3, `${before} -> ${afterCount}`);
  const line = s.logs.find((l) => l.level === 'http' && l.fields?.['uri'] === `${s.base}/api/v2/users?limit=1`);
  assert.ok(line, 'access log line present');
  const f = line.fields ?? {};
  for (const k of ['local_addr', 'remote_addr', 'proto', 'method', 'user_agent', 'uri', 'request_id', 'resp_status', 'resp_size', 'elapsed_ms']) {
    assert.ok(k in f, k);
  }
  assert.equal(f['user_agent'], 'e2e-agent');
  assert.equal(f['resp_status'], 200);
  const allLogs = JSON.stringify(s.logs);
  assert.ok(!allLogs.includes(token), 'token never logged');
  assert.ok(!allLogs.includes('cGFzc3dvcmQ'), 'basic credentials never logged');
  assert.ok(!allLogs.includes('password"'), 'no password field logged');
});

test('failed token requests are rate limited per IP (429)', async () => {
  for (let i = 0; i < 3; i++) {
    assert.equal((await s.call('GET', '/api/v2/token', { basic: ['admin', 'wrong'] })).status, 401);
  }
  const blocked = await s.call('GET', '/api/v2/token', { basic: ['admin', 'password'] });
  assert.equal(blocked.status, 429);
  assert.match((blocked.json as { message: string }).message, /too many/);
  assert.ok(s.logs.some((l) => l.sender === 'connection_failed' && l.fields?.['username'] === 'admin'));
  for (const b of s.bodies) assert.doesNotMatch(b, HASH_RE);
});

test('garbage on the socket gets 400 and the server keeps serving', async () => {
  const port = s.svc.addresses()[0].port;
  const reply = await new Promise<string>((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port });
    let data = '';
    sock.setEncoding('utf8');
    sock.on('data', (c: string) => { data += c; });
    sock.on('error', reject);
    sock.on('close', () => resolve(data));
    sock.write('\x00\x01 NOT HTTP AT ALL\r\n\r\n');
  });
  assert.match(reply, /^HTTP\/1\.1 400/);
  assert.equal((await s.call('GET', '/healthz')).status, 200);
});
