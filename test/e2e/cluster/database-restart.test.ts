/**
 * Three nodes (is_shared 1) on a PostgreSQL server of the test's own, which
 * the test stops (pg_ctl stop -m fast: every session terminated, the port
 * closed) and starts again: while it is down, logins fail cleanly with a
 * log line and sftpgo_dataprovider_availability 0, and no node exits; once it
 * is back, the same processes log users in again (node B) and list the
 * cluster's sessions (node C) without a restart. The server and the nodes
 * are removed when the test ends, failed or not.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { removeDaemonDir, stopDaemon, until, type Daemon } from '../../support/daemon';
import { PrivatePostgres } from '../../support/private-postgres';
import { writeKeyPair } from '../../support/sshkeys';
import { type ClusterConn, holdSftp, sftp, startNode } from './node';

async function availability(d: Daemon): Promise<string | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${d.httpPort}/metrics`)).text();
  return /^sftpgo_dataprovider_availability (\S+)$/m.exec(text)?.[1];
}

describe('cluster of three nodes when the database stops and starts', () => {
  test('logins fail cleanly while PostgreSQL is down, the nodes recover without a restart', async (t) => {
    const cleanups: (() => Promise<void> | void)[] = [];
    t.after(async () => { for (const fn of cleanups.reverse()) await fn(); });
    const server = await PrivatePostgres.create();
    cleanups.push(() => server.destroy());
    await server.query('CREATE DATABASE sftpgo');
    const config = { driver: 'postgresql', name: 'sftpgo', host: '127.0.0.1', port: server.port, username: 'postgres' };
    const a = await startNode(config);
    cleanups.push(() => removeDaemonDir(a));
    const [b, c] = [await startNode(config), await startNode(config)];
    cleanups.push(() => removeDaemonDir(b), () => removeDaemonDir(c));

    const keys = await writeKeyPair(a.dir, 'carol');
    const created = await a.api('POST', '/users', {
      status: 1, username: 'carol', password: 'carol-pw', home_dir: join(a.dir, 'homes', 'carol'),
      permissions: { '/': ['*'] }, public_keys: [keys.publicKey],
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const before = await sftp(b, keys.privateKeyPath, 'carol', 'pwd\n');
    assert.equal(before.status, 0, before.stderr);
    assert.equal(await availability(b), '1');
    // node C's admin token is taken now: without a database an admin login is a 401, as in SFTPGo
    assert.equal((await c.api('GET', '/users')).status, 200);

    await server.stop('fast');
    const refused = await sftp(b, keys.privateKeyPath, 'carol', 'pwd\n');
    assert.notEqual(refused.status, 0, 'no database: the login is refused');
    assert.equal(await availability(b), '0');
    await until('the "data provider unavailable" line in node B\'s log', async () =>
      b.logLines().some((l) => l.level === 'error' && /data provider unavailable/.test(String(l.message))));
    // the REST API answers (with an error) instead of hanging or taking the node down
    const listing = await c.api('GET', '/users');
    assert.ok(listing.status >= 500, `GET /users without a database answered ${listing.status}`);
    for (const d of [a, b, c]) assert.equal(d.proc.exitCode, null, `node on ${d.httpPort} still running`);

    await server.start();
    const after = await sftp(b, keys.privateKeyPath, 'carol', 'pwd\n');
    assert.equal(after.status, 0, `node B logs in again without a restart: ${after.stderr}`);
    assert.equal(await availability(b), '1');
    const held = await holdSftp(b, keys.privateKeyPath, 'carol');
    cleanups.push(() => held.kill());
    await until('node C lists the session held on node B', async () => {
      const r = await c.api<ClusterConn[]>('GET', '/connections');
      return r.status === 200 && r.json.some((x) => x.username === 'carol');
    });
    assert.equal(await held.finish('bye'), 0);
    for (const d of [c, b, a]) assert.equal(await stopDaemon(d), 0);
  });
});
