/**
 * The daemon on PostgreSQL and on MariaDB, as users run it (`sftpgo serve`
 * in its own process, update_mode 0 migrating a fresh database): a user made
 * over REST logs in and transfers over SFTP (OpenSSH), FTP (basic-ftp) and
 * WebDAV (HTTP client); quota is counted in the database; everything survives
 * a restart; a dump loads into another database. Each engine gets its own
 * database, dropped at the end whatever happens. No server: the test fails.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { Client as FtpClient } from 'basic-ftp';
import { startDaemon, stopDaemon, removeDaemonDir, until, type Daemon } from '../../support/daemon';
import { createDatabase, queryDatabase, type SqlEngine, type TestDatabase } from '../../support/databases';
import { freePort, waitForPort } from '../../support/net';
import { writeKeyPair } from '../../support/sshkeys';
import { run, keyOpts } from '../sftpd/openssh';
import { Client as SshClient } from 'ssh2';
import { TcpProxy } from '../../support/tcpproxy';
import { serverOf } from '../../support/databases';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface Ports { ftp: number; dav: number }

function providerEnv(db: TestDatabase, ports: Ports): Record<string, string> {
  const c = db.config;
  return {
    SFTPGO_DATA_PROVIDER__DRIVER: String(c.driver), SFTPGO_DATA_PROVIDER__NAME: String(c.name),
    SFTPGO_DATA_PROVIDER__HOST: String(c.host), SFTPGO_DATA_PROVIDER__PORT: String(c.port),
    SFTPGO_DATA_PROVIDER__USERNAME: String(c.username), SFTPGO_DATA_PROVIDER__PASSWORD: '',
    SFTPGO_FTPD__BINDINGS__0__PORT: String(ports.ftp), SFTPGO_FTPD__BINDINGS__0__ADDRESS: '127.0.0.1',
    SFTPGO_FTPD__PASSIVE_PORT_RANGE__START: '0', SFTPGO_FTPD__PASSIVE_PORT_RANGE__END: '0',
    SFTPGO_WEBDAVD__BINDINGS__0__PORT: String(ports.dav), SFTPGO_WEBDAVD__BINDINGS__0__ADDRESS: '127.0.0.1',
  };
}

async function start(db: TestDatabase, reuse?: Daemon & { ports: Ports }, dbPort?: number): Promise<Daemon & { ports: Ports }> {
  const ports = reuse?.ports ?? { ftp: await freePort(), dav: await freePort() };
  const env = providerEnv(db, ports);
  if (dbPort !== undefined) env.SFTPGO_DATA_PROVIDER__PORT = String(dbPort);
  const d = await startDaemon({ env, reuse: reuse && { dir: reuse.dir, sftpPort: reuse.sftpPort, httpPort: reuse.httpPort } });
  await Promise.all([waitForPort(ports.ftp), waitForPort(ports.dav)]);
  return Object.assign(d, { ports });
}

async function withFtp<T>(d: Daemon & { ports: Ports }, user: string, password: string, fn: (c: FtpClient) => Promise<T>): Promise<T> {
  const c = new FtpClient(30_000);
  try {
    await c.access({ host: '127.0.0.1', port: d.ports.ftp, user, password });
    return await fn(c);
  } finally {
    c.close();
  }
}

async function ftpGet(c: FtpClient, file: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await c.downloadTo(new Writable({ write: (ch: Buffer, _e, cb) => { chunks.push(ch); cb(); } }), file);
  return Buffer.concat(chunks);
}

function dav(d: Daemon & { ports: Ports }, user: string, password: string, method: string, file: string, body?: Buffer): Promise<Response> {
  return fetch(`http://127.0.0.1:${d.ports.dav}/${file}`, {
    method, body, headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
  });
}

/** An SFTP password login with ssh2's client: true when authenticated, false when refused. */
function sshLogin(d: Daemon, user: string, password: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const c = new SshClient();
    c.once('ready', () => { c.end(); resolve(true); });
    c.once('error', (e: Error & { level?: string }) => {
      if (e.level === 'client-authentication') resolve(false);
      else reject(e);
    });
    c.connect({ host: '127.0.0.1', port: d.sftpPort, username: user, password, readyTimeout: 60_000 });
  });
}

