/**
 * Versioned migrations: `sql/<dialect>/NNNN_<name>.sql`, applied in order,
 * each in its own transaction under the engine's migration lock, the reached
 * version recorded in `schema_version` (one row, id 1). Re-running is a no-op;
 * `revert` steps back with the `.down.sql` scripts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FsError } from '../../common/errors';
import { num, SqlContext } from './context';
import { ownSchemaVersion } from './foreign';
import type { SqlDriver } from './dialect';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** `NNNN_<name>.down.sql`: undoes this version (revertprovider); absent means it cannot be reverted. */
  down?: string;
}

/** Finds the repository's `sql/<dialect>` folder from the compiled (dist/src/...) or source location. */
export function findMigrationsDir(dialect: string, start: string = __dirname): string {
  let dir = start;
  for (let i = 0; i < 8; i++) {
    const candidate = path.join(dir, 'sql', dialect);
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new FsError('NotFound', `migrations folder "sql/${dialect}" not found above ${start}`);
}

export function loadMigrations(dir: string): Migration[] {
  const out: Migration[] = [];
  const files = readdirSync(dir);
  for (const file of files) {
    const m = /^(\d{4})_([\w-]+)\.sql$/.exec(file);
    if (!m) continue;
    const downFile = `${m[1]}_${m[2]}.down.sql`;
    out.push({
      version: Number.parseInt(m[1]!, 10), name: m[2]!, sql: readFileSync(path.join(dir, file), 'utf8'),
      down: files.includes(downFile) ? readFileSync(path.join(dir, downFile), 'utf8') : undefined,
    });
  }
  out.sort((a, b) => a.version - b.version);
  for (let i = 0; i < out.length; i++) {
    if (out[i]!.version !== i + 1) throw new FsError('Generic', `migrations in ${dir} are not numbered 1..n without gaps`);
  }
  return out;
}

/** Latest version the shipped migrations reach. */
export function latestVersion(migrations: readonly Migration[]): number {
  return migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
}

/** The migration text for this database: the table prefix substituted. */
function expand(ctx: SqlContext, sql: string): string {
  return sql.replace(/\{\{prefix\}\}/g, ctx.prefix);
}

/**
 * Runs one migration step in a transaction holding the engine's migration
 * lock, so concurrent starters apply each version once. `step` gets a
 * context on the transaction's connection and the version found there.
 */
async function locked(base: SqlContext, driver: SqlDriver, latest: number, step: (tx: SqlContext, current: number) => Promise<void>): Promise<void> {
  await driver.transaction(async (exec) => {
    const tx = new SqlContext(exec, base.dialect, base.prefix);
    if (tx.dialect.migrationLockSql) {
      const got = await tx.get(tx.dialect.migrationLockSql);
      // MySQL's GET_LOCK answers 0 on timeout and NULL on error instead of failing
      if (got && 'locked' in got && num(got.locked) !== 1) throw new FsError('Generic', 'unable to get the migration lock');
    }
    try {
      await step(tx, await ownSchemaVersion(tx, latest));
    } finally {
      if (tx.dialect.migrationUnlockSql) await tx.all(tx.dialect.migrationUnlockSql).catch(() => undefined);
    }
  });
}

/** One row, id 1, holds the version (an upsert: the row exists from the second migration on). */
async function recordVersion(tx: SqlContext, version: number): Promise<void> {
  await tx.run(tx.dialect.upsert(tx.t('schema_version'), ['id', 'version'], ['id'], ['version']), [1, version]);
}

/** Applies pending migrations; returns the versions applied. */
export async function migrate(ctx: SqlContext, driver: SqlDriver, migrations: readonly Migration[]): Promise<number[]> {
  const applied: number[] = [];
  // refuse a foreign schema before anything is written (re-checked under the lock below)
  await ownSchemaVersion(ctx, latestVersion(migrations));
  for (const m of migrations) {
    try {
      await locked(ctx, driver, latestVersion(migrations), async (tx, current) => {
        // re-read under the lock: another process may have migrated meanwhile
        if (current >= m.version) return;
        await tx.exec.script(expand(tx, m.sql));
        await recordVersion(tx, m.version);
        applied.push(m.version);
      });
    } catch (e) {
      throw new FsError('Generic', `migration ${m.version} (${m.name}) failed: ${(e as Error).message}`, e);
    }
  }
  return applied;
}

/**
 * Steps the schema back to `target` one version at a time with each
 * version's down script (revertprovider). Version 0 leaves no table behind.
 */
export async function revert(ctx: SqlContext, driver: SqlDriver, migrations: readonly Migration[], target: number): Promise<number> {
  let reached = await ownSchemaVersion(ctx, latestVersion(migrations));
  if (target < 0 || target > reached) {
    throw new FsError('Generic', `cannot revert to version ${target}: the schema is at version ${reached}`);
  }
  while (reached > target) {
    const m = migrations.find((x) => x.version === reached);
    if (!m?.down) throw new FsError('Unsupported', `schema version ${reached} has no revert script`);
    const down = m.down;
    await locked(ctx, driver, latestVersion(migrations), async (tx, current) => {
      if (current !== m.version) throw new FsError('Generic', `the schema changed meanwhile (now at version ${current})`);
      await tx.exec.script(expand(tx, down));
      // version 1's down script drops schema_version itself
      if (m.version > 1) await recordVersion(tx, m.version - 1);
    });
    reached = m.version - 1;
  }
  return reached;
}
