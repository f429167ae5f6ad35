/**
 * IP lists and defender records on SQL (tables from migration 0002). Plain
 * SQL (unquoted column names, as the other stores) plus the dialect's upsert,
 * so PostgreSQL/MySQL reuse it with their DDL.
 */
import { FsError } from '../../common/errors';
import type { DefenderHostRecord, IpListEntry, IpListQuery, IpListType, PerimeterStore } from '../iplist';
import { isIpListType } from '../iplist';
import type { Row, SqlParam } from './dialect';
import { num, str, type SqlContext } from './context';

const LIST_COLS = 'type, ipornet, mode, description, protocols, created_at, updated_at';

function toEntry(r: Row): IpListEntry {
  const type = num(r.type);
  const e: IpListEntry = {
    ipornet: str(r.ipornet), type: isIpListType(type) ? type : 1, mode: num(r.mode), protocols: num(r.protocols),
    created_at: num(r.created_at), updated_at: num(r.updated_at),
  };
  const d = str(r.description);
  if (d) e.description = d;
  return e;
}

export async function listIpListEntries(c: SqlContext, type: IpListType, q?: IpListQuery): Promise<IpListEntry[]> {
  const where = ['type = ?'];
  const params: SqlParam[] = [type];
  if (q?.filter) {
    // prefix match without LIKE wildcards from the input: a range on the text
    where.push('ipornet >= ? AND ipornet < ?');
    params.push(q.filter, `${q.filter}\uffff`);
  }
  if (q?.from) {
    where.push(q.order === 'DESC' ? 'ipornet < ?' : 'ipornet > ?');
    params.push(q.from);
  }
  const dir = q?.order === 'DESC' ? 'DESC' : 'ASC';
  const limit = q?.limit !== undefined && q.limit > 0 ? c.dialect.limitOffset(q.limit) : '';
  const rows = await c.all(`SELECT ${LIST_COLS} FROM ${c.t('ip_lists')} WHERE ${where.join(' AND ')} ORDER BY ipornet ${dir}${limit}`, params);
  return rows.map(toEntry);
}

export async function getIpListEntry(c: SqlContext, type: IpListType, ipornet: string): Promise<IpListEntry | undefined> {
  const r = await c.get(`SELECT ${LIST_COLS} FROM ${c.t('ip_lists')} WHERE type = ? AND ipornet = ?`, [type, ipornet]);
  return r ? toEntry(r) : undefined;
}

