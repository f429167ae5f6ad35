/**
 * Throw-away databases on the PostgreSQL and MariaDB/MySQL services the CI
 * starts (.ci/run): each test gets a uniquely named database and drops it
 * afterwards, failure or not. An unreachable server fails the test with a
 * message saying which service is missing; it never skips.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import mysql from 'mysql2/promise';
import type { DataProviderConfig } from '../../src/config/types';

export type SqlEngine = 'postgresql' | 'mysql';

interface Server { host: string; port: number; user: string }

export function serverOf(engine: SqlEngine): Server {
  return engine === 'postgresql'
    ? { host: process.env.SFTPGO_TEST_PG_HOST ?? '127.0.0.1', port: Number(process.env.SFTPGO_TEST_PG_PORT ?? 5432), user: 'postgres' }
    : { host: process.env.SFTPGO_TEST_MYSQL_HOST ?? '127.0.0.1', port: Number(process.env.SFTPGO_TEST_MYSQL_PORT ?? 3306), user: 'root' };
}

function unreachable(engine: SqlEngine, s: Server, err: unknown): Error {
  const what = engine === 'postgresql' ? 'PostgreSQL (user postgres, trust)' : 'MariaDB/MySQL (user root, no password)';
  return new Error(`${what} is not reachable at ${s.host}:${s.port}: ${(err as Error).message}. ` +
    'These tests need the database services that .ci/run starts; they do not skip.');
}

/** Runs one administrative statement on the server (no database selected). */
async function admin(engine: SqlEngine, sql: string): Promise<void> {
  const s = serverOf(engine);
  if (engine === 'postgresql') {
    const client = new pg.Client({ host: s.host, port: s.port, user: s.user, database: 'postgres', connectionTimeoutMillis: 10_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (e) {
      throw unreachable(engine, s, e);
    }
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
    return;
  }
  let conn: mysql.Connection;
  try {
    conn = await mysql.createConnection({ host: s.host, port: s.port, user: s.user, connectTimeout: 10_000 });
  } catch (e) {
    throw unreachable(engine, s, e);
  }
  conn.on('error', () => undefined);
  try {
    await conn.query(sql);
  } finally {
    await conn.end();
  }
}

export interface TestDatabase {
  engine: SqlEngine;
  name: string;
  /** data_provider keys pointing at this database */
  config: Partial<DataProviderConfig>;
  drop(): Promise<void>;
}

/** Creates an empty database named sftpgo_ts_test_<random>. */
export async function createDatabase(engine: SqlEngine): Promise<TestDatabase> {
  const name = `sftpgo_ts_test_${randomBytes(6).toString('hex')}`;
  const s = serverOf(engine);
  await admin(engine, engine === 'postgresql' ? `CREATE DATABASE "${name}"` : `CREATE DATABASE \`${name}\``);
  let dropped = false;
  return {
    engine,
    name,
    config: { driver: engine, name, host: s.host, port: s.port, username: s.user, password: '', sslmode: 0 },
    async drop() {
      if (dropped) return;
      dropped = true;
      // FORCE: a connection a failed test left open must not keep the database alive
      await admin(engine, engine === 'postgresql' ? `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)` : `DROP DATABASE IF EXISTS \`${name}\``);
    },
  };
}

/** One statement on its own PostgreSQL connection (closed afterwards, failure or not). */
export async function pgQuery(config: pg.ClientConfig, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client(config);
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(sql)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

/** Runs SQL inside a test database (to plant foreign tables, inspect rows). */
export async function queryDatabase(db: TestDatabase, sql: string): Promise<Record<string, unknown>[]> {
  const s = serverOf(db.engine);
  if (db.engine === 'postgresql') return pgQuery({ host: s.host, port: s.port, user: s.user, database: db.name }, sql);
  const conn = await mysql.createConnection({ host: s.host, port: s.port, user: s.user, database: db.name, multipleStatements: true });
  conn.on('error', () => undefined);
  try {
    const [rows] = await conn.query(sql);
    return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
  } finally {
    await conn.end();
  }
}
