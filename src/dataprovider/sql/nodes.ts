/**
 * Cluster nodes and the sessions they hold (schema 6), for data_provider.is_shared 1.
 * Node rows follow SFTPGo's nodes table: name = sha256(host:port), data = JSON,
 * updated_at = heartbeat; a node is active while its heartbeat is fresh.
 */
import type { Row } from './dialect';
import { num, str, type SqlContext } from './context';

export interface NodeRecord { name: string; data: string; created_at: number; updated_at: number }

export interface ClusterStore {
  /** inserts or refreshes this node's row (a restart gets a new key) */
  upsertNode(name: string, data: string, nowMs: number): Promise<void>;
  /** heartbeat; false when the row is gone (someone cleaned it up): the caller registers again */
  touchNode(name: string, nowMs: number): Promise<boolean>;
  /** nodes whose heartbeat is newer than `activeSinceMs`, `exclude` left out */
  listNodes(activeSinceMs: number, exclude: string): Promise<NodeRecord[]>;
  getNode(name: string, activeSinceMs: number): Promise<NodeRecord | undefined>;
  /** forgets nodes (and their sessions) silent since before `beforeMs` */
  cleanupNodes(beforeMs: number): Promise<void>;
  addSession(connectionId: string, node: string, username: string, nowMs: number): Promise<void>;
  removeSession(connectionId: string): Promise<void>;
  /** drops what a previous run of this node left (it crashed before removing its sessions) */
  clearSessions(node: string): Promise<void>;
  /** the user's sessions on every active node */
  countSessions(username: string, activeSinceMs: number): Promise<number>;
}

const COLS = 'name, data, created_at, updated_at';

function toNode(r: Row): NodeRecord {
  return { name: str(r.name), data: str(r.data), created_at: num(r.created_at), updated_at: num(r.updated_at) };
}

type Op = <T>(fn: (c: SqlContext) => Promise<T>) => Promise<T>;

/** The ClusterStore of a SqlBackend; `op` tracks availability as every other store call. */
export function sqlClusterStore(op: Op): ClusterStore {
  return {
    upsertNode: (name, data, now) => op(async (c) => {
      await c.run(c.dialect.upsert(c.t('nodes'), ['name', 'data', 'created_at', 'updated_at'], ['name'], ['data', 'updated_at']),
        [name, data, now, now]);
    }),
    touchNode: (name, now) => op(async (c) => {
      const r = await c.run(`UPDATE ${c.t('nodes')} SET updated_at = ? WHERE name = ?`, [now, name]);
      return r.changes > 0;
    }),
    listNodes: (since, exclude) => op(async (c) => {
      const rows = await c.all(`SELECT ${COLS} FROM ${c.t('nodes')} WHERE name <> ? AND updated_at > ? ORDER BY name`, [exclude, since]);
      return rows.map(toNode);
    }),
    getNode: (name, since) => op(async (c) => {
      const r = await c.get(`SELECT ${COLS} FROM ${c.t('nodes')} WHERE name = ? AND updated_at > ?`, [name, since]);
      return r ? toNode(r) : undefined;
    }),
    cleanupNodes: (before) => op(async (c) => {
      await c.run(`DELETE FROM ${c.t('node_sessions')} WHERE node IN (SELECT name FROM ${c.t('nodes')} WHERE updated_at < ?)`, [before]);
      await c.run(`DELETE FROM ${c.t('nodes')} WHERE updated_at < ?`, [before]);
    }),
    addSession: (id, node, username, now) => op(async (c) => {
      await c.run(`INSERT INTO ${c.t('node_sessions')} (connection_id, node, username, created_at) VALUES (?, ?, ?, ?)`, [id, node, username, now]);
    }),
    removeSession: (id) => op(async (c) => { await c.run(`DELETE FROM ${c.t('node_sessions')} WHERE connection_id = ?`, [id]); }),
    clearSessions: (node) => op(async (c) => { await c.run(`DELETE FROM ${c.t('node_sessions')} WHERE node = ?`, [node]); }),
    countSessions: (username, since) => op(async (c) => {
      const r = await c.get(`SELECT COUNT(*) AS n FROM ${c.t('node_sessions')} s JOIN ${c.t('nodes')} n ON n.name = s.node ` +
        'WHERE s.username = ? AND n.updated_at > ?', [username, since]);
      return num(r?.n);
    }),
  };
}
