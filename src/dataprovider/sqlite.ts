/**
 * SQLite backend: better-sqlite3 (synchronous) behind the async SqlDriver,
 * WAL journal, busy timeout. The queries live in sql/*.ts.
 */
import Database from 'better-sqlite3';
import type { Row, SqlDriver, SqlExecutor, SqlParam } from './sql/dialect';
import { sqliteDialect } from './sql/dialect';
import { SqlBackend } from './sql/backend';
import { findMigrationsDir } from './sql/migrate';

export interface SqliteOptions {
  /** Absolute path of the database file (":memory:" for tests). */
  file: string;
  tablesPrefix?: string;
  busyTimeoutMs?: number;
  migrationsDir?: string;
}

class SqliteDriver implements SqlDriver {
  readonly exec: SqlExecutor;

  constructor(private readonly db: Database.Database) {
    this.exec = {
      all: async (sql: string, params: readonly SqlParam[] = []): Promise<Row[]> =>
        db.prepare(sql).all(...params) as Row[],
      run: async (sql: string, params: readonly SqlParam[] = []) => {
        const r = db.prepare(sql).run(...params);
        return { changes: r.changes, lastInsertId: Number(r.lastInsertRowid) };
      },
      script: async (sql: string): Promise<void> => {
        db.exec(sql);
      },
    };
  }

  // IMMEDIATE takes the write lock up front, so two processes sharing the
  // file cannot both read-then-write and deadlock on upgrade.
  async begin(): Promise<void> { this.db.exec('BEGIN IMMEDIATE'); }
  async commit(): Promise<void> { this.db.exec('COMMIT'); }
  async rollback(): Promise<void> {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }
  async close(): Promise<void> { this.db.close(); }
}

export function openSqliteBackend(opts: SqliteOptions): SqlBackend {
  const db = new Database(opts.file);
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
    if (opts.file !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
  } catch (e) {
    db.close();
    throw e;
  }
  return new SqlBackend('sqlite', new SqliteDriver(db), sqliteDialect, opts.tablesPrefix ?? '',
    opts.migrationsDir ?? findMigrationsDir('sqlite'));
}
