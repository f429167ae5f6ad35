/**
 * Builds the event path from the config: the hook executor (the `command`
 * and `http` sections, src/hooks), SFTPGo's `common.actions` and
 * `data_provider.actions` hooks, and the bounded queue their background
 * work runs in. The sink goes to the connection manager and the context;
 * provider changes reach the provider hook through the provider's listener.
 */
import type { EventSink } from '../common/events';
import type { AppConfig } from '../config/types';
import type { DataProviderService } from '../dataprovider/types';
import { validateCommandConfig } from '../hooks/command-config';
import { HookExecutor } from '../hooks/executor';
import { HookHttpClient } from '../hooks/http-client';
import type { AppLogger } from '../logger/types';
import { FsActionsHook } from '../events/fs-actions';
import { ProviderActionsHook } from '../events/provider-actions';
import { BoundedQueue } from '../events/queue';
import { EventDispatcher } from '../events/sink';

/** SFTPGo runs at most 150 filesystem hooks at once (hooksConcurrencyGuard) and 100 provider hooks. */
const FS_HOOK_CONCURRENCY = 150;
const PROVIDER_HOOK_CONCURRENCY = 100;
/** events waiting beyond the running ones; past this they are dropped (counted, logged) */
const MAX_PENDING = 10_000;

export interface EventsOptions {
  config: AppConfig;
  configDir: string;
  logger: AppLogger;
  provider: DataProviderService;
  /** tests: a clock for timestamps */
  now?: () => number;
}

export function buildEvents(o: EventsOptions): EventSink {
  const { config, logger } = o;
  validateCommandConfig(config.command);
  const executor = new HookExecutor({ command: config.command, http: new HookHttpClient(config.http, o.configDir), logger });
  const fsQueue = new BoundedQueue({ name: 'filesystem actions', concurrency: FS_HOOK_CONCURRENCY, maxPending: MAX_PENDING, logger });
  const providerQueue = new BoundedQueue({ name: 'provider actions', concurrency: PROVIDER_HOOK_CONCURRENCY, maxPending: MAX_PENDING, logger });
  const actions = new FsActionsHook(config.common.actions, executor, o.now);
  const providerActions = new ProviderActionsHook(config.data_provider.actions, executor, providerQueue, logger, o.now);
  o.provider.setObjectListener?.((e) => providerActions.notify(e));
  const dispatcher = new EventDispatcher({ logger, actions, queue: fsQueue });
  return {
    wants: (a) => dispatcher.wants(a),
    pre: (e) => dispatcher.pre(e),
    notify: (e) => dispatcher.notify(e),
    drain: async () => { await Promise.all([fsQueue.drain(), providerQueue.drain()]); },
  };
}
