/**
 * The provider commands of the `sftpgo` binary on every SQL engine:
 * initprovider (idempotent), revertprovider (one version back, or
 * --to-version), resetprovider --force, and the refusals users meet first
 * (bolt, a database holding SFTPGo's own schema), each as one stderr line.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { createDatabase, queryDatabase, type TestDatabase } from '../../support/databases';
import { LATEST_SCHEMA_VERSION } from '../../support/schema';

const MAIN = path.resolve(__dirname, '../../../src/cmd/main.js');
const CLEAN_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SFTPGO_')));

interface Result { code: number | null; stdout: string; stderr: string }

function sftpgo(args: string[], env: Record<string, string>, cwd: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd, env: { ...CLEAN_ENV, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function tmpDir(t: { after: (fn: () => void) => void }): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sftpgo-cli-provider-'));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

function envFor(db: TestDatabase): Record<string, string> {
  const c = db.config;
  return {
    SFTPGO_DATA_PROVIDER__DRIVER: String(c.driver), SFTPGO_DATA_PROVIDER__NAME: String(c.name),
    SFTPGO_DATA_PROVIDER__HOST: String(c.host), SFTPGO_DATA_PROVIDER__PORT: String(c.port),
    SFTPGO_DATA_PROVIDER__USERNAME: String(c.username),
  };
}

async function versions(db: TestDatabase): Promise<number[]> {
  const q = db.engine === 'postgresql' ? '"schema_version"' : '`schema_version`';
  return (await queryDatabase(db, `SELECT version FROM ${q}`)).map((r) => Number(r.version));
}

for (const engine of ['postgresql', 'mysql'] as const) {
  test(`initprovider, revertprovider and resetprovider on ${engine}`, async (t) => {
    const dir = tmpDir(t);
    const db = await createDatabase(engine);
    t.after(() => db.drop());
    const env = envFor(db);
    const init = await sftpgo(['initprovider', '-c', dir], env, dir);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, new RegExp(`driver ${engine}, schema version ${LATEST_SCHEMA_VERSION}`));
    assert.equal((await sftpgo(['initprovider', '-c', dir], env, dir)).code, 0);
    assert.deepEqual(await versions(db), [LATEST_SCHEMA_VERSION]);

    const revert = await sftpgo(['revertprovider', '-c', dir], env, dir);
    assert.equal(revert.code, 0, revert.stderr);
    assert.match(revert.stdout, new RegExp(`successfully reverted .*schema version ${LATEST_SCHEMA_VERSION - 1}`));
    const toZero = await sftpgo(['revertprovider', '-c', dir, '--to-version', '0'], env, dir);
    assert.equal(toZero.code, 0, toZero.stderr);
    assert.match(toZero.stdout, /successfully reverted .*schema version 0/);
    const below = await sftpgo(['revertprovider', '-c', dir, '--to-version', '3'], env, dir);
    assert.equal(below.code, 1);
    assert.match(below.stderr, /cannot revert to version 3: the schema is at version 0/);

    assert.equal((await sftpgo(['initprovider', '-c', dir], env, dir)).code, 0);
    const reset = await sftpgo(['resetprovider', '-c', dir, '--force'], env, dir);
    assert.equal(reset.code, 0, reset.stderr);
    await assert.rejects(versions(db), /schema_version/, 'every table dropped');
  });

  test(`a database holding SFTPGo's schema is refused by initprovider on ${engine}`, async (t) => {
    const dir = tmpDir(t);
    const db = await createDatabase(engine);
    t.after(() => db.drop());
    const q = (n: string): string => (engine === 'postgresql' ? `"${n}"` : `\`${n}\``);
    await queryDatabase(db, `CREATE TABLE ${q('schema_version')} (id integer, version integer NOT NULL)`);
    await queryDatabase(db, `INSERT INTO ${q('schema_version')} (id, version) VALUES (1, 33)`);
    await queryDatabase(db, `CREATE TABLE ${q('events_rules')} (id integer)`);
    const r = await sftpgo(['initprovider', '-c', dir], envFor(db), dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^sftpgo: error: .*holds SFTPGo's own schema \(version 33/);
    assert.deepEqual(await versions(db), [33], 'left untouched');
  });
}

test('revertprovider on sqlite; bolt is refused with the way to move its data', async (t) => {
  const dir = tmpDir(t);
  assert.equal((await sftpgo(['initprovider', '-c', dir], {}, dir)).code, 0);
  const r = await sftpgo(['revertprovider', '-c', dir, '--to-version', '0'], {}, dir);
  assert.equal(r.code, 0, r.stderr);
  const again = await sftpgo(['serve', '-c', dir], { SFTPGO_DATA_PROVIDER__UPDATE_MODE: '1' }, dir);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /initprovider/);
  const bolt = await sftpgo(['initprovider', '-c', dir], { SFTPGO_DATA_PROVIDER__DRIVER: 'bolt' }, dir);
  assert.equal(bolt.code, 1);
  assert.match(bolt.stderr, /"bolt" is not supported: export the data from SFTPGo .*--loaddata-from/);
});
