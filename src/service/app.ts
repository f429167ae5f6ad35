/**
 * The only composition root. Start order: logger → config → metrics → data
 * provider (migrations per update_mode, --loaddata-from, default admin) →
 * connection manager → services (sftpd, httpd, ftpd/webdavd when a binding
 * has a port, telemetry). A failure at any step undoes the steps already
 * done and rejects with one clear error. Signals are the CLI's business.
 */
import { AccountSecrets } from '../dataprovider/secrets';
import { checkTotpConfigs, TotpValidator } from '../mfa/totp';
import { createPerimeter, type PerimeterOptions } from './perimeter';
import type { SecretsKms } from '../kms/types';
import { createFilesystems } from './filesystems';
import { selfConnectionGuard } from './self-connections';
import { mkdirSync } from 'node:fs';
import * as fs from 'node:fs';
import type { AppConfig, RuntimeOptions } from '../config/types';
import type { AppLogger } from '../logger/types';
import type { Metrics } from '../metrics/types';
import type { DataProviderService } from '../dataprovider/types';
import type { Service, ServerContext } from '../common/context';
import { loadConfig, resolveConfigPath } from '../config';
import { createLogger, type ClosableLogger } from '../logger/logger';
import type { RotationReason } from '../logger/rotate';
import { createMetrics } from '../metrics/metrics';
import { getVersionInfo } from './version';
import { buildServices, serviceStatus } from './services';
import { openDataProvider } from '../dataprovider/index';
import { createConnectionManager } from '../common/manager';
import { Hooks } from '../hooks/index';
import { HookHttpClient } from '../hooks/http-client';
import { withDisconnectHook } from '../hooks/connection-tracker';
import { checkSharedProvider, joinCluster } from './cluster';
import { installHookChecks } from '../hooks/login-checks';
import { loginService } from '../common/login';
import { checkLdap, installLdap } from '../auth/ldap';

/** How long a stop waits for background hook notifications (post-disconnect, post-login). */
const HOOKS_DRAIN_MS = 10_000;
import { loadInitialData } from './loaddata';
import { buildEvents } from './events';
import { startPlugins, type PluginRuntimeOptions } from '../plugins';
import { installAuthPluginChecks } from '../plugins/auth';
import { installNotifierLogEvents, withNotifierPlugins } from '../plugins/notifier';
import { withIpFilterPlugins } from '../plugins/ipfilter';
import { createKmsWithPlugins } from '../plugins/kms';

export interface StartAppOptions {
  runtime: RuntimeOptions;
  /** used as is; otherwise loaded from runtime.configDir/configFile */
  config?: AppConfig;
  /** applied after loading (tests: ports 0, memory provider…) */
  overrides?: (c: AppConfig) => void;
  logger?: AppLogger;
  metrics?: Metrics;
  /** the perimeter's clock and waits (tests) */
  perimeter?: PerimeterOptions;
  /** tests: the event manager's clock (schedules run only through ctx.eventManager.tick then) */
  eventsClock?: () => number;
  /** tests: plugin handshake/restart/call timings */
  plugins?: PluginRuntimeOptions;
}

export interface App {
  ctx: ServerContext;
  services: Service[];
  /** Graceful: stop accepting, let transfers finish up to runtime.graceTime seconds, close provider, flush logs. Idempotent. */
  stop(): Promise<void>;
  /** SIGHUP: services reload certificates etc. */
  reload(): Promise<void>;
  /** SIGUSR1 */
  rotateLogs(): void;
  /** Bound addresses of a service by name (sftpd, httpd, ftpd, webdavd, telemetry); [] when not running. */
  addresses(name: string): { address: string; port: number }[];
}

export function loggerFromRuntime(rt: RuntimeOptions, requestRotation?: (reason: RotationReason) => void): ClosableLogger {
  return createLogger({
    requestRotation,
    // SFTPGo: a relative log path is relative to the config dir
    filePath: resolveConfigPath(rt.configDir || '.', rt.logFilePath),
    level: rt.logLevel,
    maxSizeMB: rt.logMaxSize,
    maxBackups: rt.logMaxBackups,
    maxAgeDays: rt.logMaxAge,
    compress: rt.logCompress,
    utc: rt.logUTCTime,
  });
}

