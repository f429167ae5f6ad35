/**
 * The event manager's rule engine: active rules cached from the provider
 * (reloaded after every change), matched against filesystem events,
 * provider events, the schedule clock and on-demand runs. Synchronous
 * actions (upload and pre-* events) run inline and can refuse the
 * operation; everything else runs in the bounded background queue, so a
 * slow endpoint or a hanging command never holds a transfer.
 */
import path from 'node:path';
import type { FsAction, FsEventInput, IdpLoginEvent, IdpLoginOutcome } from '../../common/events';
import { notificationStatus } from '../../common/events';
import { ipFromAddr } from '../../common/throttle';
import { TRIGGER, type EventAction, type EventRule } from '../../dataprovider/event-models';
import type { EventObjectStore } from '../../dataprovider/event-store';
import type { User } from '../../dataprovider/models';
import type { DataProviderService } from '../../dataprovider/types';
import type { TaskLockStore } from '../../dataprovider/task-lock';
import { checkIdpAdmin, checkIdpUser } from './actions-idp';
import type { ProviderObjectEvent } from '../../dataprovider/types';
import type { AppLogger } from '../../logger/types';
import { withoutSecrets } from '../provider-actions';
import type { BoundedQueue } from '../queue';
import type { FsEventSubscriber } from '../sink';
import { matchesFsEvent, matchesPatterns, matchesProviderEvent } from './conditions';
import { cronMatches, parseSchedule, timeFields, type CronSpec } from './cron';
import { emptyParams, replacePlaceholders, replacements, type EventParams } from './params';
import type { ActionRunner, BoundAction } from './runner';

interface LoadedRule { rule: EventRule; actions: BoundAction[]; crons: CronSpec[] }

export interface EngineDeps {
  store: EventObjectStore;
  runner: ActionRunner;
  queue: BoundedQueue;
  logger: AppLogger;
  now: () => number;
  localTime: boolean;
  getUser(username: string): Promise<User | undefined>;
  /** the IDP account check writes users and admins */
  provider: DataProviderService;
  /**
   * data_provider.is_shared 1: the provider's schedule lock rows, so a
   * schedule rule runs on one node of the cluster (unless its
   * concurrent_execution option asks for every node). Absent: every
   * schedule runs in this process.
   */
  scheduleLock?: TaskLockStore;
}

/** SFTPGo: the running node refreshes its lock row every 5 minutes; a row silent for twice that is a dead node's. */
export const TASK_HEARTBEAT_MS = 5 * 60_000;
export const TASK_STALE_MS = 2 * TASK_HEARTBEAT_MS;

/** SFTPGo's IDPLoginUser / IDPLoginAdmin event names and the idp_login_event condition values (0 any, 1 user, 2 admin). */
const IDP_EVENT = { user: 'IDP login user', admin: 'IDP login admin' } as const;

const SENDER = 'eventmanager';

export class EventEngine implements FsEventSubscriber {
  private rules: LoadedRule[] = [];
  private fsEvents = new Set<string>();
  /** minute (epoch / 60 s) each schedule rule last ran in: a rule runs once per minute */
  private readonly lastRun = new Map<string, number>();

  constructor(private readonly d: EngineDeps) {}

  /** Re-reads the active rules and their actions. */
  async reload(): Promise<void> {
    const actions = new Map<string, EventAction>((await this.d.store.listEventActions()).map((a) => [a.name, a]));
    const loaded: LoadedRule[] = [];
    for (const rule of await this.d.store.listEventRules()) {
      if (rule.status !== 1) continue;
      const bound: BoundAction[] = [];
      for (const ref of rule.actions) {
        const action = actions.get(ref.name);
        if (action) bound.push({ action, rel: ref.relation_options });
      }
      const crons = rule.trigger === TRIGGER.schedule ? (rule.conditions.schedules ?? []).map(parseSchedule) : [];
      loaded.push({ rule, actions: bound, crons });
    }
    this.rules = loaded;
    this.fsEvents = new Set(loaded.filter((r) => r.rule.trigger === TRIGGER.fsEvent).flatMap((r) => r.rule.conditions.fs_events ?? []));
  }

  wants(action: FsAction): boolean { return this.fsEvents.has(action); }

  private fsParams(e: FsEventInput): EventParams {
    const u = e.session.user;
    const name = path.posix.basename(e.virtualPath);
    return {
      ...emptyParams(e.action, this.d.now()), name: u.username, status: notificationStatus(e.error), virtualPath: e.virtualPath, fsPath: e.fsPath,
      virtualTargetPath: e.virtualTargetPath ?? '', fsTargetPath: e.fsTargetPath ?? '', objectName: name, extension: path.posix.extname(name),
      fileSize: e.fileSize, elapsed: e.elapsedMs, protocol: e.session.protocol, ip: ipFromAddr(e.session.remoteAddr), role: u.role ?? '',
      email: u.email ?? '', sessionId: e.session.id, errors: e.error ? [`"${e.action}" failed: ${e.error.message}`] : [],
    };
  }

