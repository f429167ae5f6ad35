/**
 * `serve` on every core: the primary process forks N workers (Node's cluster
 * module) that run the whole server. Listeners opened by the workers on the
 * same port are held by the primary, which hands each new connection to a
 * worker (round robin), so SFTP, FTP control, WebDAV and HTTP ports are shared.
 * FTP passive listeners bind exclusively (ftpd/ports.ts), so a data
 * connection reaches the worker that opened it and ranges never collide.
 * Each worker is a node of the shared-provider cluster (service/cluster.ts)
 * reachable on its own private REST port, so connections, max_sessions and
 * quotas stay exact across workers. The primary forwards SIGHUP/SIGUSR1,
 * stops every worker on SIGTERM/SIGINT and restarts a worker that dies.
 */
import cluster, { type Worker } from 'node:cluster';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import type { AppConfig, RuntimeOptions } from '../config/types';
import type { AppLogger } from '../logger/types';

/** env var naming a worker's private REST port (the node's port in the cluster table) */
export const WORKER_NODE_PORT_ENV = 'SFTPGO_TS_WORKER_NODE_PORT';
export const WORKER_INDEX_ENV = 'SFTPGO_TS_WORKER_INDEX';
/** a worker dying this soon after its start, this many times in a row, stops the primary (a crash loop) */
const EARLY_DEATH_MS = 10_000;
const MAX_EARLY_DEATHS = 5;
const RESTART_DELAY_MS = 1_000;

/** The worker count `serve` runs: --workers, else common.workers; 0 = cores with a shared provider, 1 otherwise. */
export function workerCount(config: AppConfig, rt: RuntimeOptions, cores = availableParallelism()): number {
  const asked = rt.workers !== undefined && rt.workers >= 0 ? rt.workers : config.common.workers;
  if (asked > 0) return asked;
  return config.data_provider.is_shared === 1 ? cores : 1;
}

/** Workers share the cluster's state through the database only: refused without a shared provider. */
export function checkWorkers(config: AppConfig, count: number): void {
  if (count > 1 && config.data_provider.is_shared !== 1) {
    throw new Error(`${count} workers need data_provider.is_shared 1 on postgresql or mysql ` +
      '(each worker is a node of the cluster); use --workers 1 otherwise');
  }
}

export function isWorker(): boolean { return cluster.isWorker; }

/** In a worker: this worker's private node port, or undefined outside worker mode. */
export function workerNodePort(): number | undefined {
  const v = process.env[WORKER_NODE_PORT_ENV];
  return cluster.isWorker && v ? Number(v) : undefined;
}

export function workerIndex(): number {
  return cluster.isWorker ? Number(process.env[WORKER_INDEX_ENV] ?? 0) : 0;
}

/** A free TCP port on `host`, for a worker's private REST binding. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ port: 0, host, exclusive: true }, () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Runs the primary until every worker stopped; resolves with serve's exit code. */
export async function runPrimary(config: AppConfig, count: number, logger: AppLogger): Promise<number> {
  const bindHost = config.data_provider.node.host || '127.0.0.1';
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort(bindHost));
  const workers = new Map<number, { worker: Worker; startedAt: number }>();
  let stopping = false;
  let earlyDeaths = 0;
  let exitCode = 0;

  const fork = (index: number): void => {
    const worker = cluster.fork({ [WORKER_INDEX_ENV]: String(index), [WORKER_NODE_PORT_ENV]: String(ports[index]) });
    workers.set(index, { worker, startedAt: Date.now() });
    worker.on('exit', (code, signal) => {
      const started = workers.get(index)?.startedAt ?? 0;
      workers.delete(index);
      if (stopping) {
        // a worker still starting has no signal handler yet: ended by our SIGTERM, it held no session
        if (code !== 0 && signal !== 'SIGTERM') exitCode = 1;
        if (workers.size === 0) done();
        return;
      }
      logger.error('service', `worker ${index} (pid ${worker.process.pid}) exited (${signal ?? code}), restarting it`);
      earlyDeaths = Date.now() - started < EARLY_DEATH_MS ? earlyDeaths + 1 : 0;
      if (earlyDeaths >= MAX_EARLY_DEATHS) {
        logger.error('service', `workers keep dying at start (${earlyDeaths} in a row): stopping`);
        exitCode = 1;
        stopAll('SIGTERM');
        return;
      }
      setTimeout(() => { if (!stopping) fork(index); }, RESTART_DELAY_MS).unref();
    });
  };

  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => { done = resolve; });
  const signalAll = (sig: NodeJS.Signals): void => {
    for (const { worker } of workers.values()) worker.process.kill(sig);
  };
  const stopAll = (sig: NodeJS.Signals): void => {
    if (stopping) {
      // a second stop signal: the workers exit at once (they handle it the same way)
      signalAll(sig);
      return;
    }
    stopping = true;
    logger.info('service', `received ${sig}, stopping ${workers.size} workers`);
    if (workers.size === 0) done();
    else signalAll('SIGTERM');
  };
  const onTerm = (): void => stopAll('SIGTERM');
  const onInt = (): void => stopAll('SIGINT');
  const onHup = (): void => { logger.info('service', 'received SIGHUP, reloading every worker'); signalAll('SIGHUP'); };
  const onUsr1 = (): void => signalAll('SIGUSR1');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  process.on('SIGHUP', onHup);
  process.on('SIGUSR1', onUsr1);
  logger.info('service', `starting ${count} workers`);
  for (let i = 0; i < count; i++) fork(i);
  await finished;
  process.off('SIGTERM', onTerm);
  process.off('SIGINT', onInt);
  process.off('SIGHUP', onHup);
  process.off('SIGUSR1', onUsr1);
  logger.info('service', 'every worker stopped');
  return exitCode;
}