/** Opens the configured provider and applies migrations per update_mode (0 = automatic). */
export async function openProvider(
  config: AppConfig, rt: RuntimeOptions, logger: AppLogger, metrics: Metrics, secrets?: AccountSecrets, kms?: SecretsKms,
): Promise<DataProviderService> {
  const provider = await openDataProvider({
    config: config.data_provider,
    configDir: rt.configDir || '.',
    logger,
    kms,
    migrate: config.data_provider.update_mode === 0,
    secrets,
    onAvailability: (ok) => metrics.providerAvailability(ok),
  });
  try {
    if (config.data_provider.update_mode !== 0 && (await provider.backend.schemaVersion()) === 0) {
      throw new Error('the data provider is not initialized and update_mode is 1: run "sftpgo initprovider" first');
    }
    await provider.backend.checkAvailability();
    metrics.providerAvailability(true);
  } catch (err) {
    await provider.close().catch(() => undefined);
    throw err;
  }
  return provider;
}

export async function startApp(opts: StartAppOptions): Promise<App> {
  const rt = opts.runtime;
  const ownedLogger = opts.logger ? undefined : loggerFromRuntime(rt);
  const logger: AppLogger = opts.logger ?? (ownedLogger as ClosableLogger);
  const undo: (() => Promise<void>)[] = [];
  const unwind = async (): Promise<void> => {
    for (const u of undo.reverse()) await u().catch((e: Error) => logger.error('service', `cleanup: ${e.message}`));
    undo.length = 0;
  };
  try {
    const config = opts.config ?? loadConfig({
      configDir: rt.configDir || '.',
      configFile: rt.configFile,
      onWarning: (w) => logger.warn('config', w),
    });
    opts.overrides?.(config);
    const version = getVersionInfo();
    logger.info('service', `starting SFTPGo-ts ${version.version}`, { config_dir: rt.configDir, commit: version.commit_hash });
    // The config dir holds the host keys and the SQLite database: create it on first
    // start (`npm start` uses ./data) instead of failing on a fresh checkout.
    mkdirSync(rt.configDir || '.', { recursive: true, mode: 0o700 });
    const metrics = opts.metrics ?? createMetrics();
    // a bad mfa.totp list or kms section stops start-up before anything is loaded
    checkTotpConfigs(config.mfa.totp);
    checkLdap(config, rt.configDir || '.');
    checkSharedProvider(config);
    // plugins are separate processes: one that does not start stops start-up before anything is loaded
    const plugins = await startPlugins(config.plugins, logger, opts.plugins);
    undo.push(() => plugins.stop());
    const kms = createKmsWithPlugins(config.kms, rt.configDir || '.', plugins.kms);
    const provider = await openProvider(config, rt, logger, metrics, new AccountSecrets(kms, new TotpValidator(config.mfa.totp)), kms);
    undo.push(() => provider.close());
    // before the initial data: a dump's event actions and rules are restored by the event manager
    const selfConnections = selfConnectionGuard({
      configDir: rt.configDir || '.', hostKeys: config.sftpd.host_keys ?? [], allowSelfConnections: config.common.allow_self_connections,
      getUser: (username) => provider.getUser(username),
    });
    const filesystems = createFilesystems({ common: config.common, kms, logger, metrics, selfConnections });
    // one HTTP client (one keep-alive pool) for every hook and action URL; certificates load here or start-up stops
    const hookHttp = new HookHttpClient(config.http, rt.configDir || '.');
    undo.push(async () => hookHttp.close());
    const eventsRuntime = await buildEvents({
      config, configDir: rt.configDir || '.', logger, metrics, provider, kms, filesystems, httpClient: hookHttp, now: opts.eventsClock,
      onProviderObject: (e) => { for (const n of plugins.notifiers) n.notifyProvider(e); },
    });
    undo.push(async () => eventsRuntime.stop());
    const events = withNotifierPlugins(eventsRuntime.sink, plugins.notifiers);
    await loadInitialData(provider, rt, logger);
    await provider.ensureDefaultAdmin();
    // hooks are checked (programs exist, URLs parse, certificates load) before any listener starts
    const hooks = new Hooks({ config, configDir: rt.configDir || '.', logger, provider, httpClient: hookHttp });
    undo.push(async () => { await hooks.drain(HOOKS_DRAIN_MS); });
    const cluster = await joinCluster(config, provider, kms, logger, withDisconnectHook(createConnectionManager({
      config: config.common, logger, metrics, provider, trackQuota: config.data_provider.track_quota, filesystems, events,
    }), hooks));
    const connections = cluster.connections;
    undo.push(() => connections.shutdown(0));
    const perimeter = withIpFilterPlugins(await createPerimeter(config.common, provider.backend.perimeter, logger,
      { ...opts.perimeter, onBan: (ip) => eventsRuntime.ipBlocked(ip) }), plugins.ipFilters);
    const ctx: ServerContext = {
    kms, filesystems, perimeter, events, eventManager: eventsRuntime.manager, config, runtime: rt, logger, metrics, provider, connections, version, hooks, ...(cluster.port ? { cluster: cluster.port } : {}) };
    installHookChecks(loginService(ctx), hooks);
    installLdap(loginService(ctx), { config, configDir: rt.configDir || '.', logger, provider, hooks });
    installAuthPluginChecks(loginService(ctx), plugins.auth);
    installNotifierLogEvents(loginService(ctx), plugins.notifiers);
    if (plugins.auth.some((p) => (p.scope & 2) !== 0)) hooks.keysComeFromLoginSource();
    const services = await buildServices(ctx, () => serviceStatus(ctx, services));
    const started: Service[] = [];
    for (const s of services) {
      try {
        await s.start();
      } catch (err) {
        throw new Error(`cannot start ${s.name}: ${(err as Error).message}`);
      }
      started.push(s);
      undo.push(() => s.stop());
    }
    undo.length = 0;
    // SFTPGo starts it in the background once the services are up; its outcome never stops the server
    hooks.runStartup();
    // the kept hook connections close after the last hook and action ended (stopPlugins runs after both drains)
    return makeApp(ctx, started, ownedLogger, eventsRuntime.stop, () => plugins.stop().finally(() => hookHttp.close()));
  } catch (err) {
    const msg = (err as Error).message;
    logger.error('service', `startup failed: ${msg}`);
    await unwind();
    if (ownedLogger) await ownedLogger.close();
    throw err instanceof Error ? err : new Error(msg);
  }
}

