/** httpd.cors and httpd.token_validation bit 2 (tokens die when the account changes). */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from './support';

let s: TestServer;
before(async () => {
  s = await startServer({
    configure: (c) => {
      c.httpd.token_validation = 2;
      c.httpd.cors = {
        ...c.httpd.cors, enabled: true, allowed_origins: ['https://*.example.com'], allowed_methods: ['GET', 'PUT'],
        allowed_headers: ['Authorization', 'Content-Type'], exposed_headers: ['X-Object-ID'], max_age: 600, allow_credentials: true,
      };
    },
  });
});
after(async () => { await s.close(); });

test('CORS preflight and simple requests', async () => {
  const pre = await s.call('OPTIONS', '/api/v2/users', { headers: {
    origin: 'https://app.example.com', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization, content-type',
  } });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), 'https://app.example.com');
  assert.equal(pre.headers.get('access-control-allow-methods'), 'PUT');
  assert.equal(pre.headers.get('access-control-allow-credentials'), 'true');
  assert.equal(pre.headers.get('access-control-max-age'), '600');
  const badOrigin = await s.call('OPTIONS', '/api/v2/users', { headers: { origin: 'https://evil.test', 'access-control-request-method': 'GET' } });
  assert.equal(badOrigin.headers.get('access-control-allow-origin'), null);
  const badMethod = await s.call('OPTIONS', '/api/v2/users', { headers: { origin: 'https://app.example.com', 'access-control-request-method': 'DELETE' } });
  assert.equal(badMethod.headers.get('access-control-allow-origin'), null);
  const simple = await s.call('GET', '/healthz', { headers: { origin: 'https://app.example.com' } });
  assert.equal(simple.headers.get('access-control-allow-origin'), 'https://app.example.com');
  assert.equal(simple.headers.get('access-control-expose-headers'), 'X-Object-ID');
  assert.equal((await s.call('GET', '/healthz', { headers: { origin: 'https://evil.test' } })).headers.get('access-control-allow-origin'), null);
});

test('token_validation bit 2: updating the admin invalidates its tokens', async () => {
  const token = await s.token();
  assert.equal((await s.call('GET', '/api/v2/users', { token })).status, 200);
  assert.equal((await s.call('POST', '/api/v2/admins', { token, body: { status: 1, username: 'second', password: 'pw-2', permissions: ['*'] } })).status, 201);
  const t2 = await s.token('second', 'pw-2');
  assert.equal((await s.call('PUT', '/api/v2/admins/second', { token, body: { status: 1, username: 'second', permissions: ['*'], description: 'changed' } })).status, 200);
  const r = await s.call('GET', '/api/v2/users', { token: t2 });
  assert.equal(r.status, 401);
  assert.match((r.json as { message: string }).message, /updated/);
  assert.equal((await s.call('GET', '/api/v2/users', { token })).status, 200);
});