  private background(r: LoadedRule, params: EventParams, user: User | undefined, failedBefore: string[] = []): void {
    this.d.queue.push(() => this.d.runner.runAsync(r.rule, r.actions, params, user, failedBefore)
      .catch((e: Error) => this.d.logger.error(SENDER, `rule "${r.rule.name}": ${e.message}`)));
  }

  /**
   * Filesystem events: sync actions inline (an error refuses/fails the
   * operation), the rest queued. Resolves to true when sync actions ran.
   */
  async handle(e: FsEventInput): Promise<boolean> {
    const params = this.fsParams(e);
    const matched = this.rules.filter((r) => r.rule.trigger === TRIGGER.fsEvent && (r.rule.conditions.fs_events ?? []).includes(e.action)
      && matchesFsEvent(r.rule.conditions.options, params));
    if (matched.length === 0) return false;
    const user = (await this.d.getUser(e.session.user.username)) ?? e.session.user;
    let syncError: Error | undefined;
    let ranSync = false;
    for (const r of matched) {
      const own = { ...params, errors: [...params.errors] };
      const sync = r.actions.filter((a) => a.rel.execute_sync && !a.rel.is_failure_action);
      if (sync.length > 0) ranSync = true;
      const failed = sync.length > 0 ? await this.d.runner.runList(r.rule, sync, own, user) : [];
      if (failed.length > 0) syncError = new Error(`rule "${r.rule.name}": action "${failed[failed.length - 1] ?? ''}" failed`);
      this.background(r, own, user, failed);
    }
    if (syncError) throw syncError;
    return ranSync;
  }

  /** Provider events (admin changes): queued. */
  providerEvent(e: ProviderObjectEvent): void {
    for (const r of this.rules) {
      if (r.rule.trigger !== TRIGGER.providerEvent || !(r.rule.conditions.provider_events ?? []).includes(e.action)) continue;
      const params: EventParams = {
        ...emptyParams(e.action, this.d.now()), name: e.objectName, objectName: e.objectName, objectType: e.objectType,
        ip: e.executor.ip, role: e.executor.role ?? '', objectData: JSON.stringify(withoutSecrets(e.object) ?? {}),
      };
      if (!matchesProviderEvent(r.rule.conditions.options, params)) continue;
      this.d.queue.push(async () => {
        const user = e.objectType === 'user' ? await this.d.getUser(e.objectName) : undefined;
        await this.d.runner.runAsync(r.rule, r.actions, params, user, []);
      });
    }
  }

  /** The defender banned a host (SFTPGo handleIPBlockedEvent): event "IP Blocked", the address, status 1; queued. */
  ipBlocked(ip: string): void {
    for (const r of this.rules) {
      if (r.rule.trigger !== TRIGGER.ipBlocked) continue;
      this.background(r, { ...emptyParams('IP Blocked', this.d.now()), ip }, undefined);
    }
  }

  /**
   * An OpenID Connect login (SFTPGo handleIDPLoginEvent): the matching rules
   * without sync actions are queued; at most one may have the sync IDP
   * account check, whose user or admin is returned (it decides the login:
   * an error refuses it). Its other actions then run in the background.
   */
  async idpLogin(e: IdpLoginEvent): Promise<IdpLoginOutcome> {
    const wanted = e.admin ? 2 : 1;
    const matched = this.rules.filter((r) => r.rule.trigger === TRIGGER.idpLogin
      && [0, wanted].includes(r.rule.conditions.idp_login_event ?? 0) && matchesPatterns(e.username, r.rule.conditions.options.names));
    if (matched.length === 0) return {};
    const idpFields: Record<string, string> = {};
    for (const [k, v] of Object.entries(e.customFields ?? {})) if (typeof v === 'string') idpFields[k] = v;
    const params = (): EventParams => ({
      ...emptyParams(e.admin ? IDP_EVENT.admin : IDP_EVENT.user, this.d.now()), name: e.username, ip: e.ip, protocol: 'OIDC', role: e.role, idpFields,
    });
    const withSync = matched.filter((r) => r.actions.some((a) => a.rel.execute_sync));
    if (withSync.length > 1) throw new Error(`more than one account check action rules matches: "${withSync.map((r) => r.rule.name).join(',')}"`);
    for (const r of matched) if (!withSync.includes(r)) this.background(r, params(), undefined);
    const r = withSync[0];
    if (!r) return {};
    const check = r.actions.find((a) => a.rel.execute_sync);
    if (!check) return {};
    const p = params();
    const cfg = check.action.options.idp_config;
    const tpl = (t: string | undefined): string => replacePlaceholders(t ?? '', replacements(p, 1, this.d.localTime));
    try {
      const out: IdpLoginOutcome = e.admin
        ? { admin: await checkIdpAdmin(this.d.provider, e.username, cfg.mode ?? 0, tpl(cfg.template_admin)) }
        : { user: await checkIdpUser(this.d.provider, e.username, cfg.mode ?? 0, tpl(cfg.template_user)) };
      this.background(r, p, out.user);
      return out;
    } catch (err) {
      p.errors.push(`unable to handle "${p.event}": ${(err as Error).message}`);
      this.d.logger.error(SENDER, `unable to handle IDP login event "${p.event}", rule "${r.rule.name}": ${(err as Error).message}`);
      this.background(r, p, undefined, [check.action.name]);
      throw err;
    }
  }

