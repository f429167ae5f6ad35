/**
 * The EventSink behind ctx: fans every filesystem event out to its
 * subscribers — SFTPGo's `common.actions` hook and the event manager's
 * rules. Synchronous work runs inline (and can refuse a pre-* operation or
 * fail an upload); everything else goes through a bounded queue so a slow
 * endpoint or a hanging program never holds a transfer (each job is bounded
 * by the hook's own timeout).
 */
import { FsError } from '../common/errors';
import type { EventSink, FsAction, FsEventInput } from '../common/events';
import type { AppLogger } from '../logger/types';
import type { FsActionsHook } from './fs-actions';
import type { BoundedQueue } from './queue';

/** What the event manager offers the sink (src/events/manager). */
export interface FsEventSubscriber {
  wants(action: FsAction): boolean;
  /**
   * Runs the matching rules: resolves to true when synchronous actions ran
   * (then SFTPGo does not call the `common.actions` hook for the event);
   * rejects when a synchronous action failed.
   */
  handle(e: FsEventInput): Promise<boolean>;
}

export interface EventDispatcherDeps {
  logger: AppLogger;
  actions?: FsActionsHook;
  rules?: FsEventSubscriber;
  queue: BoundedQueue;
}

const SENDER = 'fs_actions_hook';

export class EventDispatcher implements EventSink {
  constructor(private readonly deps: EventDispatcherDeps) {}

  wants(action: FsAction): boolean {
    return (this.deps.actions?.wants(action) ?? false) || (this.deps.rules?.wants(action) ?? false);
  }

  private logFailure(e: FsEventInput, err: unknown): void {
    this.deps.logger.warn(SENDER, `action "${e.action}" for "${e.virtualPath}" failed: ${(err as Error).message}`, {
      connection_id: e.session.id, username: e.session.user.username,
    });
  }

  drain(): Promise<void> { return this.deps.queue.drain(); }

  async pre(e: FsEventInput): Promise<void> {
    // SFTPGo: when event rules executed synchronously for the event, the hook is not run
    if (this.deps.rules?.wants(e.action)) {
      let ranSync: boolean;
      try {
        ranSync = await this.deps.rules.handle(e);
      } catch (err) {
        this.logFailure(e, err);
        throw new FsError('PermissionDenied', `${e.action} denied by an event rule`);
      }
      if (ranSync) return;
    }
    if (!this.deps.actions?.wants(e.action)) return;
    try {
      await this.deps.actions.run(e);
    } catch (err) {
      this.logFailure(e, err);
      throw new FsError('PermissionDenied', `${e.action} denied by the pre-action hook`);
    }
  }

  async notify(e: FsEventInput): Promise<void> {
    if (this.deps.rules?.wants(e.action) && await this.deps.rules.handle(e)) return;
    const actions = this.deps.actions;
    if (!actions?.wants(e.action)) return;
    if (actions.isSync(e.action)) {
      try {
        await actions.run(e);
      } catch (err) {
        this.logFailure(e, err);
        throw err;
      }
      return;
    }
    this.deps.queue.push(() => actions.run(e).catch((err: unknown) => this.logFailure(e, err)));
  }
}
