/**
 * The schedule lock (SFTPGo's tasks table): with a shared provider, every
 * node ticks every schedule rule, and the node that claims the rule's row
 * for the due minute runs it; the others skip. A claim is an optimistic
 * update on the row's version, so two nodes racing for one minute cannot
 * both win. The holder refreshes `updated_at` while its run lasts; a row not
 * refreshed for the stale window is taken over (its node died mid-run).
 * The memory implementation serves single-process providers and the suite.
 */
export interface TaskRecord {
  name: string;
  /** the running holder's heartbeat (ms); 0 once its run finished */
  updated_at: number;
  version: number;
  /** the due minute (epoch minutes) of the last claimed run */
  last_minute: number;
}

export interface TaskClaimRequest {
  name: string;
  /** the due minute being claimed (epoch minutes) */
  minute: number;
  nowMs: number;
  /** a run whose heartbeat is older than this is dead: its row may be taken over */
  staleBeforeMs: number;
}

export interface TaskLockStore {
  /**
   * Claims the run of rule `name` due in `minute`: resolves to the claim's
   * version, or undefined when that minute was already claimed or a previous
   * run still holds a fresh heartbeat.
   */
  claimTask(req: TaskClaimRequest): Promise<number | undefined>;
  /** the holder's heartbeat; false when the claim was lost (taken over as stale) */
  touchTask(name: string, version: number, nowMs: number): Promise<boolean>;
  /** the run finished: the next due minute may be claimed without waiting for the stale window */
  releaseTask(name: string, version: number): Promise<void>;
  getTask(name: string): Promise<TaskRecord | undefined>;
  /** the rule was deleted */
  deleteTask(name: string): Promise<void>;
}

/** The claim decision shared by every implementation: may this row be claimed for `req.minute`? */
export function claimable(row: TaskRecord, req: TaskClaimRequest): boolean {
  if (row.last_minute >= req.minute) return false;
  return row.updated_at === 0 || row.updated_at < req.staleBeforeMs;
}

export class MemoryTaskLockStore implements TaskLockStore {
  private readonly rows = new Map<string, TaskRecord>();

  async claimTask(req: TaskClaimRequest): Promise<number | undefined> {
    const row = this.rows.get(req.name);
    if (row && !claimable(row, req)) return undefined;
    const version = (row?.version ?? 0) + 1;
    this.rows.set(req.name, { name: req.name, updated_at: req.nowMs, version, last_minute: req.minute });
    return version;
  }

  async touchTask(name: string, version: number, nowMs: number): Promise<boolean> {
    const row = this.rows.get(name);
    if (row?.version !== version) return false;
    row.updated_at = nowMs;
    return true;
  }

  async releaseTask(name: string, version: number): Promise<void> {
    const row = this.rows.get(name);
    if (row?.version === version) row.updated_at = 0;
  }

  async getTask(name: string): Promise<TaskRecord | undefined> {
    const row = this.rows.get(name);
    return row ? { ...row } : undefined;
  }

  async deleteTask(name: string): Promise<void> { this.rows.delete(name); }
}
