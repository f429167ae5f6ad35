/**
 * MySQL and MariaDB through mysql2: a pool of `pool_size` connections,
 * parameters interpolated client-side (as SFTPGo's interpolateParams), found
 * rows (not changed rows) reported for UPDATE so "no such row" is told apart
 * from "nothing changed". A broken connection leaves the pool; the next call
 * opens a new one.
 */
import mysql from 'mysql2/promise';
import type { DataProviderConfig } from '../../config/types';
import { SqlBackend } from './backend';
import type { Row, SqlDriver, SqlExecutor, SqlParam } from './dialect';
import { mysqlDialect } from './dialects';
import { findMigrationsDir } from './migrate';
import { mysqlPoolOptions, QUERY_TIMEOUT_MS } from './options';

type Queryable = Pick<mysql.Pool, 'query'> | Pick<mysql.PoolConnection, 'query'>;

function isHeader(v: unknown): v is mysql.ResultSetHeader {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'affectedRows' in v;
}

/** Splits a migration script into statements: they end with `;` at the end of a line. */
function statements(script: string): string[] {
  return script.split(/;\s*$/m).map((s) => s.replace(/^\s*--.*$/gm, '').trim()).filter((s) => s !== '');
}

function executor(q: Queryable): SqlExecutor {
  return {
    all: async (sql: string, params: readonly SqlParam[] = []): Promise<Row[]> => {
      const [rows] = await q.query({ sql, values: [...params], timeout: QUERY_TIMEOUT_MS });
      return Array.isArray(rows) ? (rows as Row[]) : [];
    },
    run: async (sql: string, params: readonly SqlParam[] = []) => {
      const [res] = await q.query({ sql, values: [...params], timeout: QUERY_TIMEOUT_MS });
      return isHeader(res) ? { changes: res.affectedRows, lastInsertId: res.insertId } : { changes: 0, lastInsertId: 0 };
    },
    script: async (sql: string): Promise<void> => {
      for (const st of statements(sql)) await q.query({ sql: st, timeout: QUERY_TIMEOUT_MS });
    },
  };
}

class MysqlDriver implements SqlDriver {
  readonly exec: SqlExecutor;

  constructor(private readonly pool: mysql.Pool, onIdleError: (err: Error) => void) {
    // mysql2 removes a connection from the pool on its first error but listens only once: keep a listener for later ones
    pool.pool.on('connection', (conn) => { conn.on('error', onIdleError); });
    this.exec = executor(pool);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const conn = await this.pool.getConnection();
    let broken = false;
    try {
      await conn.query('START TRANSACTION');
      try {
        const r = await fn(executor(conn));
        await conn.query('COMMIT');
        return r;
      } catch (e) {
        await conn.query('ROLLBACK').catch(() => { broken = true; });
        throw e;
      }
    } catch (e) {
      if (mysqlDialect.isConnectionError(e)) broken = true;
      throw e;
    } finally {
      // a connection in an unknown state is closed rather than handed to the next caller
      if (broken) conn.destroy();
      else conn.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

export interface MysqlOpenOptions {
  config: DataProviderConfig;
  onIdleError: (err: Error) => void;
  migrationsDir?: string;
}

export function openMysqlBackend(opts: MysqlOpenOptions): SqlBackend {
  const pool = mysql.createPool(mysqlPoolOptions(opts.config));
  return new SqlBackend('mysql', new MysqlDriver(pool, opts.onIdleError), mysqlDialect, opts.config.sql_tables_prefix,
    opts.migrationsDir ?? findMigrationsDir('mysql'));
}
