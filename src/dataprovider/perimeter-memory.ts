/**
 * IP lists and defender records for the memory driver (nothing persisted).
 * Same semantics as sql/perimeter.ts so one conformance test covers both.
 */
import { FsError } from '../common/errors';
import {
  ipListFilterMatches, type DefenderHostRecord, type IpListEntry, type IpListQuery, type IpListType, type PerimeterStore,
} from './iplist';

interface HostState { events: { at: number; score: number }[]; banTime: number }

export class MemoryPerimeterStore implements PerimeterStore {
  private readonly lists = new Map<string, IpListEntry>();
  private readonly hosts = new Map<string, HostState>();

  private static key(type: IpListType, ipornet: string): string { return `${type}_${ipornet}`; }

  async listIpListEntries(type: IpListType, q?: IpListQuery): Promise<IpListEntry[]> {
    const out = [...this.lists.values()].filter((e) => e.type === type && ipListFilterMatches(e, q));
    out.sort((a, b) => (a.ipornet < b.ipornet ? -1 : a.ipornet > b.ipornet ? 1 : 0));
    if (q?.order === 'DESC') out.reverse();
    return (q?.limit !== undefined && q.limit > 0 ? out.slice(0, q.limit) : out).map((e) => ({ ...e }));
  }

  async getIpListEntry(type: IpListType, ipornet: string): Promise<IpListEntry | undefined> {
    const e = this.lists.get(MemoryPerimeterStore.key(type, ipornet));
    return e ? { ...e } : undefined;
  }

  async addIpListEntry(e: IpListEntry): Promise<void> {
    const k = MemoryPerimeterStore.key(e.type, e.ipornet);
    if (this.lists.has(k)) throw new FsError('AlreadyExists', `IP list entry ${e.ipornet} already exists`);
    this.lists.set(k, { ...e });
  }

  async updateIpListEntry(e: IpListEntry): Promise<void> {
    const k = MemoryPerimeterStore.key(e.type, e.ipornet);
    if (!this.lists.has(k)) throw new FsError('NotFound', `IP list entry ${e.ipornet} does not exist`);
    this.lists.set(k, { ...e });
  }

  async deleteIpListEntry(type: IpListType, ipornet: string): Promise<void> {
    if (!this.lists.delete(MemoryPerimeterStore.key(type, ipornet))) {
      throw new FsError('NotFound', `IP list entry ${ipornet} does not exist`);
    }
  }

  private record(ip: string, h: HostState, nowMs: number, fromMs: number): DefenderHostRecord {
    const score = h.events.reduce((sum, ev) => (ev.at > fromMs ? sum + ev.score : sum), 0);
    return { ip, score, ban_time: h.banTime > nowMs ? h.banTime : 0 };
  }

  async addDefenderEvent(ip: string, score: number, nowMs: number, fromMs: number): Promise<DefenderHostRecord> {
    let h = this.hosts.get(ip);
    if (!h) {
      h = { events: [], banTime: 0 };
      this.hosts.set(ip, h);
    }
    h.events = h.events.filter((ev) => ev.at > fromMs);
    h.events.push({ at: nowMs, score });
    return this.record(ip, h, nowMs, fromMs);
  }

  async setDefenderBanTime(ip: string, banTimeMs: number): Promise<void> {
    const h = this.hosts.get(ip);
    if (h) {
      h.banTime = banTimeMs;
      // SFTPGo clears the score when it bans: the host starts again once the ban ends
      h.events = [];
    }
  }

  async extendDefenderBan(ip: string, nowMs: number, incrementMs: number): Promise<number> {
    const h = this.hosts.get(ip);
    if (!h || h.banTime <= nowMs) return 0;
    h.banTime += incrementMs;
    return h.banTime;
  }

  async listDefenderHosts(nowMs: number, fromMs: number, limit: number): Promise<DefenderHostRecord[]> {
    const out: DefenderHostRecord[] = [];
    for (const [ip, h] of this.hosts) {
      const r = this.record(ip, h, nowMs, fromMs);
      if (r.ban_time > 0 || r.score > 0) out.push(r);
      if (out.length >= limit) break;
    }
    return out;
  }

  async getDefenderHost(ip: string, nowMs: number, fromMs: number): Promise<DefenderHostRecord | undefined> {
    const h = this.hosts.get(ip);
    if (!h) return undefined;
    const r = this.record(ip, h, nowMs, fromMs);
    return r.ban_time > 0 || r.score > 0 ? r : undefined;
  }

  async deleteDefenderHost(ip: string): Promise<boolean> {
    return this.hosts.delete(ip);
  }

  async cleanupDefender(beforeMs: number, nowMs: number): Promise<void> {
    for (const [ip, h] of this.hosts) {
      h.events = h.events.filter((ev) => ev.at >= beforeMs);
      if (h.events.length === 0 && h.banTime <= nowMs) this.hosts.delete(ip);
    }
  }
}
