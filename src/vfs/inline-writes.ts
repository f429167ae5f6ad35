/**
 * When a local-disk write runs inline on the event loop instead of in libuv's
 * thread pool.
 *
 * Why: a write into the page cache costs tens of microseconds, less than the
 * pool round trip around it (queue, thread wake-up, completion callback), and
 * on a small machine the pool thread competes for a core with the loop that
 * feeds it. Measured on the 2-core bench machine, a socket-to-file copy of
 * 512 MiB (64 KiB reads from a loopback socket): 1058-1094 MB/s inline against
 * 616-721 MB/s through the pool with coalesced writes; FTP STOR follows it
 * (README, benchmark).
 *
 * Why guarded: an inline write blocks every connection of the process while it
 * runs, which is fine for the page cache and not for slow storage (a network
 * mount, a disk throttling dirty pages). So:
 * - a handle whose inline write took longer than SLOW_WRITE_MS goes back to
 *   the pool for SLOW_BACKOFF_MS, then tries inline again;
 * - all inline writes of the process together may use at most
 *   WINDOW_BUDGET_MS of every WINDOW_MS, the rest go to the pool, which then
 *   spreads many concurrent uploads over its threads;
 * - writes larger than MAX_INLINE_BYTES always go to the pool.
 */
import { performance } from 'node:perf_hooks';

// a page-cache write of up to MAX_INLINE_BYTES takes well under 1 ms here; the
// threshold sits far above that so that a thread merely preempted on a busy
// machine is not taken for slow storage (4 ms did: FTP upload rounds fell back
// to the pool under load)
export const SLOW_WRITE_MS = 20;
export const SLOW_BACKOFF_MS = 1000;
export const WINDOW_MS = 100;
// one upload at 1.2 GB/s spends about 35-45% of the loop in page-cache writes
export const WINDOW_BUDGET_MS = 60;
export const MAX_INLINE_BYTES = 1024 * 1024;

/** The process-wide share of loop time inline writes may take. */
export class InlineWriteBudget {
  private windowStart = Number.NEGATIVE_INFINITY;
  private spent = 0;

  constructor(
    private readonly windowMs = WINDOW_MS,
    private readonly budgetMs = WINDOW_BUDGET_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** True when one more inline write fits in the current window. */
  available(): boolean {
    const t = this.now();
    if (t - this.windowStart >= this.windowMs) {
      this.windowStart = t;
      this.spent = 0;
    }
    return this.spent < this.budgetMs;
  }

  charge(ms: number): void {
    this.spent += ms;
  }

  clock(): number {
    return this.now();
  }
}

/** Per-handle choice between an inline write and the thread pool. */
export class InlineWritePolicy {
  private slowUntil = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly budget: InlineWriteBudget,
    private readonly slowMs = SLOW_WRITE_MS,
    private readonly backoffMs = SLOW_BACKOFF_MS,
    private readonly maxBytes = MAX_INLINE_BYTES,
  ) {}

  /**
   * Runs `inline` on the loop when allowed and returns true, or returns false
   * without calling it (the caller then writes through the pool).
   */
  tryInline(length: number, inline: () => void): boolean {
    if (length > this.maxBytes) return false;
    const start = this.budget.clock();
    if (start < this.slowUntil || !this.budget.available()) return false;
    try {
      inline();
    } finally {
      const took = this.budget.clock() - start;
      this.budget.charge(took);
      if (took > this.slowMs) this.slowUntil = start + took + this.backoffMs;
    }
    return true;
  }
}

/** Shared by every local-disk handle of the process. */
export const processInlineWriteBudget = new InlineWriteBudget();
