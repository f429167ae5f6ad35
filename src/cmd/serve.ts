/**
 * `sftpgo serve`: load the config (a bad one is one stderr line and exit 1),
 * start the app, then SIGTERM/SIGINT = graceful stop and exit 0, SIGHUP =
 * reload, SIGUSR1 = rotate logs. A second stop signal exits at once.
 */
import type { AppConfig, RuntimeOptions } from '../config/types';
import { ConfigError, loadConfig } from '../config';
import { loggerFromRuntime, startApp, type App } from '../service/app';
import type { ClosableLogger } from '../logger/logger';
import { missingNodeFlags } from './node-flags';
import { checkSharedProvider } from '../service/cluster';
import {
  acknowledgeReload, announceWorkerReady, checkWorkers, isWorker, runPrimary, workerCount, workerIndex, workerRotationRequest,
} from '../service/workers';

/** Logger and config for commands that need both; errors are returned as a one-line message. */
export function prepare(rt: RuntimeOptions): { logger: ClosableLogger; config: AppConfig } {
  let logger: ClosableLogger;
  try {
    logger = loggerFromRuntime(rt, workerRotationRequest());
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  // Warnings are logged only once the config is accepted: a refused config is exactly one stderr line.
  const warnings: string[] = [];
  try {
    const config = loadConfig({ configDir: rt.configDir || '.', configFile: rt.configFile, onWarning: (w) => warnings.push(w) });
    for (const w of warnings) logger.warn('config', w);
    return { logger, config };
  } catch (err) {
    void logger.close();
    throw err;
  }
}

/** `reopenLog`: a worker's SIGUSR1 means "the primary renamed the log file", not "rotate it" (service/workers.ts). */
export function installSignals(app: App, onExit: (code: number) => void, reopenLog?: () => void): () => void {
  let stopping = false;
  const stop = (sig: NodeJS.Signals): void => {
    if (stopping) {
      app.ctx.logger.warn('service', `received ${sig} again, exiting now`);
      onExit(1);
      return;
    }
    stopping = true;
    app.ctx.logger.info('service', `received ${sig}, shutting down`);
    app.stop().then(() => onExit(0), () => onExit(1));
  };
  const hup = (): void => {
    app.ctx.logger.info('service', 'received SIGHUP, reloading');
    void app.reload().finally(acknowledgeReload);
  };
  const usr1 = (): void => {
    if (reopenLog) {
      reopenLog();
      app.ctx.logger.info('service', 'received SIGUSR1, log file reopened');
      return;
    }
    app.ctx.logger.info('service', 'received SIGUSR1, rotating logs');
    app.rotateLogs();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', hup);
  process.on('SIGUSR1', usr1);
  return () => {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    process.off('SIGHUP', hup);
    process.off('SIGUSR1', usr1);
  };
}

export async function serve(rt: RuntimeOptions): Promise<number> {
  const { logger, config } = prepare(rt);
  const workers = workerCount(config, rt);
  try {
    checkSharedProvider(config);
    checkWorkers(config, workers);
  } catch (err) {
    await logger.close();
    throw new ConfigError((err as Error).message);
  }
  if (workers > 1 && !isWorker()) {
    const code = await runPrimary(config, workers, logger);
    await logger.close();
    return code;
  }
  // one worker loads the initial data, the others find it in the shared database
  if (workerIndex() > 0) rt.loadDataFrom = '';
  let app: App;
  try {
    app = await startApp({ runtime: rt, config, logger });
  } catch (err) {
    await logger.close();
    throw err;
  }
  return new Promise<number>((resolve) => {
    // handlers first: a supervisor may send SIGTERM as soon as it reads the "listening" lines,
    // and without a handler that signal would kill the process instead of stopping it
    const remove = installSignals(app, (code) => {
      remove();
      void logger.close().finally(() => resolve(code));
    }, isWorker() ? () => logger.reopen() : undefined);
    for (const s of app.services) {
      for (const a of s.addresses()) logger.info('service', `${s.name} listening`, { address: a.address, port: a.port });
    }
    const missing = missingNodeFlags(process.execArgv, process.env.NODE_OPTIONS);
    if (missing.length > 0) {
      logger.warn('service', `node started without ${missing.join(' ')}: large transfers can cost up to 3x the CPU in garbage collection (see src/cmd/node-flags.ts)`);
    }
    announceWorkerReady();
  });
}
