/**
 * Shared helpers for the SQL stores: prefixed table names, placeholder
 * binding, value decoding and error translation.
 */
import { FsError } from '../../common/errors';
import type { ListOptions } from '../provider';
import { bindPlaceholders, type Dialect, type Row, type SqlExecutor, type SqlParam } from './dialect';

export class SqlContext {
  constructor(readonly exec: SqlExecutor, readonly dialect: Dialect, readonly prefix: string) {}

  /** Quoted, prefixed table name. */
  t(name: string): string {
    return this.dialect.quote(`${this.prefix}${name}`);
  }

  all(sql: string, params: readonly SqlParam[] = []): Promise<Row[]> {
    return this.exec.all(bindPlaceholders(this.dialect, sql), params);
  }

  async get(sql: string, params: readonly SqlParam[] = []): Promise<Row | undefined> {
    const rows = await this.all(sql, params);
    return rows[0];
  }

  run(sql: string, params: readonly SqlParam[] = []): Promise<{ changes: number; lastInsertId: number }> {
    return this.exec.run(bindPlaceholders(this.dialect, sql), params);
  }

  /** Runs an insert/update, mapping a unique violation to AlreadyExists. */
  async write(what: string, sql: string, params: readonly SqlParam[]): Promise<{ changes: number; lastInsertId: number }> {
    try {
      return await this.run(sql, params);
    } catch (e) {
      if (this.dialect.isUniqueViolation(e)) throw new FsError('AlreadyExists', `${what} already exists`, e);
      throw e;
    }
  }

  /** Runs an INSERT (through `write`) and returns the new row's id, however the engine reports it. */
  async insert(what: string, sql: string, params: readonly SqlParam[]): Promise<number> {
    if (!this.dialect.returningId) return (await this.write(what, sql, params)).lastInsertId;
    try {
      const rows = await this.all(`${sql}${this.dialect.returningId}`, params);
      return num(rows[0]?.id);
    } catch (e) {
      if (this.dialect.isUniqueViolation(e)) throw new FsError('AlreadyExists', `${what} already exists`, e);
      throw e;
    }
  }

  order(opts: ListOptions | undefined, col: string): string {
    const dir = opts?.order === 'DESC' ? 'DESC' : 'ASC';
    return ` ORDER BY ${col} ${dir}${this.dialect.limitOffset(opts?.limit, opts?.offset)}`;
  }
}

export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v !== '') {
    const parsed = Number(v);
    return Number.isFinite(parsed) ? parsed : 0;
  }
  return 0;
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v);
}

export function json<T>(v: unknown, fallback: T): T {
  if (typeof v !== 'string' || v === '') return fallback;
  try {
    return JSON.parse(v) as T;
  } catch {
    // a corrupt column must not take the whole listing down
    return fallback;
  }
}

export function toJson(v: unknown): string | null {
  return v === undefined || v === null ? null : JSON.stringify(v);
}

export function orNull(v: string | undefined): string | null {
  return v === undefined || v === '' ? null : v;
}
