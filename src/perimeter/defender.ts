/**
 * The defender (common.defender): every failed login adds a score to its
 * source address; an address reaching `threshold` within `observation_time`
 * is banned for `ban_time`, and each connection it tries while banned moves
 * the end of the ban by `ban_time_increment` percent (SFTPGo's rules).
 *
 * Cheap under a flood: both maps are bounded by entries_hard_limit. Map
 * order is kept as "least recently active first" (an updated host is
 * re-inserted), so trimming down to entries_soft_limit drops the oldest
 * entries without sorting. Events with score 0 are not stored at all.
 */
import type { DefenderConfig } from '../config/types';
import type { LoginFailureKind } from '../common/perimeter';
import type { AppLogger } from '../logger/types';

export const MINUTE_MS = 60_000;

export interface DefenderHost { ip: string; score: number; banUntil: number }

/** What the perimeter asks either driver (memory, provider). */
export interface Defender {
  /** Banned now (extends the ban as SFTPGo does); the provider driver asks the data provider. */
  isBanned(ip: string, protocol: string): Promise<boolean>;
  /** Synchronous view for the login pipeline: bans this process knows of. */
  isKnownBanned(ip: string): boolean;
  addEvent(ip: string, protocol: string, kind: LoginFailureKind): void;
  hosts(): Promise<DefenderHost[]>;
  host(ip: string): Promise<DefenderHost | undefined>;
  deleteHost(ip: string): Promise<boolean>;
}

/** SFTPGo's event names in the defender's log lines. */
export const EVENT_NAMES: Record<LoginFailureKind, string> = {
  invalid_user: 'UserNotFound', valid_user: 'LoginFailed', limit_exceeded: 'LimitExceeded', no_auth: 'NoLoginTried',
};

export function scoreOf(c: DefenderConfig, kind: LoginFailureKind): number {
  switch (kind) {
    case 'invalid_user': return Math.max(0, c.score_invalid);
    case 'valid_user': return Math.max(0, c.score_valid);
    case 'limit_exceeded': return Math.max(0, c.score_limit_exceeded);
    case 'no_auth': return Math.max(0, c.score_no_auth);
  }
}

/** ban_time * ban_time_increment / 100 minutes, at least one minute (integer maths as SFTPGo). */
export function banIncrementMs(c: DefenderConfig): number {
  return Math.max(1, Math.floor((c.ban_time * c.ban_time_increment) / 100)) * MINUTE_MS;
}

/** Refuses what SFTPGo refuses at start-up; the message names the setting. */
export function validateDefenderConfig(c: DefenderConfig): void {
  if (!c.enabled) return;
  if (c.driver !== 'memory' && c.driver !== 'provider') throw new Error(`common.defender.driver: unsupported driver "${c.driver}"`);
  const scores: [string, number][] = [['score_invalid', c.score_invalid], ['score_valid', c.score_valid],
    ['score_limit_exceeded', c.score_limit_exceeded], ['score_no_auth', c.score_no_auth]];
  if (scores.every(([, v]) => v <= 0)) throw new Error('common.defender: all scores are disabled');
  for (const [k, v] of scores) {
    if (v >= c.threshold) throw new Error(`common.defender.${k} ${v} cannot be greater than threshold ${c.threshold}`);
  }
  const positive: [string, number][] = [['ban_time', c.ban_time], ['ban_time_increment', c.ban_time_increment],
    ['observation_time', c.observation_time], ['entries_soft_limit', c.entries_soft_limit]];
  for (const [k, v] of positive) if (!(v > 0)) throw new Error(`common.defender.${k}: invalid value ${v}`);
  if (c.entries_hard_limit <= c.entries_soft_limit) {
    throw new Error(`common.defender.entries_hard_limit ${c.entries_hard_limit} must be > entries_soft_limit ${c.entries_soft_limit}`);
  }
}

export function logDefenderEvent(log: AppLogger, ip: string, protocol: string, kind: LoginFailureKind, score: number, total: number): void {
  log.debug('defender', 'defender event', { client_ip: ip, protocol, event: EVENT_NAMES[kind], increase_score_by: score, score: total });
}