async function availabilityMetric(d: Daemon): Promise<string | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${d.httpPort}/metrics`)).text();
  return /^sftpgo_dataprovider_availability (\S+)$/m.exec(text)?.[1];
}

for (const engine of ['postgresql', 'mysql'] as const satisfies readonly SqlEngine[]) {
  describe(`daemon on ${engine}`, () => {
    test('users, logins and transfers over SFTP/FTP/WebDAV, quota in the database, restart, dump and load', async (t) => {
      const cleanups: (() => Promise<void> | void)[] = [];
      t.after(async () => {
        // daemons first (they hold connections), then the databases
        for (const fn of cleanups.reverse()) await fn();
      });
      const db = await createDatabase(engine);
      cleanups.push(() => db.drop());
      const d1 = await start(db);
      cleanups.push(() => { if (!process.env.KEEP_DAEMON_DIRS) removeDaemonDir(d1); });
      const key = await writeKeyPair(d1.dir, 'k_ed25519', 'ed25519');
      const home = join(d1.dir, 'homes', 'alice');
      const password = 'alice-sql-pw';
      const created = await d1.api('POST', '/users', {
        status: 1, username: 'alice', password, home_dir: home, public_keys: [key.publicKey], permissions: { '/': ['*'] },
        quota_size: 100 * 1024 * 1024,
      });
      assert.equal(created.status, 201, JSON.stringify(created.json));

      const a = randomBytes(1024 * 1024 + 3);
      const b = randomBytes(200 * 1024 + 5);
      const c = randomBytes(64 * 1024 + 7);
      writeFileSync(join(d1.dir, 'a.bin'), a);
      const sftpArgs = (d: Daemon): string[] => [...keyOpts(key.privateKeyPath), '-P', String(d.sftpPort), '-b', '-', 'alice@127.0.0.1'];
      const put = await run('sftp', sftpArgs(d1), { input: `put ${join(d1.dir, 'a.bin')} a.bin\n` });
      assert.equal(put.status, 0, put.stderr);
      const viaFtp = await withFtp(d1, 'alice', password, async (ftp) => {
        await ftp.uploadFrom(Readable.from([b]), 'b.bin');
        return ftpGet(ftp, 'a.bin');
      });
      assert.equal(sha(viaFtp), sha(a), 'FTP reads what SFTP wrote');
      assert.equal((await dav(d1, 'alice', password, 'PUT', 'c.bin', c)).status, 201);
      const gotB = await dav(d1, 'alice', password, 'GET', 'b.bin');
      assert.equal(gotB.status, 200);
      assert.equal(sha(Buffer.from(await gotB.arrayBuffer())), sha(b), 'WebDAV reads what FTP wrote');
      assert.equal((await dav(d1, 'alice', 'wrong-password', 'GET', 'b.bin')).status, 401);

      const user = await d1.api<{ used_quota_files: number; used_quota_size: number }>('GET', '/users/alice');
      assert.equal(user.json.used_quota_files, 3);
      assert.equal(user.json.used_quota_size, a.length + b.length + c.length);
      const rows = await queryDatabase(db, 'SELECT username, used_quota_files FROM users');
      assert.deepEqual(rows.map((r) => [r.username, Number(r.used_quota_files)]), [['alice', 3]], 'the row is in the database');
      const dump = await d1.api<{ users: { username: string }[] }>('GET', '/dumpdata?output-data=1');
      assert.equal(dump.status, 200);
      assert.equal(await stopDaemon(d1), 0, 'SIGTERM exits 0');

      const d2 = await start(db, d1);
      cleanups.push(() => { if (d2.proc.exitCode === null) d2.proc.kill('SIGKILL'); });
      const back = join(d1.dir, 'c.back');
      const get = await run('sftp', sftpArgs(d2), { input: `get c.bin ${back}\n` });
      assert.equal(get.status, 0, get.stderr);
      assert.equal(sha(readFileSync(back)), sha(c), 'SFTP after the restart reads what WebDAV wrote');
      const afterRestart = await withFtp(d2, 'alice', password, (ftp) => ftpGet(ftp, 'b.bin'));
      assert.equal(sha(afterRestart), sha(b), 'the password (stored hashed) still works after the restart');
      assert.equal(await stopDaemon(d2), 0);

      // the dump loads into another, empty database and the same user logs in there
      const db2 = await createDatabase(engine);
      cleanups.push(() => db2.drop());
      const d3 = await start(db2);
      cleanups.push(() => { if (!process.env.KEEP_DAEMON_DIRS) removeDaemonDir(d3); });
      const loaded = await d3.api('POST', '/loaddata', dump.json);
      assert.equal(loaded.status, 200, JSON.stringify(loaded.json));
      const copy = await d3.api<{ used_quota_files: number; home_dir: string }>('GET', '/users/alice');
      assert.equal(copy.json.home_dir, home);
      assert.equal(copy.json.used_quota_files, 3);
      const viaDav = await dav(d3, 'alice', password, 'GET', 'a.bin');
      assert.equal(sha(Buffer.from(await viaDav.arrayBuffer())), sha(a));
      assert.equal(await stopDaemon(d3), 0);
    });

    test('two daemons on one database: a user made on one logs in on the other, concurrent uploads on both add up exactly', async (t) => {
      const db = await createDatabase(engine);
      const daemons: Daemon[] = [];
      t.after(async () => {
        for (const d of daemons) removeDaemonDir(d);
        await db.drop();
      });
      const nodeA = await start(db);
      daemons.push(nodeA);
      const nodeB = await start(db);
      daemons.push(nodeB);
      const key = await writeKeyPair(nodeA.dir, 'n_ed25519', 'ed25519');
      const created = await nodeA.api('POST', '/users', {
        status: 1, username: 'carol', home_dir: join(nodeA.dir, 'homes', 'carol'), public_keys: [key.publicKey],
        permissions: { '/': ['*'] }, quota_files: 1000,
      });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      const sizes = [101, 2003, 30005, 400007, 5000009, 6000, 700, 80];
      const files = sizes.map((n, i) => {
        const f = join(nodeA.dir, `up${i}.bin`);
        writeFileSync(f, randomBytes(n));
        return f;
      });
      // every file goes up through both daemons at once, under different names
      const uploads = files.flatMap((f, i) => [nodeA, nodeB].map((d, n) =>
        run('sftp', [...keyOpts(key.privateKeyPath), '-P', String(d.sftpPort), '-b', '-', 'carol@127.0.0.1'],
          { input: `put ${f} n${n}-f${i}.bin\n` })));
      for (const r of await Promise.all(uploads)) assert.equal(r.status, 0, r.stderr);
      const seen = await nodeB.api<{ used_quota_files: number; used_quota_size: number }>('GET', '/users/carol');
      assert.equal(seen.json.used_quota_files, 2 * sizes.length);
      assert.equal(seen.json.used_quota_size, 2 * sizes.reduce((a, b) => a + b, 0));
      for (const d of daemons) assert.equal(await stopDaemon(d), 0);
    });

    test('the database goes away: logins fail cleanly with availability 0, then recover without a restart', async (t) => {
      const db = await createDatabase(engine);
      const target = serverOf(engine);
      const proxy = new TcpProxy(target.host, target.port);
      const port = await proxy.up();
      let d: Daemon | undefined;
      t.after(async () => {
        if (d) removeDaemonDir(d);
        await proxy.down();
        await db.drop();
      });
      d = await start(db, undefined, port);
      const created = await d.api('POST', '/users', {
        status: 1, username: 'bob', password: 'bob-pw', home_dir: join(d.dir, 'homes', 'bob'), permissions: { '/': ['*'] },
      });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      assert.equal(await sshLogin(d, 'bob', 'bob-pw'), true);
      assert.equal(await availabilityMetric(d), '1');

      await proxy.down();
      assert.equal(await sshLogin(d, 'bob', 'bob-pw'), false, 'no database: the login is refused, the server stays up');
      assert.equal(await availabilityMetric(d), '0');
      // the log file is written by the daemon's buffered logger: wait for the line to land
      const daemon = d;
      await until('the "data provider unavailable" log line', async () =>
        daemon.logLines().some((l) => l.level === 'error' && /data provider unavailable/.test(String(l.message))));

      await proxy.up();
      assert.equal(await sshLogin(d, 'bob', 'bob-pw'), true, 'the same process logs in again once the database is back');
      assert.equal(await availabilityMetric(d), '1');
      assert.equal(d.proc.exitCode, null);
      assert.equal(await stopDaemon(d), 0);
    });
  });
}
