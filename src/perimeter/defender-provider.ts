/**
 * The defender's `provider` driver: scores and bans live in the data
 * provider (defender_hosts / defender_events), so every node sharing the
 * database sees the same bans. Events are written in order on one chain;
 * reads wait for the writes queued before them, so the API shows what the
 * logins already reported. Bans this process has seen are kept in a bounded
 * local map for the synchronous check the login pipeline makes.
 */
import type { DefenderConfig } from '../config/types';
import type { LoginFailureKind } from '../common/perimeter';
import type { DefenderStore } from '../dataprovider/iplist';
import type { AppLogger } from '../logger/types';
import { announceBan, banIncrementMs, type BanListener, logDefenderEvent, MINUTE_MS, scoreOf, type Defender, type DefenderHost } from './defender';

export class ProviderDefender implements Defender {
  private chain: Promise<void> = Promise.resolve();
  private readonly knownBans = new Map<string, number>();
  private lastCleanup = 0;

  constructor(private readonly c: DefenderConfig, private readonly store: DefenderStore, private readonly log: AppLogger,
    private readonly now: () => number, private readonly onBan?: BanListener) {}

  private from(now: number): number {
    return now - this.c.observation_time * MINUTE_MS;
  }

  private remember(ip: string, until: number): void {
    this.knownBans.delete(ip);
    if (until <= 0) return;
    this.knownBans.set(ip, until);
    if (this.knownBans.size > this.c.entries_hard_limit) {
      for (const k of this.knownBans.keys()) {
        if (this.knownBans.size <= this.c.entries_soft_limit) break;
        this.knownBans.delete(k);
      }
    }
  }

  /** Runs `fn` after the writes already queued; a failure is logged, never thrown at a login. */
  private queue<T>(fn: () => Promise<T>, fallback: T): Promise<T> {
    const run = this.chain.then(fn).catch((e: unknown) => {
      this.log.error('defender', `data provider error: ${(e as Error).message}`);
      return fallback;
    });
    this.chain = run.then(() => undefined);
    return run;
  }

  async isBanned(ip: string): Promise<boolean> {
    return this.queue(async () => {
      const now = this.now();
      const until = await this.store.extendDefenderBan(ip, now, banIncrementMs(this.c));
      this.remember(ip, until);
      return until > now;
    }, false);
  }

  isKnownBanned(ip: string): boolean {
    const until = this.knownBans.get(ip);
    return until !== undefined && until > this.now();
  }

  addEvent(ip: string, protocol: string, kind: LoginFailureKind): void {
    const score = scoreOf(this.c, kind);
    if (score === 0) return;
    // the time of the failure, not of the write
    const now = this.now();
    void this.queue(async () => {
      const host = await this.store.addDefenderEvent(ip, score, now, this.from(now));
      if (host.ban_time > now) return;
      logDefenderEvent(this.log, ip, protocol, kind, score, host.score);
      if (host.score >= this.c.threshold) {
        announceBan(this.log, ip, protocol, this.onBan);
        const until = now + this.c.ban_time * MINUTE_MS;
        await this.store.setDefenderBanTime(ip, until);
        this.remember(ip, until);
      }
      // SFTPGo cleans the tables every 3 observation periods
      if (now - this.lastCleanup > 3 * this.c.observation_time * MINUTE_MS) {
        this.lastCleanup = now;
        await this.store.cleanupDefender(now - (this.c.observation_time + 1) * MINUTE_MS, now);
      }
    }, undefined);
  }

  hosts(): Promise<DefenderHost[]> {
    return this.queue(async () => {
      const now = this.now();
      const rows = await this.store.listDefenderHosts(now, this.from(now), this.c.entries_hard_limit);
      return rows.map((r) => ({ ip: r.ip, score: r.ban_time > 0 ? 0 : r.score, banUntil: r.ban_time }));
    }, []);
  }

  host(ip: string): Promise<DefenderHost | undefined> {
    return this.queue(async () => {
      const now = this.now();
      const r = await this.store.getDefenderHost(ip, now, this.from(now));
      return r ? { ip: r.ip, score: r.ban_time > 0 ? 0 : r.score, banUntil: r.ban_time } : undefined;
    }, undefined);
  }

  deleteHost(ip: string): Promise<boolean> {
    this.knownBans.delete(ip);
    return this.queue(() => this.store.deleteDefenderHost(ip), false);
  }
}
