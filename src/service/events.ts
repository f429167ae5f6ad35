/**
 * Builds the event path from the config: the hook executor (the `command`
 * and `http` sections, src/hooks), SFTPGo's `common.actions` and
 * `data_provider.actions` hooks, the event manager (rules engine, action
 * runner, stored actions/rules, the schedule timer) and the bounded queue
 * their background work runs in. The sink goes to the connection manager
 * and the context; provider changes reach the provider hook and the rules
 * through the provider's listener.
 */
import type { EventManagerPort, EventSink } from '../common/events';
import type { AppConfig } from '../config/types';
import type { DataProviderService, ProviderObjectEvent } from '../dataprovider/types';
import { MemoryEventStore } from '../dataprovider/event-store';
import { validateCommandConfig } from '../hooks/command-config';
import { HookExecutor } from '../hooks/executor';
import { HookHttpClient } from '../hooks/http-client';
import type { SecretsKms } from '../kms/types';
import type { FsFactory } from '../common/fs-factory';
import type { AppLogger } from '../logger/types';
import type { Metrics } from '../metrics/types';
import { FsActionsHook } from '../events/fs-actions';
import { createMailer, validateSmtpConfig } from '../events/manager/actions-email';
import { EventEngine } from '../events/manager/engine';
import { ActionRunner } from '../events/manager/runner';
import { EventObjects } from '../events/objects';
import { ProviderActionsHook } from '../events/provider-actions';
import { BoundedQueue } from '../events/queue';
import { EventDispatcher } from '../events/sink';

/** SFTPGo runs at most 150 filesystem hooks at once (hooksConcurrencyGuard) and 100 provider hooks. */
const FS_HOOK_CONCURRENCY = 150;
const PROVIDER_HOOK_CONCURRENCY = 100;
/** rule executions running at once in the background */
const RULE_CONCURRENCY = 50;
/** events waiting beyond the running ones; past this they are dropped (counted, logged) */
const MAX_PENDING = 10_000;

export interface EventsOptions {
  config: AppConfig;
  configDir: string;
  logger: AppLogger;
  metrics: Metrics;
  provider: DataProviderService;
  kms: SecretsKms;
  filesystems: FsFactory;
  /** the server's hook HTTP client, shared with the login hooks (one keep-alive pool) */
  httpClient?: HookHttpClient;
  /** tests: the clock for timestamps, retention ages and schedules; the schedule timer is not started when given */
  now?: () => number;
  /** told every provider object change after data_provider.actions and the event rules (notifier plugins) */
  onProviderObject?: (e: ProviderObjectEvent) => void;
}

export interface EventsRuntime {
  sink: EventSink;
  manager: EventManagerPort;
  /** the defender banned a host: the "IP blocked" rules run */
  ipBlocked(ip: string): void;
  /** stops the schedule timer */
  stop(): void;
}

/** Calls `tick` at every minute boundary of the real clock. */
function startScheduler(tick: (now: number) => Promise<number>, logger: AppLogger): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const arm = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      // not awaited: a long rule (a big retention check) must not make the next minutes' schedules late
      void tick(Date.now()).catch((e: Error) => logger.error('eventmanager', `schedules: ${e.message}`));
      arm();
    }, 60_000 - (Date.now() % 60_000) + 50);
    timer.unref();
  };
  arm();
  return () => { stopped = true; clearTimeout(timer); };
}

export async function buildEvents(o: EventsOptions): Promise<EventsRuntime> {
  const { config, logger } = o;
  const now = o.now ?? Date.now;
  validateCommandConfig(config.command);
  validateSmtpConfig(config.smtp);
  const executor = new HookExecutor({ command: config.command, http: o.httpClient ?? new HookHttpClient(config.http, o.configDir), logger });
  const fsQueue = new BoundedQueue({ name: 'filesystem actions', concurrency: FS_HOOK_CONCURRENCY, maxPending: MAX_PENDING, logger });
  const providerQueue = new BoundedQueue({ name: 'provider actions', concurrency: PROVIDER_HOOK_CONCURRENCY, maxPending: MAX_PENDING, logger });
  const ruleQueue = new BoundedQueue({ name: 'event rules', concurrency: RULE_CONCURRENCY, maxPending: MAX_PENDING, logger });
  const actions = new FsActionsHook(config.common.actions, executor, now);
  const providerActions = new ProviderActionsHook(config.data_provider.actions, executor, providerQueue, logger, now);
  const store = o.provider.backend.eventObjects ?? new MemoryEventStore();
  const runner = new ActionRunner({
    config, configDir: o.configDir, logger, metrics: o.metrics, provider: o.provider, kms: o.kms, filesystems: o.filesystems, mailer: createMailer(config.smtp), now,
  });
  const engine = new EventEngine({
    store, runner, queue: ruleQueue, logger, now, localTime: config.common.tz === 'local', getUser: (u) => o.provider.getUser(u), provider: o.provider,
    // a shared provider: every node ticks, the lock rows pick the one that runs each schedule
    scheduleLock: config.data_provider.is_shared === 1 ? o.provider.backend.tasks : undefined,
  });
  await engine.reload();
  const onObjectChange = (e: ProviderObjectEvent): void => {
    providerActions.notify(e);
    engine.providerEvent(e);
    o.onProviderObject?.(e);
  };
  o.provider.setObjectListener?.(onObjectChange);
  const manager = new EventObjects({
    store, engine, kms: o.kms, enabledCommands: config.common.event_manager.enabled_commands, onObjectChange, now,
  });
  o.provider.setEventObjectsRestorer?.((a, r, mode) => manager.restore(a, r, mode));
  const dispatcher = new EventDispatcher({ logger, actions, rules: engine, queue: fsQueue });
  const stopScheduler = o.now ? () => undefined : startScheduler((t) => engine.tick(t), logger);
  return {
    sink: {
      wants: (a) => dispatcher.wants(a),
      pre: (e) => dispatcher.pre(e),
      notify: (e) => dispatcher.notify(e),
      drain: async () => { await Promise.all([fsQueue.drain(), providerQueue.drain(), ruleQueue.drain()]); },
    },
    manager,
    ipBlocked: (ip) => engine.ipBlocked(ip),
    stop: stopScheduler,
  };
}
