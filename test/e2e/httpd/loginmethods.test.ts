/** httpd.bindings[].disabled_login_methods: 16 removes the admin token endpoint, 64 refuses admin API keys. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from './support';

let s: TestServer;
before(async () => { s = await startServer({ binding: { disabled_login_methods: 16 | 64 } }); });
after(async () => { await s.close(); });

test('disabled token endpoint and API keys', async () => {
  const t = await s.call('GET', '/api/v2/token', { basic: ['admin', 'password'] });
  assert.equal(t.status, 404);
  const admin = await s.ctx.provider.getAdmin('admin');
  assert.ok(admin);
  const { password: _p, ...rest } = admin;
  await s.ctx.provider.updateAdmin('admin', { ...rest, filters: { ...rest.filters, allow_api_key_auth: true } });
  const { key } = await s.ctx.provider.addApiKey({ name: 'k', scope: 1, admin: 'admin' });
  const r = await s.call('GET', '/api/v2/users', { apiKey: key });
  assert.equal(r.status, 403);
  assert.match((r.json as { message: string }).message, /disabled/);
});
