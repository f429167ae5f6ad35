/**
 * PostgreSQL and MariaDB/MySQL specifics, each on its own throw-away
 * database: recorded migrations and revertprovider, refusal of a database
 * holding SFTPGo's own schema, quota increments from two providers at once
 * (two nodes), delayed quota batching, and availability when the database
 * goes away and comes back (through a TCP relay the test controls).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isFsError } from '../../../src/common/errors';
import { initProvider, openDataProvider, revertProvider } from '../../../src/dataprovider/index';
import type { DataProviderService } from '../../../src/dataprovider/types';
import type { DataProviderConfig } from '../../../src/config/types';
import { createDatabase, queryDatabase, serverOf, type SqlEngine, type TestDatabase } from '../../support/databases';
import { LATEST_SCHEMA_VERSION } from '../../support/schema';
import { TcpProxy } from '../../support/tcpproxy';
import { providerConfig, RecordingLogger, tempDir, userInput } from './support';

type TestContext = { after(fn: () => Promise<void> | void): void };

async function database(t: TestContext, engine: SqlEngine): Promise<TestDatabase> {
  const db = await createDatabase(engine);
  t.after(() => db.drop());
  return db;
}

async function open(t: TestContext, cfg: Partial<DataProviderConfig>, extra: { logger?: RecordingLogger; onAvailability?: (ok: boolean) => void } = {}): Promise<DataProviderService> {
  const dp = await openDataProvider({ config: providerConfig(cfg), configDir: tempDir(t), logger: extra.logger ?? new RecordingLogger(),
    migrate: true, env: {}, onAvailability: extra.onAvailability });
  t.after(() => dp.close());
  return dp;
}

const quote = (engine: SqlEngine, ident: string): string => (engine === 'postgresql' ? `"${ident}"` : `\`${ident}\``);

for (const engine of ['postgresql', 'mysql'] as const) {
  describe(`sql server provider: ${engine}`, () => {
    test('initprovider records the version once, data survives a reopen, revertprovider steps back', async (t) => {
      const db = await database(t, engine);
      const config = providerConfig({ ...db.config, sql_tables_prefix: 'pfx_' });
      const logger = new RecordingLogger();
      assert.equal((await initProvider({ config, configDir: tempDir(t), logger, env: {} })).schemaVersion, LATEST_SCHEMA_VERSION);
      assert.equal((await initProvider({ config, configDir: tempDir(t), logger, env: {} })).schemaVersion, LATEST_SCHEMA_VERSION);
      assert.deepEqual((await queryDatabase(db, `SELECT id, version FROM ${quote(engine, 'pfx_schema_version')}`))
        .map((r) => [Number(r.id), Number(r.version)]), [[1, LATEST_SCHEMA_VERSION]]);
      const dp = await openDataProvider({ config, configDir: tempDir(t), logger, migrate: false, env: {} });
      await dp.addUser(userInput('Persisted'));
      await dp.addUser(userInput('persisted'));
      await dp.close();
      const again = await openDataProvider({ config, configDir: tempDir(t), logger, migrate: false, env: {} });
      assert.deepEqual((await again.listUsers()).map((u) => u.username), ['Persisted', 'persisted'], 'case-sensitive names, byte order');
      await again.close();

      assert.equal((await revertProvider({ config, configDir: tempDir(t), logger, env: {} })).schemaVersion, LATEST_SCHEMA_VERSION - 1);
      assert.equal((await revertProvider({ config, configDir: tempDir(t), logger, env: {} }, 0)).schemaVersion, 0);
      assert.equal((await queryDatabase(db, engine === 'postgresql'
        ? `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'pfx_%'`
        : `SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE 'pfx_%'`)).length, 0);
      await assert.rejects(openDataProvider({ config, configDir: tempDir(t), logger, migrate: false, env: {} }), /sftpgo initprovider/);
      await assert.rejects(revertProvider({ config, configDir: tempDir(t), logger, env: {} }), /cannot revert to version -1/);
      assert.equal((await initProvider({ config, configDir: tempDir(t), logger, env: {} })).schemaVersion, LATEST_SCHEMA_VERSION);
    });

    test('three nodes starting at once on an empty database migrate it once', async (t) => {
      const db = await database(t, engine);
      const nodes = await Promise.all([1, 2, 3].map(() => open(t, db.config)));
      assert.deepEqual(await Promise.all(nodes.map((n) => n.backend.schemaVersion())), [LATEST_SCHEMA_VERSION, LATEST_SCHEMA_VERSION, LATEST_SCHEMA_VERSION]);
      assert.deepEqual((await queryDatabase(db, `SELECT version FROM ${quote(engine, 'schema_version')}`)).map((r) => Number(r.version)), [LATEST_SCHEMA_VERSION]);
      await nodes[0]!.addUser(userInput('everywhere'));
      assert.equal((await nodes[2]!.getUser('everywhere'))?.username, 'everywhere');
    });

    test("a database holding SFTPGo's own schema, or a foreign users table, is refused untouched", async (t) => {
      const db = await database(t, engine);
      const q = (n: string): string => quote(engine, n);
      await queryDatabase(db, `CREATE TABLE ${q('schema_version')} (id integer, version integer NOT NULL)`);
      await queryDatabase(db, `INSERT INTO ${q('schema_version')} (id, version) VALUES (1, 33)`);
      await queryDatabase(db, `CREATE TABLE ${q('shared_sessions')} (${q('key')} varchar(128) NOT NULL)`);
      for (const migrate of [true, false]) {
        await assert.rejects(openDataProvider({ config: providerConfig(db.config), configDir: tempDir(t), logger: new RecordingLogger(), migrate, env: {} }),
          /holds SFTPGo's own schema \(version 33, table "shared_sessions"\).*dumpdata/);
      }
      assert.equal((await queryDatabase(db, `SELECT version FROM ${q('schema_version')}`)).length, 1, 'nothing written');

      const other = await database(t, engine);
      await queryDatabase(other, `CREATE TABLE ${q('users')} (id integer)`);
      await assert.rejects(openDataProvider({ config: providerConfig(other.config), configDir: tempDir(t), logger: new RecordingLogger(), migrate: true, env: {} }),
        /holds a "users" table that sftpgo-ts did not create/);
    });

    test('two providers on one database (two nodes) add quota concurrently: the exact sum is stored', async (t) => {
      const db = await database(t, engine);
      const nodeA = await open(t, { ...db.config, pool_size: 4 });
      const nodeB = await open(t, { ...db.config, pool_size: 4 });
      await nodeA.addUser(userInput('shared', { quota_size: 10_000_000 }));
      const rounds = Array.from({ length: 40 }, (_, i) => [
        nodeA.updateUserQuota('shared', 1000 + i, 1), nodeB.updateUserQuota('shared', 2000 + i, 2),
        nodeA.updateUserTransferQuota('shared', 3, 5), nodeB.updateUserTransferQuota('shared', 7, 11),
      ]).flat();
      await Promise.all(rounds);
      const u = await nodeB.getUser('shared');
      const expectedSize = Array.from({ length: 40 }, (_, i) => 3000 + 2 * i).reduce((a, b) => a + b, 0);
      assert.equal(u?.used_quota_size, expectedSize);
      assert.equal(u?.used_quota_files, 120);
      assert.equal(u?.used_upload_data_transfer, 400);
      assert.equal(u?.used_download_data_transfer, 640);
    });

    test('no process-wide queue: a running transaction holds up neither reads nor writes of other rows', async (t) => {
      const db = await database(t, engine);
      const dp = await open(t, { ...db.config, pool_size: 3 });
      await dp.addUser(userInput('locked'));
      await dp.addUser(userInput('free'));
      let release!: () => void;
      const gate = new Promise<void>((r) => { release = r; });
      let entered!: () => void;
      const inside = new Promise<void>((r) => { entered = r; });
      const tx = dp.backend.transaction(async (txs) => {
        await txs.updateUserQuota('locked', 5, 1, false);
        entered();
        await gate;
      });
      await inside;
      // SQLite would queue these behind the transaction (and this test would hang); a pool answers them now
      await dp.updateUserQuota('free', 7, 1);
      assert.equal((await dp.getUser('free'))?.used_quota_size, 7);
      assert.equal((await dp.getUser('locked'))?.used_quota_size, 0, 'the uncommitted write is not visible outside');
      release();
      await tx;
      assert.equal((await dp.getUser('locked'))?.used_quota_size, 5);
      const snapshot = await dp.dump();
      assert.deepEqual(snapshot.users?.map((u) => [u.username, u.used_quota_size]), [['free', 7], ['locked', 5]]);
    });

    test('delayed_quota_update batches increments: reads include what is pending, closing writes it', async (t) => {
      const db = await database(t, engine);
      // an hour: the periodic flush cannot run during the test, only close() writes
      const delayed = await openDataProvider({ config: providerConfig({ ...db.config, delayed_quota_update: 3600 }), configDir: tempDir(t),
        logger: new RecordingLogger(), migrate: true, env: {} });
      t.after(() => delayed.close());
      const direct = await open(t, db.config);
      await delayed.addUser(userInput('batch', { virtual_folders: [{ name: 'vf', mapped_path: '/srv/vf', virtual_path: '/vf' }] }));
      await Promise.all([delayed.updateUserQuota('batch', 100, 1), delayed.updateUserQuota('batch', 200, 2),
        delayed.updateFolderQuota('vf', 50, 5), delayed.updateUserTransferQuota('batch', 9, 8)]);
      const seen = await delayed.getUser('batch');
      assert.deepEqual([seen?.used_quota_size, seen?.used_quota_files, seen?.used_upload_data_transfer, seen?.used_download_data_transfer],
        [300, 3, 9, 8]);
      assert.equal(seen?.virtual_folders?.[0]?.used_quota_size, 50);
      assert.equal((await direct.getUser('batch'))?.used_quota_size, 0, 'not written yet');
      await delayed.updateUserQuota('batch', 7, 7, true);
      await delayed.updateUserQuota('batch', 1, 1);
      await delayed.close();
      const stored = await direct.getUser('batch');
      assert.deepEqual([stored?.used_quota_size, stored?.used_quota_files, stored?.used_upload_data_transfer], [8, 8, 9]);
      assert.equal((await direct.getFolder('vf'))?.used_quota_size, 50);
    });

    test('the database goes away: calls fail cleanly, availability drops and recovers without a restart', async (t) => {
      const db = await database(t, engine);
      const target = serverOf(engine);
      const proxy = new TcpProxy(target.host, target.port);
      const port = await proxy.up();
      t.after(() => proxy.down());
      const states: boolean[] = [];
      const logger = new RecordingLogger();
      const dp = await open(t, { ...db.config, port, pool_size: 2 }, { logger, onAvailability: (ok) => states.push(ok) });
      await dp.addUser(userInput('avail'));
      await proxy.down();
      await assert.rejects(dp.checkUserAndPass('avail', 'secret', { ip: '127.0.0.1', protocol: 'SSH' }),
        (e) => isFsError(e, 'Generic') && /data provider unavailable/.test((e as Error).message));
      await assert.rejects(dp.backend.checkAvailability(), /data provider unavailable/);
      assert.deepEqual(states, [false]);
      assert.ok(logger.lines.some((l) => l.level === 'error' && /data provider unavailable/.test(l.message)));
      await proxy.up();
      const ok = await dp.checkUserAndPass('avail', 'secret', { ip: '127.0.0.1', protocol: 'SSH' });
      assert.equal(ok.username, 'avail');
      assert.deepEqual(states, [false, true]);
      assert.ok(logger.lines.some((l) => l.level === 'info' && /data provider available again/.test(l.message)));
    });

    test('connection_string in the form SFTPGo users have it', async (t) => {
      const db = await database(t, engine);
      const s = serverOf(engine);
      const strings = engine === 'postgresql'
        ? [`host=${s.host} port=${s.port} dbname=${db.name} user=postgres sslmode=disable connect_timeout=10`,
          `postgres://postgres@${s.host}:${s.port}/${db.name}?sslmode=disable`]
        : [`root:@tcp(${s.host}:${s.port})/${db.name}?collation=utf8mb4_unicode_ci&interpolateParams=true&timeout=10s&parseTime=true&clientFoundRows=true&tls=false`];
      for (const connection_string of strings) {
        const dp = await open(t, { driver: engine, connection_string });
        assert.equal(await dp.backend.schemaVersion(), LATEST_SCHEMA_VERSION);
      }
    });
  });
}

test('settings the SQL drivers cannot honour stop start-up naming the key', async (t) => {
  const dir = tempDir(t);
  const refused: [Partial<DataProviderConfig>, RegExp][] = [
    [{ driver: 'postgresql', name: 'x', sslmode: 4 }, /data_provider\.sslmode: "prefer" needs a fallback/],
    [{ driver: 'postgresql', name: 'x', sslmode: 5 }, /data_provider\.sslmode: "allow"/],
    [{ driver: 'postgresql', name: 'x', target_session_attrs: 'read-write' }, /data_provider\.target_session_attrs: "read-write" is not supported/],
    [{ driver: 'postgresql', name: 'x', host: 'a.example,b.example' }, /data_provider\.host: several hosts/],
    [{ driver: 'postgresql', name: 'x', host: 'db.example', sslmode: 1, disable_sni: true }, /data_provider\.disable_sni:/],
    [{ driver: 'cockroachdb', name: '' }, /data_provider\.name: the database name is required/],
    [{ driver: 'postgresql', connection_string: 'host=x dbname=y service=z' }, /data_provider\.connection_string: the "service" setting is not supported/],
    [{ driver: 'mysql', name: 'x', sslmode: 3 }, /data_provider\.sslmode: "preferred"/],
    [{ driver: 'mysql', connection_string: 'u:p@tcp(h:1)/d?allowCleartextPasswords=true' }, /data_provider\.connection_string: the "allowCleartextPasswords" parameter/],
    [{ driver: 'mysql', name: 'x', password_file: '/nonexistent/pw' }, /data_provider\.password_file: cannot read/],
  ];
  for (const [cfg, re] of refused) {
    await assert.rejects(openDataProvider({ config: providerConfig(cfg), configDir: dir, logger: new RecordingLogger(), migrate: true, env: {} }), re,
      JSON.stringify(cfg));
  }
});
