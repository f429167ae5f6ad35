/**
 * common.rate_limiters[]: token buckets as SFTPGo's (golang.org/x/time/rate):
 * `average` tokens per `period` ms, up to `burst` saved. type 1 is one bucket
 * for everyone, type 2 one bucket per source address (bounded by
 * entries_hard_limit, trimmed to entries_soft_limit, least recently used
 * first). A request that would wait longer than the limiter's max delay is
 * refused and its token given back; a shorter wait is served late.
 */
import type { RateLimiterConfig } from '../config/types';

const PROTOCOLS = ['SSH', 'FTP', 'DAV', 'HTTP'];
const MAX_DELAY_CAP_MS = 10_000;

/** Refuses what SFTPGo refuses at start-up, naming rate_limiters[i].<key>. */
export function validateRateLimiter(r: RateLimiterConfig, i: number): void {
  const at = `common.rate_limiters[${i}]`;
  if (!(r.burst >= 1)) throw new Error(`${at}.burst: invalid value ${r.burst}, it must be >= 1`);
  if (!(r.period >= 100)) throw new Error(`${at}.period: invalid value ${r.period}, it must be >= 100`);
  if (r.type !== 1 && r.type !== 2) throw new Error(`${at}.type: invalid value ${r.type}, expected 1 (global) or 2 (per source)`);
  if (r.type === 2) {
    if (!(r.entries_soft_limit > 0)) throw new Error(`${at}.entries_soft_limit: invalid value ${r.entries_soft_limit}`);
    if (r.entries_hard_limit <= r.entries_soft_limit) {
      throw new Error(`${at}.entries_hard_limit ${r.entries_hard_limit} must be > entries_soft_limit ${r.entries_soft_limit}`);
    }
  }
  for (const p of r.protocols) if (!PROTOCOLS.includes(p)) throw new Error(`${at}.protocols: invalid protocol "${p}"`);
}

export function isRateLimiterEnabled(r: RateLimiterConfig): boolean {
  return r.average > 0 && r.protocols.length > 0;
}

class Bucket {
  private tokens: number;
  private last: number;

  constructor(private readonly perMs: number, private readonly burst: number, now: number) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes a token; the wait (ms) until it is really there. */
  take(now: number): number {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.perMs);
      this.last = now;
    }
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : -this.tokens / this.perMs;
  }

  giveBack(): void {
    this.tokens = Math.min(this.burst, this.tokens + 1);
  }
}

export type RateDecision = { ok: true; delayMs: number } | { ok: false; delayMs: number };

export class RateLimiter {
  readonly protocols: ReadonlySet<string>;
  readonly perSource: boolean;
  readonly generateDefenderEvents: boolean;
  readonly maxDelayMs: number;
  private readonly perMs: number;
  private readonly global: Bucket | undefined;
  private readonly sources = new Map<string, Bucket>();

  constructor(private readonly c: RateLimiterConfig, private readonly now: () => number) {
    this.protocols = new Set(c.protocols);
    this.perSource = c.type === 2;
    this.generateDefenderEvents = c.generate_defender_events;
    this.perMs = c.average / c.period;
    const perSecond = this.perMs * 1000;
    // SFTPGo: half a token's interval, half the period below one token per second, at most 10 s
    this.maxDelayMs = Math.min(MAX_DELAY_CAP_MS, perSecond < 1 ? c.period / 2 : 1000 / (Math.floor(perSecond) * 2));
    this.global = this.perSource ? undefined : new Bucket(this.perMs, c.burst, now());
  }

  private bucketFor(source: string, now: number): Bucket {
    if (this.global) return this.global;
    let b = this.sources.get(source);
    if (b) {
      // most recently used last: trimming drops the idle sources first
      this.sources.delete(source);
    } else {
      b = new Bucket(this.perMs, this.c.burst, now);
      if (this.sources.size >= this.c.entries_hard_limit) {
        for (const k of this.sources.keys()) {
          if (this.sources.size < this.c.entries_soft_limit) break;
          this.sources.delete(k);
        }
      }
    }
    this.sources.set(source, b);
    return b;
  }

  reserve(source: string): RateDecision {
    const now = this.now();
    const bucket = this.bucketFor(source, now);
    const delayMs = bucket.take(now);
    if (delayMs > this.maxDelayMs) {
      bucket.giveBack();
      return { ok: false, delayMs };
    }
    return { ok: true, delayMs };
  }

  get trackedSources(): number { return this.sources.size; }
}
