/**
 * What differs between SQL engines, kept in one small object so the queries in
 * sql/*.ts are written once (SQLite today; PostgreSQL/MySQL add a Dialect and
 * a driver, not new queries).
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

/** Connection-level operations a SQL backend needs besides queries. */
export interface SqlDriver {
  readonly exec: SqlExecutor;
  begin(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
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
