/** client_ip_proxy_header is honoured only from proxy_allowed sources; the resolved IP drives token binding and allow lists. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from './support';

let s: TestServer;
before(async () => {
  s = await startServer({ binding: { client_ip_proxy_header: 'X-Forwarded-For', client_ip_header_depth: 1, proxy_allowed: ['127.0.0.0/8'] } });
});
after(async () => { await s.close(); });

test('the forwarded client IP is used for token binding and the allow list', async () => {
  const token = await s.token();
  assert.equal((await s.call('POST', '/api/v2/admins', {
    token, body: { status: 1, username: 'lan', password: 'lan-pw', permissions: ['*'], filters: { allow_list: ['10.0.0.0/8'] } },
  })).status, 201);
  // depth 1: the entry before the last one (the last is added by our own proxy)
  const xff = { 'x-forwarded-for': '203.0.113.9, 10.1.2.3, 192.0.2.1' };
  const direct = await s.call('GET', '/api/v2/token', { basic: ['lan', 'lan-pw'] });
  assert.ok(direct.status === 401 || direct.status === 403, String(direct.status));
  const r = await s.call('GET', '/api/v2/token', { basic: ['lan', 'lan-pw'], headers: xff });
  assert.equal(r.status, 200, r.text);
  const t = (r.json as { access_token: string }).access_token;
  assert.equal((await s.call('GET', '/api/v2/users', { token: t, headers: xff })).status, 200);
  // same token from the proxy's own address: bound to another IP
  assert.equal((await s.call('GET', '/api/v2/users', { token: t })).status, 401);
  const line = s.logs.filter((l) => l.level === 'http').pop();
  assert.match(String(line?.fields?.['remote_addr']), /^127\.0\.0\.1:/);
  const viaProxy = s.logs.filter((l) => l.level === 'http' && String(l.fields?.['remote_addr']).startsWith('10.1.2.3:'));
  assert.ok(viaProxy.length >= 2);
  // garbage in the header falls back to the connecting address
  assert.equal((await s.call('GET', '/api/v2/users', { token, headers: { 'x-forwarded-for': 'not-an-ip, x' } })).status, 200);
});
