/**
 * Migrations beyond the first on every SQL engine, with a second migration
 * written by the test: applied in order and recorded (the version row is
 * updated in place), reverted one version at a time with its down script,
 * re-applied; a missing down script stops revertprovider with a clear error.
 * The shipped migrations, too, revert one by one down to 0 and apply again.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { SqlBackend } from '../../../src/dataprovider/sql/backend';
import { findMigrationsDir } from '../../../src/dataprovider/sql/migrate';
import { openMysqlBackend } from '../../../src/dataprovider/sql/mysql';
import { openPgBackend } from '../../../src/dataprovider/sql/pgsql';
import { openSqliteBackend } from '../../../src/dataprovider/sqlite';
import { createDatabase } from '../../support/databases';
import { latestSchemaVersion } from '../../support/schema';
import { providerConfig, tempDir } from './support';

type Engine = 'sqlite' | 'postgresql' | 'mysql';

/** The shipped migrations plus a 0002 that adds a table (and, when asked, its down script). */
function migrationsWithSecond(dir: string, engine: Engine, withDown: boolean): string {
  const src = findMigrationsDir(engine);
  const out = path.join(dir, `migrations-${engine}-${withDown ? 'down' : 'nodown'}`);
  mkdirSync(out);
  for (const f of ['0001_initial.sql', '0001_initial.down.sql']) copyFileSync(path.join(src, f), path.join(out, f));
  const q = (n: string): string => (engine === 'mysql' ? `\`${n}\`` : `"${n}"`);
  writeFileSync(path.join(out, '0002_extra.sql'), `CREATE TABLE ${q('{{prefix}}extra')} (${q('id')} integer NOT NULL PRIMARY KEY);\n`);
  if (withDown) writeFileSync(path.join(out, '0002_extra.down.sql'), `DROP TABLE ${q('{{prefix}}extra')};\n`);
  return out;
}

async function open(t: { after(fn: () => Promise<void> | void): void }, engine: Engine, migrationsDir: string): Promise<{ backend: SqlBackend }> {
  const dir = tempDir(t);
  let make: () => SqlBackend;
  if (engine === 'sqlite') {
    make = () => openSqliteBackend({ file: path.join(dir, 'm.db'), tablesPrefix: 'p_', migrationsDir });
  } else {
    const db = await createDatabase(engine);
    t.after(() => db.drop());
    const config = providerConfig({ ...db.config, sql_tables_prefix: 'p_' });
    const onIdleError = (): void => undefined;
    make = engine === 'postgresql'
      ? () => openPgBackend({ config, driverName: 'postgresql', onIdleError, migrationsDir })
      : () => openMysqlBackend({ config, onIdleError, migrationsDir });
  }
  const backend = make();
  t.after(() => backend.close());
  return { backend };
}

for (const engine of ['sqlite', 'postgresql', 'mysql'] as const) {
  test(`${engine}: a second migration is applied, recorded, reverted and applied again`, async (t) => {
    const { backend } = await open(t, engine, migrationsWithSecond(tempDir(t), engine, true));
    await backend.migrate();
    assert.equal(await backend.schemaVersion(), 2);
    await backend.migrate();
    assert.equal(await backend.schemaVersion(), 2, 'idempotent');
    assert.equal(await backend.revert(), 1);
    assert.equal(await backend.schemaVersion(), 1);
    // the table of version 2 is gone: applying 0002 again would fail otherwise
    await backend.migrate();
    assert.equal(await backend.schemaVersion(), 2);
    assert.equal(await backend.revert(0), 0);
    assert.equal(await backend.schemaVersion(), 0);
  });

  test(`${engine}: the shipped migrations step back one version at a time to 0 and apply again`, async (t) => {
    const { backend } = await open(t, engine, findMigrationsDir(engine));
    await backend.migrate();
    const latest = latestSchemaVersion(engine);
    assert.equal(await backend.schemaVersion(), latest);
    for (let v = latest - 1; v >= 0; v--) {
      assert.equal(await backend.revert(), v);
      assert.equal(await backend.schemaVersion(), v);
    }
    // every down script removed what its migration added: applying them all again succeeds
    await backend.migrate();
    assert.equal(await backend.schemaVersion(), latest);
  });

  test(`${engine}: without a down script revertprovider stops and changes nothing`, async (t) => {
    const { backend } = await open(t, engine, migrationsWithSecond(tempDir(t), engine, false));
    await backend.migrate();
    await assert.rejects(backend.revert(), /schema version 2 has no revert script/);
    assert.equal(await backend.schemaVersion(), 2);
  });
}
