/**
 * Versioned migrations: `sql/<dialect>/NNNN_<name>.sql`, applied in order,
 * each in its own transaction, the reached version recorded in
 * `schema_version` (one row, id 1). Re-running is a no-op.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FsError } from '../../common/errors';
import type { SqlContext } from './context';
import { num } from './context';
import type { SqlDriver } from './dialect';

export interface Migration { version: number; name: string; sql: string }

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
  for (const file of readdirSync(dir)) {
    const m = /^(\d{4})_([\w-]+)\.sql$/.exec(file);
    if (!m) continue;
    out.push({ version: Number.parseInt(m[1]!, 10), name: m[2]!, sql: readFileSync(path.join(dir, file), 'utf8') });
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

export async function currentVersion(ctx: SqlContext): Promise<number> {
  const table = `${ctx.prefix}schema_version`;
  const exists = await ctx.get(ctx.dialect.tableExistsSql, [table]);
  if (!exists) return 0;
  const r = await ctx.get(`SELECT MAX(version) AS v FROM ${ctx.t('schema_version')}`);
  return num(r?.v);
}

/** Applies pending migrations; returns the versions applied. */
export async function migrate(ctx: SqlContext, driver: SqlDriver, migrations: readonly Migration[]): Promise<number[]> {
  const applied: number[] = [];
  for (const m of migrations) {
    await driver.begin();
    try {
      // re-read inside the transaction: another process may have migrated meanwhile
      if ((await currentVersion(ctx)) >= m.version) {
        await driver.commit();
        continue;
      }
      await ctx.exec.script(m.sql.replace(/\{\{prefix\}\}/g, ctx.prefix));
      await ctx.run(ctx.dialect.upsert(ctx.t('schema_version'), ['id', 'version'], ['id'], ['version']), [1, m.version]);
      await driver.commit();
      applied.push(m.version);
    } catch (e) {
      await driver.rollback();
      throw new FsError('Generic', `migration ${m.version} (${m.name}) failed: ${(e as Error).message}`, e);
    }
  }
  return applied;
}