/** Called once when a host gets banned (the event manager's "IP blocked" trigger). */
export type BanListener = (ip: string, protocol: string) => void;

/** A host was just banned: the log line, then the listener (which must not throw into the defender). */
export function announceBan(log: AppLogger, ip: string, protocol: string, onBan: BanListener | undefined): void {
  log.info('defender', 'host banned', { client_ip: ip, protocol, event: 'banned' });
  try {
    onBan?.(ip, protocol);
  } catch (e) {
    log.error('defender', `ban listener failed: ${(e as Error).message}`, { client_ip: ip });
  }
}

/** Drops the first (least recently active) keys until `size` is at most `keep`. */
function trim<V>(m: Map<string, V>, keep: number): void {
  for (const k of m.keys()) {
    if (m.size <= keep) return;
    m.delete(k);
  }
}

export class MemoryDefender implements Defender {
  private readonly scores = new Map<string, { at: number; score: number }[]>();
  private readonly banned = new Map<string, number>();

  constructor(private readonly c: DefenderConfig, private readonly log: AppLogger, private readonly now: () => number,
    private readonly onBan?: BanListener) {}

  private bannedUntil(ip: string, now: number): number {
    const until = this.banned.get(ip);
    if (until === undefined) return 0;
    if (until > now) return until;
    this.banned.delete(ip);
    return 0;
  }

  async isBanned(ip: string): Promise<boolean> {
    const now = this.now();
    const until = this.bannedUntil(ip, now);
    if (until === 0) return false;
    this.banned.delete(ip);
    this.banned.set(ip, until + banIncrementMs(this.c));
    return true;
  }

  isKnownBanned(ip: string): boolean {
    return this.bannedUntil(ip, this.now()) > 0;
  }

  addEvent(ip: string, protocol: string, kind: LoginFailureKind): void {
    const now = this.now();
    if (this.bannedUntil(ip, now) > 0) return;
    const score = scoreOf(this.c, kind);
    if (score === 0) return;
    const from = now - this.c.observation_time * MINUTE_MS;
    const events = (this.scores.get(ip) ?? []).filter((e) => e.at > from);
    events.push({ at: now, score });
    const total = events.reduce((sum, e) => sum + e.score, 0);
    logDefenderEvent(this.log, ip, protocol, kind, score, total);
    this.scores.delete(ip);
    if (total >= this.c.threshold) {
      announceBan(this.log, ip, protocol, this.onBan);
      this.banned.set(ip, now + this.c.ban_time * MINUTE_MS);
      if (this.banned.size > this.c.entries_hard_limit) {
        for (const [k, until] of this.banned) if (until <= now) this.banned.delete(k);
        trim(this.banned, this.c.entries_soft_limit);
      }
      return;
    }
    this.scores.set(ip, events);
    if (this.scores.size > this.c.entries_hard_limit) trim(this.scores, this.c.entries_soft_limit);
  }

  private view(ip: string, now: number): DefenderHost | undefined {
    const until = this.bannedUntil(ip, now);
    if (until > 0) return { ip, score: 0, banUntil: until };
    const from = now - this.c.observation_time * MINUTE_MS;
    const score = (this.scores.get(ip) ?? []).reduce((sum, e) => (e.at > from ? sum + e.score : sum), 0);
    return score > 0 ? { ip, score, banUntil: 0 } : undefined;
  }

  async hosts(): Promise<DefenderHost[]> {
    const now = this.now();
    const out: DefenderHost[] = [];
    for (const ip of new Set([...this.banned.keys(), ...this.scores.keys()])) {
      const h = this.view(ip, now);
      if (h) out.push(h);
    }
    return out;
  }

  async host(ip: string): Promise<DefenderHost | undefined> {
    return this.view(ip, this.now());
  }

  async deleteHost(ip: string): Promise<boolean> {
    const a = this.banned.delete(ip);
    const b = this.scores.delete(ip);
    return a || b;
  }

  /** For the bench and tests: entries held. */
  get size(): { hosts: number; banned: number } {
    return { hosts: this.scores.size, banned: this.banned.size };
  }
}
