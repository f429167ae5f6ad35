/**
 * A bounded runner for background event work (asynchronous hooks, rule
 * actions). At most `concurrency` jobs run at once (SFTPGo guards its hooks
 * with a 150-slot channel); at most `maxPending` wait. Past that bound a job
 * is dropped: a flood of events must not grow memory without limit. Drops
 * are counted and logged (the first one, then every `logEvery`-th) so the
 * log itself cannot be flooded.
 */
import type { AppLogger } from '../logger/types';

export interface BoundedQueueOptions {
  name: string;
  concurrency: number;
  maxPending: number;
  logger: AppLogger;
  logEvery?: number;
}

type Job = () => Promise<void>;

export class BoundedQueue {
  private running = 0;
  private readonly pending: Job[] = [];
  private dropped = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: BoundedQueueOptions) {}

  /** jobs refused because the queue was full, since start */
  get droppedCount(): number { return this.dropped; }
  get size(): number { return this.running + this.pending.length; }

  /** Queues a job; false when it was dropped. A job's rejection is the job's business (it is swallowed here). */
  push(job: Job): boolean {
    if (this.running < this.opts.concurrency) {
      this.start(job);
      return true;
    }
    if (this.pending.length >= this.opts.maxPending) {
      this.dropped++;
      const every = this.opts.logEvery ?? 1000;
      if (this.dropped === 1 || this.dropped % every === 0) {
        this.opts.logger.warn('events', `${this.opts.name}: queue full (${this.opts.maxPending} waiting), event dropped`, { dropped: this.dropped });
      }
      return false;
    }
    this.pending.push(job);
    return true;
  }

  private start(job: Job): void {
    this.running++;
    void job().catch(() => undefined).finally(() => {
      this.running--;
      const next = this.pending.shift();
      if (next) this.start(next);
      else if (this.running === 0) this.wakeIdle();
    });
  }

  private wakeIdle(): void {
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  /** Resolves once nothing runs or waits (jobs are bounded by their own timeouts). */
  drain(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
