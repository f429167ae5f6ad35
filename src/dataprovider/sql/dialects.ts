/**
 * PostgreSQL (also used for CockroachDB) and MySQL/MariaDB dialects. The
 * queries in this folder are shared; only what is listed in `Dialect` differs.
 */
import { type Dialect, isNetworkError } from './dialect';

function nonNegativeInt(v: number | undefined): number | undefined {
  return v !== undefined && Number.isInteger(v) && v >= 0 ? v : undefined;
}

function errorCode(err: unknown): unknown {
  return (err as { code?: unknown } | null)?.code;
}

/** A fixed key for pg_advisory_xact_lock: every sftpgo-ts process migrating the same database waits on it. */
const PG_MIGRATION_LOCK_KEY = 7_353_460_121;

/** PostgreSQL SQLSTATE classes meaning the server is unavailable (57P01 admin shutdown, 57P03 cannot connect now, 08xxx connection exceptions). */
function isPgUnavailable(err: unknown): boolean {
  const code = errorCode(err);
  return typeof code === 'string' && (/^08/.test(code) || code === '57P01' || code === '57P02' || code === '57P03');
}

export const postgresDialect: Dialect = {
  name: 'postgresql',
  placeholder: (n) => `$${n}`,
  quote: (ident) => `"${ident.replace(/"/g, '""')}"`,
  jsonType: 'TEXT',
  limitOffset(limit, offset) {
    const l = nonNegativeInt(limit);
    const o = nonNegativeInt(offset);
    if (l === undefined && !o) return '';
    return `${l === undefined ? '' : ` LIMIT ${l}`}${o ? ` OFFSET ${o}` : ''}`;
  },
  upsert(table, cols, conflictCols, updateCols) {
    const q = (c: string): string => postgresDialect.quote(c);
    return `INSERT INTO ${table} (${cols.map(q).join(', ')}) VALUES (${cols.map(() => '?').join(', ')}) ` +
      `ON CONFLICT (${conflictCols.map(q).join(', ')}) DO UPDATE SET ` +
      updateCols.map((c) => `${q(c)} = EXCLUDED.${q(c)}`).join(', ');
  },
  isUniqueViolation: (err) => errorCode(err) === '23505',
  tableExistsSql: 'SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = ?',
  returningId: ' RETURNING id',
  migrationLockSql: `SELECT pg_advisory_xact_lock(${PG_MIGRATION_LOCK_KEY})`,
  migrationUnlockSql: '',
  // READ COMMITTED (the default) would let each SELECT of a dump see a different state
  snapshotSql: 'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY',
  isConnectionError: (err) => isNetworkError(err) || isPgUnavailable(err),
};

/**
 * CockroachDB speaks PostgreSQL's protocol and this SQL, but has no advisory
 * locks (SFTPGo takes none there either): its serializable transactions make
 * a concurrent migration fail and be retried by the next start instead.
 */
export const cockroachDialect: Dialect = { ...postgresDialect, migrationLockSql: '' };

/** MySQL wants a LIMIT whenever there is an OFFSET: its documented "all rows" value. */
const MYSQL_NO_LIMIT = '18446744073709551615';
/** Server errors meaning the connection is gone or the server is shutting down. */
const MYSQL_UNAVAILABLE = new Set(['ER_SERVER_SHUTDOWN', 'ER_CON_COUNT_ERROR', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ECONNREFUSED']);

export const mysqlDialect: Dialect = {
  name: 'mysql',
  placeholder: () => '?',
  quote: (ident) => `\`${ident.replace(/`/g, '``')}\``,
  jsonType: 'LONGTEXT',
  limitOffset(limit, offset) {
    const l = nonNegativeInt(limit);
    const o = nonNegativeInt(offset);
    if (l === undefined && !o) return '';
    return ` LIMIT ${l ?? MYSQL_NO_LIMIT}${o ? ` OFFSET ${o}` : ''}`;
  },
  upsert(table, cols, _conflictCols, updateCols) {
    // MySQL picks the conflicting unique key itself
    const q = (c: string): string => mysqlDialect.quote(c);
    return `INSERT INTO ${table} (${cols.map(q).join(', ')}) VALUES (${cols.map(() => '?').join(', ')}) ` +
      `ON DUPLICATE KEY UPDATE ${updateCols.map((c) => `${q(c)} = VALUES(${q(c)})`).join(', ')}`;
  },
  isUniqueViolation: (err) => errorCode(err) === 'ER_DUP_ENTRY',
  tableExistsSql: 'SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?',
  returningId: '',
  // GET_LOCK is per session and survives COMMIT (DDL commits implicitly in MySQL): released explicitly
  migrationLockSql: `SELECT GET_LOCK('sftpgo_ts_migrations', 60) AS locked`,
  migrationUnlockSql: `SELECT RELEASE_LOCK('sftpgo_ts_migrations') AS released`,
  // InnoDB's default REPEATABLE READ reads one snapshot from the first SELECT on
  snapshotSql: '',
  isConnectionError: (err) => {
    const code = errorCode(err);
    return isNetworkError(err) || (typeof code === 'string' && MYSQL_UNAVAILABLE.has(code)) ||
      (err as { fatal?: unknown } | null)?.fatal === true;
  },
};
