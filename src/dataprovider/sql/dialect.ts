/**
 * What differs between SQL engines, kept in one small object so the queries in
 * sql/*.ts are written once: SQLite here, PostgreSQL and MySQL in dialects.ts.
 * An engine adds a Dialect and a driver, not new queries.
 */

export type Row = Record<string, unknown>;
export type SqlParam = string | number | bigint | null | Buffer;

/** Minimal async access to one connection (or a pool outside transactions). */
export interface SqlExecutor {
  all(sql: string, params?: readonly SqlParam[]): Promise<Row[]>;
  run(sql: string, params?: readonly SqlParam[]): Promise<{ changes: number; lastInsertId: number }>;
  /** Runs a multi-statement script (migrations). */
  script(sql: string): Promise<void>;
}

/**
 * A database handle. `exec` runs single statements outside any transaction
 * (a pooled driver takes any free connection, so callers never queue behind
 * each other); `transaction` pins one connection for fn's whole body.
 */
export interface SqlDriver {
  readonly exec: SqlExecutor;
  /** BEGIN on one connection, fn, COMMIT; ROLLBACK (and rethrow) when fn throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface Dialect {
  readonly name: 'sqlite' | 'postgresql' | 'mysql';
  /** Placeholder for the n-th parameter (1-based): `?` or `$n`. */
  placeholder(n: number): string;
  /** Quotes an identifier (table or column name). */
  quote(ident: string): string;
  /** Column type used for JSON documents in migrations. */
  readonly jsonType: string;
  /** `LIMIT/OFFSET` clause; empty when neither is set. */
  limitOffset(limit?: number, offset?: number): string;
  /** INSERT that updates `updateCols` when `conflictCols` already exist. Uses `?` placeholders. */
  upsert(table: string, cols: readonly string[], conflictCols: readonly string[], updateCols: readonly string[]): string;
  /** True when the error is a unique-constraint violation. */
  isUniqueViolation(err: unknown): boolean;
  /** Query returning a row when the table (one `?` parameter, full name) exists. */
  readonly tableExistsSql: string;
  /** Appended to an INSERT so it yields the new row's id as column `id` (PostgreSQL); empty where the driver reports it. */
  readonly returningId: string;
  /**
   * Statement run first in a migration transaction so two processes starting
   * together migrate one after the other (empty: the engine's BEGIN already serializes).
   */
  readonly migrationLockSql: string;
  /** Releases what migrationLockSql took when the transaction end does not (empty otherwise). */
  readonly migrationUnlockSql: string;
  /** First statement of a transaction that must read one consistent snapshot (a dump); empty when the engine's default does. */
  readonly snapshotSql: string;
  /** True when the error means the server cannot be reached (refused, reset, timed out, shutting down). */
  isConnectionError(err: unknown): boolean;
}

/** Node socket error codes that mean the database went away. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH',
  'PROTOCOL_CONNECTION_LOST', 'EAI_AGAIN']);

export function isNetworkError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (typeof e?.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  const msg = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|Pool is closed/i.test(msg);
}

function positiveInt(v: number | undefined): number | undefined {
  return v !== undefined && Number.isInteger(v) && v >= 0 ? v : undefined;
}

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  placeholder: () => '?',
  quote: (ident) => `"${ident.replace(/"/g, '""')}"`,
  jsonType: 'TEXT',
  limitOffset(limit, offset) {
    const l = positiveInt(limit);
    const o = positiveInt(offset);
    if (l === undefined && !o) return '';
    return ` LIMIT ${l ?? -1}${o ? ` OFFSET ${o}` : ''}`;
  },
  upsert(table, cols, conflictCols, updateCols) {
    const q = (c: string): string => sqliteDialect.quote(c);
    return `INSERT INTO ${table} (${cols.map(q).join(', ')}) VALUES (${cols.map(() => '?').join(', ')}) ` +
      `ON CONFLICT (${conflictCols.map(q).join(', ')}) DO UPDATE SET ` +
      updateCols.map((c) => `${q(c)} = excluded.${q(c)}`).join(', ');
  },
  isUniqueViolation(err) {
    const code = (err as { code?: unknown } | null)?.code;
    return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  },
  tableExistsSql: `SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?`,
  returningId: '',
  migrationLockSql: '',
  migrationUnlockSql: '',
  // one connection, and the dump holds the write lock: nothing changes under it
  snapshotSql: '',
  // an embedded file: only SQLITE_CANTOPEN/IOERR mean it is gone
  isConnectionError(err) {
    const code = (err as { code?: unknown } | null)?.code;
    return typeof code === 'string' && /^SQLITE_(CANTOPEN|IOERR)/.test(code);
  },
};

/**
 * Rewrites `?` placeholders for the dialect. Queries in this folder never put
 * a literal `?` inside strings, so a plain scan is enough.
 */
export function bindPlaceholders(d: Dialect, sql: string): string {
  if (d.placeholder(1) === '?') return sql;
  let n = 0;
  return sql.replace(/\?/g, () => d.placeholder(++n));
}