/** SIGHUP with the memory driver re-reads its dump file (SFTPGo behaviour); restore mode 0 = add and update. */
async function reloadMemoryDump(ctx: ServerContext): Promise<void> {
  const dp = ctx.config.data_provider;
  if (dp.driver !== 'memory' || dp.name === '') return;
  const file = resolveConfigPath(ctx.runtime.configDir || '.', dp.name);
  const dump: unknown = JSON.parse(await fs.promises.readFile(file, 'utf8'));
  const res = await ctx.provider.restore(dump, 0);
  ctx.logger.info('service', `memory provider reloaded from ${file}`, { users: res.users.length });
}

function makeApp(ctx: ServerContext, services: Service[], ownedLogger: ClosableLogger | undefined, stopEvents: () => void,
  stopPlugins: () => Promise<void>): App {
  const { logger } = ctx;
  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    logger.info('service', 'stopping');
    stopEvents();
    // Reverse start order: listeners stop accepting before sessions are drained.
    for (const s of [...services].reverse()) {
      await s.stop().catch((e: Error) => logger.error('service', `stopping ${s.name}: ${e.message}`));
    }
    await ctx.connections.shutdown(Math.max(0, ctx.runtime.graceTime) * 1000)
      .catch((e: Error) => logger.error('service', `connection shutdown: ${e.message}`));
    // post-disconnect/post-login notifications still running get a few seconds to finish
    if (ctx.hooks && !(await ctx.hooks.drain(HOOKS_DRAIN_MS))) logger.warn('service', 'stopping with hook notifications still running');
    // background hooks still running end within their own timeouts
    await ctx.events.drain();
    await stopPlugins().catch((e: Error) => logger.error('service', `stopping plugins: ${e.message}`));
    await ctx.provider.close().catch((e: Error) => logger.error('service', `closing data provider: ${e.message}`));
    logger.info('service', 'stopped');
    await logger.flush();
    if (ownedLogger) await ownedLogger.close();
  };
  return {
    ctx,
    services,
    stop: () => (stopping ??= stop()),
    async reload() {
      logger.info('service', 'reloading');
      await reloadMemoryDump(ctx).catch((e: Error) => logger.error('service', `reloading the memory provider dump: ${e.message}`));
      await ctx.perimeter.reloadIpLists().catch((e: Error) => logger.error('service', `reloading the IP lists: ${e.message}`));
      for (const s of services) {
        if (!s.reload) continue;
        await s.reload().catch((e: Error) => logger.error('service', `reloading ${s.name}: ${e.message}`));
      }
    },
    rotateLogs: () => logger.rotate(),
    addresses: (name) => services.find((s) => s.name === name)?.addresses() ?? [],
  };
}
