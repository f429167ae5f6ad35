/**
 * Logout on a shared provider: two daemons on one PostgreSQL database with
 * data_provider.is_shared 1 and a common signing passphrase, so a token or
 * cookie issued by one node is valid on the other. A REST token invalidated
 * on node A (GET /api/v2/logout) and a web client session logged out on A
 * must be refused by node B too (SFTPGo keeps invalidated tokens in the
 * shared_sessions table); before the logout both work on B.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_PASSWORD, removeDaemonDir } from '../../support/daemon';
import { createDatabase } from '../../support/databases';
import { Browser } from '../webclient/httpclient';
import { startNode } from './node';

async function getJson(base: string, path: string, token: string): Promise<number> {
  const r = await fetch(base + path, { headers: { authorization: `Bearer ${token}` } });
  await r.arrayBuffer();
  return r.status;
}

test('a token and a web session logged out on node A are refused on node B', async (t) => {
  const cleanups: (() => Promise<void> | void)[] = [];
  t.after(async () => { for (const fn of cleanups.reverse()) await fn(); });
  const db = await createDatabase('postgresql');
  cleanups.push(() => db.drop());
  const env = { SFTPGO_HTTPD__SIGNING_PASSPHRASE: 'cluster-wide-signing-passphrase' };
  const a = await startNode(db.config, env);
  cleanups.push(() => removeDaemonDir(a));
  const b = await startNode(db.config, env);
  cleanups.push(() => removeDaemonDir(b));
  const baseA = `http://127.0.0.1:${a.httpPort}`;
  const baseB = `http://127.0.0.1:${b.httpPort}`;

  // REST: an admin token from A works on B until A invalidates it
  const basic = Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64');
  const issued = await fetch(`${baseA}/api/v2/token`, { headers: { authorization: `Basic ${basic}` } });
  assert.equal(issued.status, 200);
  const { access_token: token } = await issued.json() as { access_token: string };
  assert.equal(await getJson(baseB, '/api/v2/users', token), 200, 'the token of A is valid on B');
  assert.equal(await getJson(baseA, '/api/v2/logout', token), 200);
  assert.equal(await getJson(baseB, '/api/v2/users', token), 401, 'invalidated on A, refused on B');
  assert.equal(await getJson(baseA, '/api/v2/users', token), 401, 'and on A');
  const other = await fetch(`${baseB}/api/v2/token`, { headers: { authorization: `Basic ${basic}` } });
  const { access_token: fresh } = await other.json() as { access_token: string };
  assert.equal(await getJson(baseA, '/api/v2/users', fresh), 200, 'a new token is not affected');

  // web client: a session cookie from A opens B's pages until the user logs out on A
  const created = await a.api('POST', '/users', {
    status: 1, username: 'walker', password: 'Walker-pw-1', home_dir: join(a.dir, 'homes', 'walker'), permissions: { '/': ['*'] },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const onA = new Browser(baseA);
  assert.equal(await onA.login('walker', 'Walker-pw-1'), 303);
  const onB = new Browser(baseB);
  onB.cookies = new Map(onA.cookies);
  assert.equal((await onB.req('GET', '/web/client/files')).status, 200, 'the cookie of A opens B');
  const page = await onA.req('GET', '/web/client/files');
  assert.equal((await onA.req('POST', '/web/client/logout', { _form_token: onA.csrf(page.text) })).status, 303);
  const after = await onB.req('GET', '/web/client/files');
  assert.notEqual(after.status, 200, 'logged out on A, refused on B');
  assert.match(after.location, /\/web\/client\/login/);
});
