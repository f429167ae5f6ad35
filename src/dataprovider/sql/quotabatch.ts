/**
 * data_provider.delayed_quota_update: quota deltas are summed in memory and
 * written every N seconds as one atomic increment per user or folder, as
 * SFTPGo's quota updater does. Reads used for quota checks add what is still
 * pending, so limits hold between flushes.
 */
import { isFsError } from '../../common/errors';

export type QuotaKind = 'user' | 'folder' | 'transfer';

/** Two summed counters: size/files for quotas, upload/download for transfer quotas. */
export interface QuotaDelta { a: number; b: number }

export type QuotaWriter = (kind: QuotaKind, name: string, delta: QuotaDelta) => Promise<void>;

export class QuotaBatcher {
  private pending = new Map<string, { kind: QuotaKind; name: string; delta: QuotaDelta }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly write: QuotaWriter, private readonly onError: (message: string) => void) {}

  start(everyMs: number): void {
    this.timer ??= setInterval(() => { void this.flush(); }, everyMs);
    this.timer.unref();
  }

  private static key(kind: QuotaKind, name: string): string {
    return `${kind}\u0000${name}`;
  }

  add(kind: QuotaKind, name: string, a: number, b: number): void {
    const k = QuotaBatcher.key(kind, name);
    const entry = this.pending.get(k);
    if (entry) {
      entry.delta.a += a;
      entry.delta.b += b;
    } else {
      this.pending.set(k, { kind, name, delta: { a, b } });
    }
  }

  /** A reset replaces the stored value: what was pending before it no longer applies. */
  drop(kind: QuotaKind, name: string): void {
    this.pending.delete(QuotaBatcher.key(kind, name));
  }

  pendingFor(kind: QuotaKind, name: string): QuotaDelta {
    const d = this.pending.get(QuotaBatcher.key(kind, name))?.delta;
    return d ? { ...d } : { a: 0, b: 0 };
  }

  /** Writes everything pending; a delta that cannot be written goes back to be retried on the next flush. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const batch = [...this.pending.values()];
      this.pending = new Map();
      for (const e of batch) {
        if (e.delta.a === 0 && e.delta.b === 0) continue;
        try {
          await this.write(e.kind, e.name, e.delta);
        } catch (err) {
          // the user or folder is gone: nothing left to count
          if (isFsError(err, 'NotFound')) continue;
          this.add(e.kind, e.name, e.delta.a, e.delta.b);
          this.onError(`delayed ${e.kind} quota update for "${e.name}" failed, kept for the next try: ${(err as Error).message}`);
        }
      }
    });
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
