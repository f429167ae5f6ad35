/** The IP list store contract on every backend (memory, SQLite, PostgreSQL, MySQL): same answers for the same calls. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FsError } from '../../../src/common/errors';
import { MemoryPerimeterStore } from '../../../src/dataprovider/perimeter-memory';
import { openSqliteBackend } from '../../../src/dataprovider/sqlite';
import { validateIpListEntry, type IpListStore } from '../../../src/dataprovider/iplist';
import { openDataProvider } from '../../../src/dataprovider/index';
import { createDatabase } from '../../support/databases';
import { providerConfig, RecordingLogger } from './support';

async function exercise(store: IpListStore): Promise<void> {
  const add = (ipornet: string, type: number, mode = 1, protocols = 0): Promise<void> =>
    store.addIpListEntry(validateIpListEntry({ ipornet, type, mode, protocols }, 1000));
  await add('10.0.0.0/8', 2, 2, 3);
  await add('10.1.0.0/16', 2, 1);
  await add('192.168.1.1', 2, 2);
  await add('2001:db8::/32', 2, 2);
  await add('10.0.0.0/8', 1);
  await assert.rejects(add('10.0.0.0/8', 2, 2), (e: unknown) => e instanceof FsError && e.kind === 'AlreadyExists');
  assert.deepEqual((await store.listIpListEntries(2)).map((e) => e.ipornet), ['10.0.0.0/8', '10.1.0.0/16', '192.168.1.1/32', '2001:db8::/32']);
  assert.deepEqual((await store.listIpListEntries(2, { filter: '10.' })).map((e) => e.ipornet), ['10.0.0.0/8', '10.1.0.0/16']);
  assert.deepEqual((await store.listIpListEntries(2, { from: '10.1.0.0/16', limit: 1 })).map((e) => e.ipornet), ['192.168.1.1/32']);
  assert.deepEqual((await store.listIpListEntries(2, { order: 'DESC', limit: 2 })).map((e) => e.ipornet), ['2001:db8::/32', '192.168.1.1/32']);
  assert.deepEqual((await store.listIpListEntries(2, { order: 'DESC', from: '10.1.0.0/16' })).map((e) => e.ipornet), ['10.0.0.0/8']);
  assert.equal((await store.listIpListEntries(1)).length, 1);
  const e = await store.getIpListEntry(2, '10.0.0.0/8');
  assert.deepEqual(e, { ipornet: '10.0.0.0/8', type: 2, mode: 2, protocols: 3, created_at: 1000, updated_at: 1000 });
  await store.updateIpListEntry({ ...e!, mode: 1, description: 'ok', updated_at: 2000 });
  assert.deepEqual(await store.getIpListEntry(2, '10.0.0.0/8'), { ipornet: '10.0.0.0/8', type: 2, mode: 1, protocols: 3, description: 'ok', created_at: 1000, updated_at: 2000 });
  await assert.rejects(store.updateIpListEntry({ ...e!, ipornet: '1.1.1.1/32' }), (x: unknown) => x instanceof FsError && x.kind === 'NotFound');
  await store.deleteIpListEntry(2, '10.0.0.0/8');
  assert.equal(await store.getIpListEntry(2, '10.0.0.0/8'), undefined);
  assert.ok(await store.getIpListEntry(1, '10.0.0.0/8'), 'the same network in another list stays');
  await assert.rejects(store.deleteIpListEntry(2, '10.0.0.0/8'), (x: unknown) => x instanceof FsError && x.kind === 'NotFound');
}

test('memory IP list store', async () => {
  await exercise(new MemoryPerimeterStore());
});

test('SQLite IP list store (migration 0002)', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iplist-sqlite-'));
  const b = openSqliteBackend({ file: path.join(dir, 'db.sqlite'), tablesPrefix: 'pfx_' });
  try {
    await b.migrate();
    await exercise(b.perimeter);
    const dump = await b.dump();
    assert.equal(dump.ip_lists?.length, 4);
  } finally {
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

// the same contract on the database servers (each test in its own database, dropped after)
for (const engine of ['postgresql', 'mysql'] as const) {
  test(`${engine} IP list store (schema 3)`, async (t) => {
    const db = await createDatabase(engine);
    t.after(() => db.drop());
    const dir = mkdtempSync(path.join(os.tmpdir(), `iplist-${engine}-`));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const dp = await openDataProvider({ config: providerConfig({ ...db.config }), configDir: dir, logger: new RecordingLogger(), migrate: true, env: {} });
    try {
      await exercise(dp.backend.perimeter);
      assert.equal((await dp.backend.dump()).ip_lists?.length, 4);
    } finally {
      await dp.close();
    }
  });
}