  /** On-demand: the rule must exist, be active and have the on-demand trigger. */
  runOnDemand(name: string): boolean {
    const r = this.rules.find((x) => x.rule.name === name && x.rule.trigger === TRIGGER.onDemand);
    if (!r) return false;
    this.background(r, { ...emptyParams('on-demand', this.d.now()), name }, undefined);
    return true;
  }

  /**
   * Runs the schedule rules due in the minute of `nowMs`; resolves when they
   * all finished (or were skipped). Each rule runs at most once per minute in
   * this process, and with a shared provider at most once per minute in the
   * cluster. Resolves to the number of rules this node ran.
   */
  async tick(nowMs: number): Promise<number> {
    // other nodes of a shared provider change rules too; this node only hears of its own changes
    if (this.d.scheduleLock) await this.reload().catch((e: Error) => this.d.logger.warn(SENDER, `unable to reload the event rules: ${e.message}`));
    const minute = Math.floor(nowMs / 60_000);
    const fields = timeFields(nowMs, this.d.localTime);
    const due = this.rules.filter((r) => r.crons.some((c) => cronMatches(c, fields)) && this.lastRun.get(r.rule.name) !== minute);
    for (const r of due) this.lastRun.set(r.rule.name, minute);
    const ran = await Promise.all(due.map((r) => this.runScheduled(r, minute, nowMs)));
    return ran.filter(Boolean).length;
  }

  private async runScheduled(r: LoadedRule, minute: number, nowMs: number): Promise<boolean> {
    const lock = r.rule.conditions.options.concurrent_execution ? undefined : this.d.scheduleLock;
    let version: number | undefined;
    if (lock) {
      try {
        version = await lock.claimTask({ name: r.rule.name, minute, nowMs, staleBeforeMs: nowMs - TASK_STALE_MS });
      } catch (e) {
        this.d.logger.warn(SENDER, `schedule rule "${r.rule.name}" skipped: unable to claim its lock: ${(e as Error).message}`);
        return false;
      }
      if (version === undefined) {
        this.d.logger.debug(SENDER, `schedule rule "${r.rule.name}" skipped: another node runs it, or a previous run still does`);
        return false;
      }
    }
    this.d.logger.info(SENDER, `schedule rule "${r.rule.name}" started`);
    const heartbeat = lock && version !== undefined ? this.keepClaim(lock, r.rule.name, version) : undefined;
    try {
      await new Promise<void>((resolve) => {
        const params = { ...emptyParams('schedule', nowMs), name: r.rule.name };
        const queued = this.d.queue.push(() => this.d.runner.runAsync(r.rule, r.actions, params, undefined, [])
          .catch((e: Error) => this.d.logger.error(SENDER, `rule "${r.rule.name}": ${e.message}`)).finally(resolve));
        if (!queued) resolve();
      });
    } finally {
      if (heartbeat) clearInterval(heartbeat);
      if (lock && version !== undefined) {
        await lock.releaseTask(r.rule.name, version)
          .catch((e: Error) => this.d.logger.warn(SENDER, `schedule rule "${r.rule.name}": unable to release its lock: ${e.message}`));
      }
    }
    return true;
  }

  /** Refreshes the lock row while a long run lasts, so other nodes do not take it over as stale. */
  private keepClaim(lock: TaskLockStore, name: string, version: number): NodeJS.Timeout {
    const timer = setInterval(() => {
      lock.touchTask(name, version, this.d.now()).then((held) => {
        if (!held) this.d.logger.warn(SENDER, `schedule rule "${name}": its lock was taken over by another node`);
      }, (e: Error) => this.d.logger.warn(SENDER, `schedule rule "${name}": unable to refresh its lock: ${e.message}`));
    }, TASK_HEARTBEAT_MS);
    timer.unref();
    return timer;
  }
}
