/**
 * Three daemons (`sftpgo serve`, each its own process) on one PostgreSQL
 * database with data_provider.is_shared 1: a user made on node A logs in on
 * node B; node C lists that session and closes it (the OpenSSH sftp client
 * on B sees the disconnect); uploads through two nodes at once leave the
 * exact quota; max_sessions 1 refuses a second session on another node.
 * The database is created and dropped by the test.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, removeDaemonDir, stopDaemon, until } from '../../support/daemon';
import { createDatabase, queryDatabase } from '../../support/databases';
import { freePort } from '../../support/net';
import { writeKeyPair } from '../../support/sshkeys';
import { run } from '../sftpd/openssh';
import { type ClusterConn as Conn, holdSftp, sftp, startNode } from './node';

describe('cluster of three nodes on PostgreSQL', () => {
  test('login on another node, cluster-wide list and close, exact quota, max_sessions across nodes', async (t) => {
    const cleanups: (() => Promise<void> | void)[] = [];
    t.after(async () => { for (const fn of cleanups.reverse()) await fn(); });
    const db = await createDatabase('postgresql');
    cleanups.push(() => db.drop());
    // A first: it migrates; B and C join the same schema
    const a = await startNode(db.config);
    cleanups.push(() => removeDaemonDir(a));
    const [b, c] = [await startNode(db.config), await startNode(db.config)];
    cleanups.push(() => removeDaemonDir(b), () => removeDaemonDir(c));
    const nodes = await queryDatabase(db, 'SELECT name FROM nodes');
    assert.equal(nodes.length, 3, 'each node registered');

    const keys = await writeKeyPair(a.dir, 'alice');
    const created = await a.api('POST', '/users', {
      status: 1, username: 'alice', password: 'alice-pw', home_dir: join(a.dir, 'homes', 'alice'),
      permissions: { '/': ['*'] }, public_keys: [keys.publicKey],
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));

    // a session held open on node B
    const held = await holdSftp(b, keys.privateKeyPath, 'alice');
    cleanups.push(() => held.kill());

    // node C answers for the whole cluster and names the node holding the session
    let listed: Conn[] = [];
    await until('the session listed by node C', async () => {
      listed = (await c.api<Conn[]>('GET', '/connections')).json.filter((x) => x.username === 'alice');
      return listed.length === 1;
    });
    const [session] = listed;
    assert.ok(session);
    const bNode = (await b.api<Conn[]>('GET', '/connections')).json.find((x) => x.username === 'alice');
    assert.equal(session.node, bNode?.node, 'tagged with node B');
    assert.notEqual(session.node, '');

    // max_sessions 1: a second session on node A is refused while B holds one
    assert.equal((await a.api('PUT', '/users/alice', { ...(created.json as object), max_sessions: 1, public_keys: [keys.publicKey] })).status, 200);
    const refused = await sftp(a, keys.privateKeyPath, 'alice', 'pwd\n');
    assert.notEqual(refused.status, 0, 'second session on another node refused');

    // a node token from nowhere is refused
    const forged = await fetch(`http://127.0.0.1:${b.httpPort}/api/v2/connections`, { headers: { 'x-sftpgo-node': 'Bearer abc.def.ghi' } });
    assert.equal(forged.status, 401);

    // node C closes the session node B holds; the OpenSSH client sees the disconnect
    const closed = await c.api('DELETE', `/connections/${encodeURIComponent(session.connection_id)}?node=${session.node}`);
    assert.equal(closed.status, 200, JSON.stringify(closed.json));
    await until('the session gone from node B', async () =>
      (await b.api<Conn[]>('GET', '/connections')).json.every((x) => x.username !== 'alice'));
    // sftp in batch mode notices the closed connection on its next command
    const code = await held.finish('ls');
    assert.notEqual(code, 0, 'sftp ended by the server');
    await until('the session gone cluster-wide', async () =>
      (await a.api<Conn[]>('GET', '/connections')).json.every((x) => x.username !== 'alice'));
    // the limit counts live sessions only: a new one is admitted now
    const again = await sftp(a, keys.privateKeyPath, 'alice', 'pwd\n');
    assert.equal(again.status, 0, again.stderr);

    // concurrent uploads through two nodes: the quota is the exact sum
    assert.equal((await a.api('PUT', '/users/alice', { ...(created.json as object), max_sessions: 0, quota_size: 10_000_000, public_keys: [keys.publicKey] })).status, 200);
    const sizes = [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000];
    const uploads = sizes.map((n, i) => {
      const file = join(a.dir, `up${i}.bin`);
      writeFileSync(file, Buffer.alloc(n, i));
      return sftp(i % 2 === 0 ? a : c, keys.privateKeyPath, 'alice', `put ${file} /f${i}.bin\n`);
    });
    for (const r of await Promise.all(uploads)) assert.equal(r.status, 0, r.stderr);
    const [row] = await queryDatabase(db, "SELECT used_quota_size, used_quota_files FROM users WHERE username = 'alice'");
    assert.equal(Number(row?.used_quota_size), sizes.reduce((x, y) => x + y, 0));
    assert.equal(Number(row?.used_quota_files), sizes.length);

    for (const d of [c, b, a]) assert.equal(await stopDaemon(d), 0);
  });

  test('is_shared 1 on SQLite is refused at start-up with a clear line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sftpgo-node-'));
    const [sftpPort, httpPort] = [await freePort(), await freePort()];
    await assert.rejects(startDaemon({ reuse: { dir, sftpPort, httpPort }, env: { SFTPGO_DATA_PROVIDER__IS_SHARED: '1' } }),
      /is_shared 1 is not supported with the sqlite driver/);
    const r = await run('rm', ['-rf', dir]);
    assert.equal(r.status, 0);
  });
});