export async function addIpListEntry(c: SqlContext, e: IpListEntry): Promise<void> {
  await c.write(`IP list entry ${e.ipornet}`, `INSERT INTO ${c.t('ip_lists')} (${LIST_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    [e.type, e.ipornet, e.mode, e.description ?? null, e.protocols, e.created_at, e.updated_at]);
}

export async function updateIpListEntry(c: SqlContext, e: IpListEntry): Promise<void> {
  const r = await c.run(`UPDATE ${c.t('ip_lists')} SET mode = ?, description = ?, protocols = ?, updated_at = ? WHERE type = ? AND ipornet = ?`,
    [e.mode, e.description ?? null, e.protocols, e.updated_at, e.type, e.ipornet]);
  if (r.changes === 0) throw new FsError('NotFound', `IP list entry ${e.ipornet} does not exist`);
}

export async function deleteIpListEntry(c: SqlContext, type: IpListType, ipornet: string): Promise<void> {
  const r = await c.run(`DELETE FROM ${c.t('ip_lists')} WHERE type = ? AND ipornet = ?`, [type, ipornet]);
  if (r.changes === 0) throw new FsError('NotFound', `IP list entry ${ipornet} does not exist`);
}

async function hostRecord(c: SqlContext, ip: string, nowMs: number, fromMs: number): Promise<DefenderHostRecord | undefined> {
  const r = await c.get(`SELECT h.ip, h.ban_time, (SELECT COALESCE(SUM(e.score), 0) FROM ${c.t('defender_events')} e ` +
    `WHERE e.host_id = h.id AND e.date_time > ?) AS score FROM ${c.t('defender_hosts')} h WHERE h.ip = ?`, [fromMs, ip]);
  if (!r) return undefined;
  const ban = num(r.ban_time);
  return { ip: str(r.ip), score: num(r.score), ban_time: ban > nowMs ? ban : 0 };
}

export async function addDefenderEvent(c: SqlContext, ip: string, score: number, nowMs: number, fromMs: number): Promise<DefenderHostRecord> {
  await c.run(c.dialect.upsert(c.t('defender_hosts'), ['ip', 'ban_time', 'updated_at'], ['ip'], ['updated_at']), [ip, 0, nowMs]);
  const host = await c.get(`SELECT id FROM ${c.t('defender_hosts')} WHERE ip = ?`, [ip]);
  await c.run(`INSERT INTO ${c.t('defender_events')} (date_time, score, host_id) VALUES (?, ?, ?)`, [nowMs, score, num(host?.id)]);
  return (await hostRecord(c, ip, nowMs, fromMs)) ?? { ip, score, ban_time: 0 };
}

export async function setDefenderBanTime(c: SqlContext, ip: string, banTimeMs: number): Promise<void> {
  await c.run(`UPDATE ${c.t('defender_hosts')} SET ban_time = ? WHERE ip = ?`, [banTimeMs, ip]);
  // the score starts again once the ban ends (SFTPGo's memory driver forgets the host's events)
  await c.run(`DELETE FROM ${c.t('defender_events')} WHERE host_id IN (SELECT id FROM ${c.t('defender_hosts')} WHERE ip = ?)`, [ip]);
}

export async function extendDefenderBan(c: SqlContext, ip: string, nowMs: number, incrementMs: number): Promise<number> {
  const r = await c.run(`UPDATE ${c.t('defender_hosts')} SET ban_time = ban_time + ? WHERE ip = ? AND ban_time > ?`, [incrementMs, ip, nowMs]);
  if (r.changes === 0) return 0;
  const row = await c.get(`SELECT ban_time FROM ${c.t('defender_hosts')} WHERE ip = ?`, [ip]);
  return num(row?.ban_time);
}

export async function listDefenderHosts(c: SqlContext, nowMs: number, fromMs: number, limit: number): Promise<DefenderHostRecord[]> {
  const rows = await c.all(`SELECT h.ip, h.ban_time, (SELECT COALESCE(SUM(e.score), 0) FROM ${c.t('defender_events')} e ` +
    `WHERE e.host_id = h.id AND e.date_time > ?) AS score FROM ${c.t('defender_hosts')} h ` +
    `WHERE h.ban_time > ? OR h.updated_at > ? ORDER BY h.updated_at DESC${c.dialect.limitOffset(limit)}`, [fromMs, nowMs, fromMs]);
  return rows.map((r) => ({ ip: str(r.ip), score: num(r.score), ban_time: num(r.ban_time) > nowMs ? num(r.ban_time) : 0 }))
    .filter((r) => r.ban_time > 0 || r.score > 0);
}

export async function getDefenderHost(c: SqlContext, ip: string, nowMs: number, fromMs: number): Promise<DefenderHostRecord | undefined> {
  const r = await hostRecord(c, ip, nowMs, fromMs);
  return r && (r.ban_time > 0 || r.score > 0) ? r : undefined;
}

export async function deleteDefenderHost(c: SqlContext, ip: string): Promise<boolean> {
  // events go with their host (ON DELETE CASCADE; explicit for engines without foreign keys on)
  await c.run(`DELETE FROM ${c.t('defender_events')} WHERE host_id IN (SELECT id FROM ${c.t('defender_hosts')} WHERE ip = ?)`, [ip]);
  const r = await c.run(`DELETE FROM ${c.t('defender_hosts')} WHERE ip = ?`, [ip]);
  return r.changes > 0;
}

export async function cleanupDefender(c: SqlContext, beforeMs: number, nowMs: number): Promise<void> {
  await c.run(`DELETE FROM ${c.t('defender_events')} WHERE date_time < ?`, [beforeMs]);
  await c.run(`DELETE FROM ${c.t('defender_hosts')} WHERE ban_time <= ? AND id NOT IN (SELECT host_id FROM ${c.t('defender_events')})`, [nowMs]);
}

type Op = <T>(fn: (c: SqlContext) => Promise<T>) => Promise<T>;

/** The PerimeterStore of a SqlBackend; `op` runs each call on the backend's queue. */
export function sqlPerimeterStore(op: Op): PerimeterStore {
  return {
    listIpListEntries: (type, q) => op((c) => listIpListEntries(c, type, q)),
    getIpListEntry: (type, ipornet) => op((c) => getIpListEntry(c, type, ipornet)),
    addIpListEntry: (e) => op((c) => addIpListEntry(c, e)),
    updateIpListEntry: (e) => op((c) => updateIpListEntry(c, e)),
    deleteIpListEntry: (type, ipornet) => op((c) => deleteIpListEntry(c, type, ipornet)),
    addDefenderEvent: (ip, score, now, from) => op((c) => addDefenderEvent(c, ip, score, now, from)),
    setDefenderBanTime: (ip, ban) => op((c) => setDefenderBanTime(c, ip, ban)),
    extendDefenderBan: (ip, now, inc) => op((c) => extendDefenderBan(c, ip, now, inc)),
    listDefenderHosts: (now, from, limit) => op((c) => listDefenderHosts(c, now, from, limit)),
    getDefenderHost: (ip, now, from) => op((c) => getDefenderHost(c, ip, now, from)),
    deleteDefenderHost: (ip) => op((c) => deleteDefenderHost(c, ip)),
    cleanupDefender: (before, now) => op((c) => cleanupDefender(c, before, now)),
  };
}
