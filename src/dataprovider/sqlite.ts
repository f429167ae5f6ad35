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

/**
 * Prepared statements kept per SQL text: preparing costs more than running
 * the small queries a login makes (a profile of 200 logins: 0.25 ms each in
 * prepare). Bounded, oldest first out, for the few queries built with
 * variable text (lists with their ORDER BY).
 */
const MAX_CACHED_STATEMENTS = 256;

class SqliteDriver implements SqlDriver {
  readonly exec: SqlExecutor;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {
    const prepared = (sql: string): Database.Statement => {
      let st = this.statements.get(sql);
      if (!st) {
        st = db.prepare(sql);
        if (this.statements.size >= MAX_CACHED_STATEMENTS) {
          const oldest = this.statements.keys().next();
          if (!oldest.done) this.statements.delete(oldest.value);
        }
        this.statements.set(sql, st);
      }
      return st;
    };
    this.exec = {
      all: async (sql: string, params: readonly SqlParam[] = []): Promise<Row[]> =>
        prepared(sql).all(...params) as Row[],
      run: async (sql: string, params: readonly SqlParam[] = []) => {
        const r = prepared(sql).run(...params);
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
  async close(): Promise<void> {
    this.statements.clear();
    this.db.close();
  }
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
