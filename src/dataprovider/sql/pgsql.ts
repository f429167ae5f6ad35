/**
 * PostgreSQL (and CockroachDB, same wire protocol and SQL here) through
 * node-postgres: a pool of `pool_size` connections; a transaction checks one
 * out for its body. A connection that breaks is dropped from the pool and the
 * next call opens a new one, so the provider recovers when the server is back.
 */
import pg from 'pg';
import type { DataProviderConfig } from '../../config/types';
import { SqlBackend } from './backend';
import type { Row, SqlDriver, SqlExecutor, SqlParam } from './dialect';
import { cockroachDialect, postgresDialect } from './dialects';
import { findMigrationsDir } from './migrate';
import { pgPoolConfig } from './options';

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

function executor(q: Queryable): SqlExecutor {
  return {
    all: async (sql: string, params: readonly SqlParam[] = []): Promise<Row[]> =>
      (await q.query<Row>(sql, [...params])).rows,
    run: async (sql: string, params: readonly SqlParam[] = []) => {
      const r = await q.query(sql, [...params]);
      return { changes: r.rowCount ?? 0, lastInsertId: 0 };
    },
    // the simple query protocol (no parameters) runs a whole script
    script: async (sql: string): Promise<void> => { await q.query(sql); },
  };
}

class PgDriver implements SqlDriver {
  readonly exec: SqlExecutor;

  constructor(private readonly pool: pg.Pool, onIdleError: (err: Error) => void) {
    // an idle connection killed by the server emits here; without a listener the process would crash
    pool.on('error', onIdleError);
    this.exec = executor(pool);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // a checked-out client whose socket dies emits 'error' outside any query
    const onError = (err: Error): void => { broken = err; };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      try {
        const r = await fn(executor(client));
        await client.query('COMMIT');
        return r;
      } catch (e) {
        broken ??= await client.query('ROLLBACK').then(() => undefined, (rollbackError: Error) => rollbackError);
        throw e;
      }
    } catch (e) {
      broken ??= e instanceof Error && postgresDialect.isConnectionError(e) ? e : undefined;
      throw e;
    } finally {
      client.off('error', onError);
      // passing an error destroys the connection instead of returning it to the pool
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

export interface PgOpenOptions {
  config: DataProviderConfig;
  driverName: 'postgresql' | 'cockroachdb';
  onIdleError: (err: Error) => void;
  migrationsDir?: string;
}

export function openPgBackend(opts: PgOpenOptions): SqlBackend {
  const pool = new pg.Pool(pgPoolConfig(opts.config));
  const dialect = opts.driverName === 'cockroachdb' ? cockroachDialect : postgresDialect;
  return new SqlBackend(opts.driverName, new PgDriver(pool, opts.onIdleError), dialect,
    opts.config.sql_tables_prefix, opts.migrationsDir ?? findMigrationsDir('postgresql'));
}
