/**
 * SFTPGo 2.7's IP lists (`/api/v2/iplists/{type}`, dump `ip_lists`) and the
 * defender's provider records: the JSON shapes, the validation of untrusted
 * input, and the store contracts each backend implements (memory:
 * perimeter-memory.ts, SQL: sql/perimeter.ts).
 */
import { parseNet } from '../util/ipnet';
import { asObj, optInt, optString, ValidationError } from './validation-core';

/** 1 global allow list, 2 defender (mode 1 safe list / 2 block list), 3 rate limiters' safe list */
export type IpListType = 1 | 2 | 3;
export const IP_LIST_TYPES: readonly IpListType[] = [1, 2, 3];
export const LIST_MODE_ALLOW = 1;
export const LIST_MODE_DENY = 2;
/** protocols bitmask: 0 means every protocol */
export const PROTOCOL_BITS = { SSH: 1, FTP: 2, DAV: 4, HTTP: 8 } as const;
const ALL_PROTOCOLS = 15;

export interface IpListEntry {
  ipornet: string;
  description?: string;
  type: IpListType;
  mode: number;
  protocols: number;
  created_at: number;
  updated_at: number;
}

export function isIpListType(n: number): n is IpListType {
  return (IP_LIST_TYPES as readonly number[]).includes(n);
}

export function ipListTypeOf(text: string): IpListType {
  const n = /^\d{1,2}$/.test(text) ? Number(text) : NaN;
  if (!isIpListType(n)) throw new ValidationError(`invalid list type ${text}`);
  return n;
}

/** Canonical network text as SFTPGo stores it: "10.0.0.0/8", a bare address as /32 or /128. */
export function canonicalIpOrNet(value: string): string {
  const n = parseNet(value);
  if (!n) throw new ValidationError(`invalid IP or network "${value}"`);
  return n.text;
}

/** Untrusted JSON → entry (timestamps kept from `previous` or set to now). */
export function validateIpListEntry(input: unknown, now: number, previous?: IpListEntry): IpListEntry {
  const o = asObj(input, 'IP list entry');
  const type = optInt(o, 'type', 0, 99) ?? previous?.type ?? 0;
  if (!isIpListType(type)) throw new ValidationError(`invalid list type ${type}`);
  const raw = optString(o, 'ipornet') ?? previous?.ipornet ?? '';
  if (raw.trim() === '') throw new ValidationError('ipornet is mandatory');
  const ipornet = canonicalIpOrNet(raw);
  const mode = optInt(o, 'mode', 0, 99) ?? 0;
  if (type === 2 ? mode !== LIST_MODE_ALLOW && mode !== LIST_MODE_DENY : mode !== LIST_MODE_ALLOW) {
    throw new ValidationError(`invalid list mode: ${mode}`);
  }
  let protocols = optInt(o, 'protocols', 0, ALL_PROTOCOLS) ?? 0;
  // every protocol named is the same as none named (SFTPGo stores 0)
  if (protocols === ALL_PROTOCOLS) protocols = 0;
  const description = optString(o, 'description')?.trim();
  if (description !== undefined && description.length > 512) throw new ValidationError('description is too long (max 512)');
  const entry: IpListEntry = {
    ipornet, type, mode, protocols,
    created_at: previous?.created_at ?? now,
    updated_at: now,
  };
  if (description) entry.description = description;
  return entry;
}

export interface IpListQuery {
  /** ipornet starts with */
  filter?: string;
  /** ipornet after (ASC) / before (DESC) this value: keyset pagination */
  from?: string;
  order?: 'ASC' | 'DESC';
  limit?: number;
}

export interface IpListStore {
  listIpListEntries(type: IpListType, q?: IpListQuery): Promise<IpListEntry[]>;
  getIpListEntry(type: IpListType, ipornet: string): Promise<IpListEntry | undefined>;
  /** FsError('AlreadyExists') on a duplicate (type, ipornet) */
  addIpListEntry(e: IpListEntry): Promise<void>;
  /** FsError('NotFound') when absent */
  updateIpListEntry(e: IpListEntry): Promise<void>;
  /** FsError('NotFound') when absent */
  deleteIpListEntry(type: IpListType, ipornet: string): Promise<void>;
}

/** One defender host as the provider driver stores it (SFTPGo defender_hosts + defender_events). */
export interface DefenderHostRecord {
  ip: string;
  /** sum of the scores of the events after `from` */
  score: number;
  /** ms since the epoch, 0 when not banned */
  ban_time: number;
}

export interface DefenderStore {
  /** Records an event and answers the host's score since `fromMs`. */
  addDefenderEvent(ip: string, score: number, nowMs: number, fromMs: number): Promise<DefenderHostRecord>;
  setDefenderBanTime(ip: string, banTimeMs: number): Promise<void>;
  /** A banned host's ban end moved by `incrementMs`: the new end, 0 when not banned at `nowMs`. */
  extendDefenderBan(ip: string, nowMs: number, incrementMs: number): Promise<number>;
  /** Hosts banned at `nowMs` or with a score since `fromMs`, at most `limit`. */
  listDefenderHosts(nowMs: number, fromMs: number, limit: number): Promise<DefenderHostRecord[]>;
  getDefenderHost(ip: string, nowMs: number, fromMs: number): Promise<DefenderHostRecord | undefined>;
  deleteDefenderHost(ip: string): Promise<boolean>;
  /** Drops events before `beforeMs` and hosts left with neither events nor a running ban. */
  cleanupDefender(beforeMs: number, nowMs: number): Promise<void>;
}

export interface PerimeterStore extends IpListStore, DefenderStore {}

export function ipListFilterMatches(e: IpListEntry, q: IpListQuery | undefined): boolean {
  if (q?.filter && !e.ipornet.startsWith(q.filter)) return false;
  if (q?.from) return q.order === 'DESC' ? e.ipornet < q.from : e.ipornet > q.from;
  return true;
}

/** Every IP list entry, for the dump (SFTPGo's `ip_lists` section). */
export async function dumpIpLists(store: IpListStore): Promise<IpListEntry[]> {
  const out: IpListEntry[] = [];
  for (const t of IP_LIST_TYPES) out.push(...(await store.listIpListEntries(t)));
  return out;
}
