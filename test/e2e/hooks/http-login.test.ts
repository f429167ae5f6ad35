/**
 * HTTP user logins (common/login.ts loginHttpUser, what the REST user token
 * and the web client call) through the whole application: the post-connect
 * hook gates them (SFTPGo runs it for HTTP logins, SSH/FTP/WebDAV run it at
 * accept) and the post-login hook sees them with protocol HTTP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loginHttpUser } from '../../../src/common/login';
import { hookServer, json, shScript } from '../../unit/hooks/support';
import { startHooksEnv } from './env';

test('post-connect gates HTTP logins; post-login reports them', { timeout: 120_000 }, async (t) => {
  const srv = await hookServer(t, (_r, res) => json(res, 200, ''));
  let allow = '';
  const env = await startHooksEnv((c, dir) => {
    allow = join(dir, 'allow-http');
    c.common.post_connect_hook = shScript(dir, 'pc.sh', `[ "$SFTPGO_CONNECTION_PROTOCOL" != HTTP ] || [ -e ${allow} ]`);
    c.data_provider.post_login_hook = `${srv.url}/post`;
  });
  t.after(() => env.stop());
  await env.app.ctx.provider.addUser({ status: 1, username: 'hugo', password: 'pw-hugo', home_dir: join(env.dir, 'hugo'), permissions: { '/': ['*'] } });
  const refused = await loginHttpUser(env.app.ctx, { username: 'hugo', password: 'pw-hugo', ip: '127.0.0.1', encrypted: false });
  assert.equal(refused.ok, false);
  writeFileSync(allow, '');
  const ok = await loginHttpUser(env.app.ctx, { username: 'hugo', password: 'pw-hugo', ip: '127.0.0.1', encrypted: false });
  assert.equal(ok.ok, true);
  unlinkSync(allow);
  await env.app.ctx.hooks?.drain();
  const statuses = srv.requests.map((r) => `${r.url.searchParams.get('protocol')}:${r.url.searchParams.get('status')}`);
  assert.deepEqual(statuses, ['HTTP:0', 'HTTP:1']);
  assert.match(await env.logText(), /"sender":"post_connect_hook"[^\n]*denied/);
});
