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
 *
 * A worker says "ready" over IPC once its signal handlers are installed: before
 * that, Node's default action for SIGHUP and SIGUSR1 is to end the process, so
 * the primary holds a SIGHUP for a starting worker and delivers it on "ready"
 * (a SIGUSR1 is dropped: the worker opens its log file when it starts). Each
 * worker acknowledges a finished reload, and the primary logs one line per worker.
 * Forced log rotation (SIGUSR1 to the primary, a worker's event action) renames
 * the shared file once, in the primary; the workers reopen it on SIGUSR1.
 */
import cluster, { type Worker } from 'node:cluster';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import type { AppConfig, RuntimeOptions } from '../config/types';
import type { ClosableLogger } from '../logger/logger';
import type { RotationReason } from '../logger/rotate';

/** env var naming a worker's private REST port (the node's port in the cluster table) */
export const WORKER_NODE_PORT_ENV = 'SFTPGO_TS_WORKER_NODE_PORT';
export const WORKER_INDEX_ENV = 'SFTPGO_TS_WORKER_INDEX';
/** a worker dying this soon after its start, this many times in a row, stops the primary (a crash loop) */
const EARLY_DEATH_MS = 10_000;
const MAX_EARLY_DEATHS = 5;
const RESTART_DELAY_MS = 1_000;

/** IPC messages from a worker to the primary. */
const READY = 'sftpgo-ts:worker-ready';
const RELOADED = 'sftpgo-ts:worker-reloaded';
const ROTATE = 'sftpgo-ts:rotate-logs';
/** a worker saw the shared log file reach log_max_size */
const ROTATE_IF_FULL = 'sftpgo-ts:rotate-logs-if-full';

function isMessage(m: unknown, type: string): boolean {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === type;
}

/** In a worker, once its signal handlers are installed: the primary may signal it from now on. */
export function announceWorkerReady(): void {
  if (cluster.isWorker) process.send?.({ type: READY });
}

/** In a worker, after a SIGHUP reload finished (failed parts are logged by the reload itself). */
export function acknowledgeReload(): void {
  if (cluster.isWorker) process.send?.({ type: RELOADED });
}

/**
 * In a worker: how its logger asks for a rotation of the shared log file, forced or because it is full. The
 * primary renames the file once (a size request only if the file is still full) and sends every worker SIGUSR1,
 * which reopens (one rename, not one per process). Undefined elsewhere.
 */
export function workerRotationRequest(): ((reason: RotationReason) => void) | undefined {
  return cluster.isWorker ? (reason) => { process.send?.({ type: reason === 'size' ? ROTATE_IF_FULL : ROTATE }); } : undefined;
}

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
export async function runPrimary(config: AppConfig, count: number, logger: ClosableLogger): Promise<number> {
  const bindHost = config.data_provider.node.host || '127.0.0.1';
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort(bindHost));
  /** ready: its signal handlers are installed; reloadPending: a SIGHUP arrived before that */
  const workers = new Map<number, { worker: Worker; startedAt: number; ready: boolean; reloadPending: boolean }>();
  let stopping = false;
  let earlyDeaths = 0;
  let exitCode = 0;

  const fork = (index: number): void => {
    const worker = cluster.fork({ [WORKER_INDEX_ENV]: String(index), [WORKER_NODE_PORT_ENV]: String(ports[index]) });
    const entry = { worker, startedAt: Date.now(), ready: false, reloadPending: false };
    workers.set(index, entry);
    worker.on('message', (m: unknown) => {
      if (isMessage(m, READY)) {
        entry.ready = true;
        if (entry.reloadPending && !stopping) {
          entry.reloadPending = false;
          logger.info('service', `worker ${index} ready: delivering the SIGHUP it missed while starting`);
          worker.process.kill('SIGHUP');
        }
      } else if (isMessage(m, RELOADED)) {
        logger.info('service', `worker ${index} (pid ${worker.process.pid}) reloaded`);
      } else if (isMessage(m, ROTATE)) {
        rotateLogs();
      } else if (isMessage(m, ROTATE_IF_FULL) && logger.rotateIfFull()) {
        workersReopen('log file reached log_max_size');
      }
    });
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

  /** The primary renames the shared log file once; each ready worker reopens it on SIGUSR1 (serve.ts). */
  function rotateLogs(): void {
    logger.rotate();
    workersReopen('log file rotated');
  }
  function workersReopen(why: string): void {
    logger.info('service', `${why}, workers reopen it`);
    signalReady('SIGUSR1');
  }
  // the primary's own lines can fill the file too: its rename must reach the workers as well
  logger.onSizeRotation(() => workersReopen('log file reached log_max_size'));

  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => { done = resolve; });
  const signalAll = (sig: NodeJS.Signals): void => {
    for (const { worker } of workers.values()) worker.process.kill(sig);
  };
  /** SIGHUP/SIGUSR1 only to workers that handle them: to a starting one they would be fatal. */
  const signalReady = (sig: 'SIGHUP' | 'SIGUSR1'): void => {
    for (const entry of workers.values()) {
      if (entry.ready) entry.worker.process.kill(sig);
      else if (sig === 'SIGHUP') entry.reloadPending = true;
    }
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
  const onHup = (): void => { logger.info('service', 'received SIGHUP, reloading every worker'); signalReady('SIGHUP'); };
  const onUsr1 = (): void => rotateLogs();
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
