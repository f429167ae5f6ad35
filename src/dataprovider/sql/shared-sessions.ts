/**
 * The shared web state rows (schema 9, SFTPGo's shared_sessions table): see
 * dataprovider/shared-sessions.ts. Single use rests on DELETE reporting how
 * many rows it removed: of concurrent deletes of one row, one counts 1.
 */
import { num, str, type SqlContext } from './context';
import type { SharedSession, SharedSessionKind, SharedSessionStore } from '../shared-sessions';

type Op = <T>(fn: (c: SqlContext) => Promise<T>) => Promise<T>;

export function sqlSharedSessionStore(op: Op): SharedSessionStore {
  // "key" and "timestamp" are keywords on some engines
  const cols = (c: SqlContext): { key: string; ts: string } => ({ key: c.dialect.quote('key'), ts: c.dialect.quote('timestamp') });
  return {
    putSession: (s) => op(async (c) => {
      const { key, ts } = cols(c);
      // replace: delete then insert in one transaction-free pair is racy only against the same key, which is random
      await c.run(`DELETE FROM ${c.t('shared_sessions')} WHERE ${key} = ? AND type = ?`, [s.key, s.type]);
      await c.run(`INSERT INTO ${c.t('shared_sessions')} (${key}, type, data, ${ts}) VALUES (?, ?, ?, ?)`, [s.key, s.type, s.data, s.expiresAt]);
    }),
    getSession: (k, type, nowMs) => op(async (c) => {
      const { key, ts } = cols(c);
      const r = await c.get(`SELECT data, ${ts} AS expires_at FROM ${c.t('shared_sessions')} WHERE ${key} = ? AND type = ? AND ${ts} > ?`, [k, type, nowMs]);
      return r && { key: k, type, data: str(r.data), expiresAt: num(r.expires_at) } satisfies SharedSession;
    }),
    deleteSession: (k, type) => op(async (c) => {
      const r = await c.run(`DELETE FROM ${c.t('shared_sessions')} WHERE ${cols(c).key} = ? AND type = ?`, [k, type]);
      return r.changes > 0;
    }),
    deleteExpiredSessions: (type, nowMs) => op(async (c) => {
      await c.run(`DELETE FROM ${c.t('shared_sessions')} WHERE type = ? AND ${cols(c).ts} <= ?`, [type, nowMs]);
    }),
    countSessions: (type: SharedSessionKind) => op(async (c) => {
      const r = await c.get(`SELECT COUNT(*) AS n FROM ${c.t('shared_sessions')} WHERE type = ?`, [type]);
      return num(r?.n);
    }),
  };
}
