/**
 * openDataProvider / initProvider: migrations (idempotent, recorded), reopen
 * persistence, the "run initprovider" guard, drivers, the memory dump file,
 * the default admin.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { initProvider, openDataProvider } from '../../../src/dataprovider/index';
import { providerConfig, RecordingLogger, tempDir, userInput } from './support';
import { latestSchemaVersion } from '../../support/schema';

test('sqlite: migrations run once, are recorded, and data survives a reopen', async (t) => {
  const dir = tempDir(t);
  const logger = new RecordingLogger();
  const config = providerConfig({ driver: 'sqlite', name: 'db.sqlite', sql_tables_prefix: 'pfx_' });
  const r1 = await initProvider({ config, configDir: dir, logger, env: {} });
  const r2 = await initProvider({ config, configDir: dir, logger, env: {} });
  assert.equal(r1.schemaVersion, latestSchemaVersion('sqlite'));
  assert.equal(r2.schemaVersion, latestSchemaVersion('sqlite'));
  const raw = new Database(path.join(dir, 'db.sqlite'), { readonly: true });
  const tables = (raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[])
    .map((r) => r.name).filter((n) => n.startsWith('pfx_'));
  assert.deepEqual(tables, ['pfx_admins', 'pfx_admins_groups_mapping', 'pfx_admins_roles_mapping', 'pfx_api_keys', 'pfx_defender_events',
    'pfx_defender_hosts', 'pfx_events_actions', 'pfx_events_rules', 'pfx_folders', 'pfx_groups', 'pfx_groups_folders_mapping', 'pfx_ip_lists',
    'pfx_node_sessions', 'pfx_nodes', 'pfx_roles', 'pfx_rules_actions_mapping', 'pfx_schema_version', 'pfx_shared_sessions', 'pfx_shares', 'pfx_tasks', 'pfx_users', 'pfx_users_folders_mapping',
    'pfx_users_groups_mapping', 'pfx_users_roles_mapping']);
  assert.deepEqual(raw.prepare('SELECT id, version FROM pfx_schema_version').all(), [{ id: 1, version: latestSchemaVersion('sqlite') }]);
  assert.equal((raw.pragma('journal_mode', { simple: true }) as string).toLowerCase(), 'wal');
  raw.close();

  const dp = await openDataProvider({ config, configDir: dir, logger, migrate: false, env: {} });
  await dp.addUser(userInput('persisted'));
  await dp.close();
  const again = await openDataProvider({ config, configDir: dir, logger, migrate: true, env: {} });
  t.after(() => again.close());
  assert.equal((await again.getUser('persisted'))?.home_dir, '/srv/sftpgo/data/persisted');
});

test('sqlite: an uninitialized database asks for initprovider', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(
    openDataProvider({ config: providerConfig({ name: 'fresh.db' }), configDir: dir, logger: new RecordingLogger(), migrate: false, env: {} }),
    /sftpgo initprovider/);
});

test('drivers: unsupported and unknown values are clear errors', async (t) => {
  const dir = tempDir(t);
  const logger = new RecordingLogger();
  await assert.rejects(openDataProvider({ config: providerConfig({ driver: 'bolt' }), configDir: dir, logger, migrate: true }),
    /"bolt" is not supported: export the data from SFTPGo \(GET \/api\/v2\/dumpdata.*--loaddata-from/);
  await assert.rejects(openDataProvider({ config: providerConfig({ driver: 'oracle' }), configDir: dir, logger, migrate: true }),
    /unknown data_provider\.driver "oracle"/);
  await assert.rejects(openDataProvider({ config: providerConfig({ sql_tables_prefix: 'bad-prefix;' }), configDir: dir, logger, migrate: true }),
    /sql_tables_prefix/);
});

test('memory: loads the dump file named by data_provider.name', async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'dump.json'), JSON.stringify({
    version: 17,
    folders: [{ name: 'fold', mapped_path: '/srv/fold' }],
    users: [userInput('fromdump', { virtual_folders: [{ name: 'fold', virtual_path: '/f' }] })],
  }));
  const dp = await openDataProvider({ config: providerConfig({ driver: 'memory', name: 'dump.json' }), configDir: dir,
    logger: new RecordingLogger(), migrate: false, env: {} });
  t.after(() => dp.close());
  const u = await dp.getUser('fromdump');
  assert.equal(u?.virtual_folders?.[0]?.mapped_path, '/srv/fold');
  await dp.checkUserAndPass('fromdump', 'secret', { ip: '127.0.0.1', protocol: 'FTP' });
  await assert.rejects(openDataProvider({ config: providerConfig({ driver: 'memory', name: 'missing.json' }), configDir: dir,
    logger: new RecordingLogger(), migrate: false, env: {} }), /does not exist/);
});

test('default admin: created once from env, with a warning when env is missing', async (t) => {
  const dir = tempDir(t);
  const logger = new RecordingLogger();
  const config = providerConfig({ driver: 'sqlite', name: 'adm.db', create_default_admin: true });
  const dp = await openDataProvider({ config, configDir: dir, logger, migrate: true,
    env: { SFTPGO_DEFAULT_ADMIN_USERNAME: 'boss', SFTPGO_DEFAULT_ADMIN_PASSWORD: 'bosspw' } });
  const admin = await dp.checkAdminAndPass('boss', 'bosspw', '127.0.0.1');
  assert.deepEqual(admin.permissions, ['*']);
  assert.ok(!logger.lines.some((l) => l.level === 'warn'));
  await dp.close();
  // an admin exists: nothing new is created even with other env values
  const dp2 = await openDataProvider({ config, configDir: dir, logger, migrate: true, env: {} });
  assert.deepEqual((await dp2.listAdmins()).map((a) => a.username), ['boss']);
  await dp2.close();

  const logger2 = new RecordingLogger();
  const mem = await openDataProvider({ config: providerConfig({ driver: 'memory', name: '', create_default_admin: true }),
    configDir: dir, logger: logger2, migrate: true, env: {} });
  t.after(() => mem.close());
  await mem.checkAdminAndPass('admin', 'password', '::1');
  assert.ok(logger2.lines.some((l) => l.level === 'warn' && /SFTPGO_DEFAULT_ADMIN_USERNAME/.test(l.message)));
  assert.ok(!JSON.stringify(logger2.lines).includes('"password"'), 'the password is never logged');
});
