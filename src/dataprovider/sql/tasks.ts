/**
 * The schedule lock rows (schema 8, SFTPGo's tasks table): see
 * dataprovider/task-lock.ts for the protocol. The claim reads the row, then
 * updates it only if its version is still the one read, so of two nodes
 * claiming the same minute exactly one sees a changed row; a first claim
 * is an INSERT, and the node losing that race gets a unique violation.
 */
import { num, str, type SqlContext } from './context';
import { claimable, type TaskLockStore, type TaskRecord } from '../task-lock';

type Op = <T>(fn: (c: SqlContext) => Promise<T>) => Promise<T>;

export function sqlTaskLockStore(op: Op): TaskLockStore {
  const read = (c: SqlContext, name: string): Promise<TaskRecord | undefined> =>
    c.get(`SELECT name, updated_at, version, last_minute FROM ${c.t('tasks')} WHERE name = ?`, [name])
      .then((r) => r && { name: str(r.name), updated_at: num(r.updated_at), version: num(r.version), last_minute: num(r.last_minute) });
  return {
    claimTask: (req) => op(async (c) => {
      const row = await read(c, req.name);
      if (!row) {
        try {
          await c.run(`INSERT INTO ${c.t('tasks')} (name, updated_at, version, last_minute) VALUES (?, ?, 1, ?)`, [req.name, req.nowMs, req.minute]);
          return 1;
        } catch (e) {
          if (c.dialect.isUniqueViolation(e)) return undefined;
          throw e;
        }
      }
      if (!claimable(row, req)) return undefined;
      const r = await c.run(`UPDATE ${c.t('tasks')} SET updated_at = ?, version = version + 1, last_minute = ? WHERE name = ? AND version = ?`,
        [req.nowMs, req.minute, req.name, row.version]);
      return r.changes > 0 ? row.version + 1 : undefined;
    }),
    touchTask: (name, version, now) => op(async (c) => {
      const r = await c.run(`UPDATE ${c.t('tasks')} SET updated_at = ? WHERE name = ? AND version = ?`, [now, name, version]);
      return r.changes > 0;
    }),
    releaseTask: (name, version) => op(async (c) => {
      await c.run(`UPDATE ${c.t('tasks')} SET updated_at = 0 WHERE name = ? AND version = ?`, [name, version]);
    }),
    getTask: (name) => op((c) => read(c, name)),
    deleteTask: (name) => op(async (c) => { await c.run(`DELETE FROM ${c.t('tasks')} WHERE name = ?`, [name]); }),
  };
}
