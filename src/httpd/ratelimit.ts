/**
 * Per-IP limiter for failed logins on the token endpoint: past `maxFailures`
 * failures inside `windowMs` the IP gets 429 until the window ends. The map
 * is bounded so a flood of source addresses cannot grow memory forever.
 */
export interface LoginLimiterOptions { maxFailures: number; windowMs: number; maxEntries?: number; now?: () => number }

export class LoginLimiter {
  private readonly entries = new Map<string, { failures: number; resetAt: number }>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  constructor(private readonly opts: LoginLimiterOptions) {
    this.maxEntries = opts.maxEntries ?? 10000;
    this.now = opts.now ?? Date.now;
  }

  isBlocked(ip: string): boolean {
    const e = this.entries.get(ip);
    if (!e) return false;
    if (e.resetAt <= this.now()) {
      this.entries.delete(ip);
      return false;
    }
    return e.failures >= this.opts.maxFailures;
  }

  recordFailure(ip: string): void {
    const now = this.now();
    const e = this.entries.get(ip);
    if (e && e.resetAt > now) {
      e.failures++;
      return;
    }
    if (this.entries.size >= this.maxEntries) this.evict(now);
    this.entries.set(ip, { failures: 1, resetAt: now + this.opts.windowMs });
  }

  recordSuccess(ip: string): void {
    this.entries.delete(ip);
  }

  private evict(now: number): void {
    for (const [ip, e] of this.entries) if (e.resetAt <= now) this.entries.delete(ip);
    // still full: drop the oldest insertion (Map keeps insertion order)
    while (this.entries.size >= this.maxEntries) {
      const first = this.entries.keys().next();
      if (first.done) break;
      this.entries.delete(first.value);
    }
  }
}
