/**
 * SQLite backend: better-sqlite3 (synchronous) behind the async SqlDriver,
 * WAL journal, busy timeout. The queries live in sql/*.ts. One connection,
 * so one writer: a transaction holds the operation queue for its whole body
 * and single statements queue behind it (pooled engines have no such queue).
 */
import Database from 'better-sqlite3';
import type { Row, SqlDriver, SqlExecutor, SqlParam } from './sql/dialect';
import { sqliteDialect } from './sql/dialect';
import { SqlBackend } from './sql/backend';
import { findMigrationsDir } from './sql/migrate';
import { OperationQueue } from './lock';

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
  /** The transaction's view: the same connection, without the queue (the body already holds it). */
  private readonly direct: SqlExecutor;
  private readonly queue = new OperationQueue();
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
    this.direct = {
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
    const direct = this.direct;
    this.exec = {
      all: (sql, params) => this.queue.run(() => direct.all(sql, params)),
      run: (sql, params) => this.queue.run(() => direct.run(sql, params)),
      script: (sql) => this.queue.run(() => direct.script(sql)),
    };
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.queue.exclusive(async () => {
      // IMMEDIATE takes the write lock up front, so two processes sharing the
      // file cannot both read-then-write and deadlock on upgrade.
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const r = await fn(this.direct);
        this.db.exec('COMMIT');
        return r;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    });
  }

  async close(): Promise<void> {
    await this.queue.run(async () => {
      this.statements.clear();
      this.db.close();
    });
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
