/**
 * The connection manager: global and per-host connection limits, per-user
 * max_sessions, the idle-timeout sweeper, the session list for the REST API
 * and graceful shutdown (wait for transfers, then disconnect everyone).
 */
import { randomBytes } from 'node:crypto';
import type { CommonConfig } from '../config/types';
import type { DataProviderService } from '../dataprovider/types';
import type { AppLogger } from '../logger/types';
import type { Metrics } from '../metrics/types';
import type { FsFactory } from './fs-factory';
import { Connection } from './connection';
import type { ConnectionManager, NewConnectionRequest } from './context';
import type { EventSink } from './events';
import { FsError } from './errors';
import type { QuotaProvider } from './quota';
import { ipFromAddr } from './throttle';
import type { ConnectionInfo, FileOps, SessionHandle } from './types';

export interface ConnectionManagerOptions {
  config: CommonConfig;
  logger: AppLogger;
  metrics: Metrics;
  /** only the quota methods are used (tests may pass a recording Pick) */
  provider: DataProviderService | QuotaProvider;
  /** data_provider.track_quota; default 2 as SFTPGo */
  trackQuota?: number;
  /** how often idle sessions are looked for; default 60 s (tests shorten it) */
  idleCheckIntervalMs?: number;
  /** idle timeout override in ms (tests); default common.idle_timeout minutes */
  idleTimeoutMs?: number;
  /** builds the backends of each session's home and virtual folders (service/filesystems.ts) */
  filesystems: FsFactory;
  /** filesystem events (common.actions, event rules); default: none */
  events?: EventSink;
}

interface Entry { conn: Connection; session: SessionHandle; ip: string; removing?: Promise<void> }

export interface ManagedConnectionManager extends ConnectionManager {
  /** the Connection behind an id (adapters needing ensureRoots/info) */
  get(connectionId: string): Connection | undefined;
}

export function createConnectionManager(opts: ConnectionManagerOptions): ManagedConnectionManager {
  const { config, logger, metrics } = opts;
  const entries = new Map<string, Entry>();
  const clientsPerHost = new Map<string, number>();
  let totalClients = 0;
  let transfers = 0;
  let shuttingDown = false;
  let drainWaiters: (() => void)[] = [];
  let emptyWaiters: (() => void)[] = [];
  let idleTimer: NodeJS.Timeout | undefined;

  const idleMs = opts.idleTimeoutMs ?? (config.idle_timeout > 0 ? config.idle_timeout * 60_000 : 0);

  function onTransfersChanged(delta: number): void {
    transfers += delta;
    if (transfers <= 0) {
      transfers = 0;
      const w = drainWaiters;
      drainWaiters = [];
      for (const fn of w) fn();
    }
  }

  function disconnect(e: Entry, reason: string): void {
    try {
      e.session.disconnect(reason);
    } catch (err) {
      logger.warn('common', `disconnect failed: ${(err as Error).message}`, { connection_id: e.conn.id });
    }
  }

  function checkIdle(): void {
    const now = Date.now();
    for (const e of entries.values()) {
      // transfers touch the session on every read/write, so a stalled transfer does time out
      if (now - e.conn.lastActivity >= idleMs) {
        logger.info('common', `closing idle connection, idle time: ${now - e.conn.lastActivity} ms`, { connection_id: e.conn.id });
        disconnect(e, 'idle timeout');
      }
    }
  }

  function ensureIdleTimer(): void {
    if (idleMs <= 0 || idleTimer) return;
    idleTimer = setInterval(checkIdle, opts.idleCheckIntervalMs ?? 60_000);
    idleTimer.unref();
  }

  function stopIdleTimerIfUnused(): void {
    if (idleTimer && entries.size === 0) { clearInterval(idleTimer); idleTimer = undefined; }
  }

  const mgr: ManagedConnectionManager = {
    get isShuttingDown() { return shuttingDown; },

    acceptClient(remoteIp: string): () => void {
      if (shuttingDown) throw new FsError('ShuttingDown');
      const ip = ipFromAddr(remoteIp) || remoteIp;
      if (config.max_total_connections > 0 && totalClients >= config.max_total_connections) {
        throw new FsError('TooManyConnections', `too many open connections: ${totalClients}`);
      }
      const perHost = clientsPerHost.get(ip) ?? 0;
      if (config.max_per_host_connections > 0 && perHost >= config.max_per_host_connections) {
        throw new FsError('TooManyConnections', `too many open connections from ${ip}: ${perHost}`);
      }
      totalClients++;
      clientsPerHost.set(ip, perHost + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        totalClients--;
        const n = (clientsPerHost.get(ip) ?? 1) - 1;
        if (n <= 0) clientsPerHost.delete(ip); else clientsPerHost.set(ip, n);
      };
    },

    add(req: NewConnectionRequest): FileOps {
      if (shuttingDown) throw new FsError('ShuttingDown');
      const max = req.user.max_sessions ?? 0;
      if (max > 0) {
        let n = 0;
        for (const e of entries.values()) if (e.conn.user.username === req.user.username) n++;
        if (n >= max) throw new FsError('TooManyConnections', `too many open sessions: ${n}/${max}`);
      }
      const id = req.id ?? `${req.protocol}_${randomBytes(10).toString('hex')}`;
      if (entries.has(id)) throw new FsError('Generic', `duplicate connection id ${id}`);
      const conn = new Connection({
        id, protocol: req.protocol, user: req.user, remoteAddr: req.remoteAddr, localAddr: req.localAddr,
        clientVersion: req.clientVersion, config, logger, metrics, provider: opts.provider,
        trackQuota: opts.trackQuota, isShuttingDown: () => shuttingDown, onTransfersChanged, filesystems: opts.filesystems, events: opts.events,
      });
      entries.set(id, { conn, session: req.session, ip: ipFromAddr(req.remoteAddr) });
      metrics.activeConnections(1);
      ensureIdleTimer();
      return conn;
    },

    remove(connectionId: string): Promise<void> {
      const e = entries.get(connectionId);
      if (!e) return Promise.resolve();
      // The session stays listed until its transfers are closed (an aborted atomic
      // upload has removed its temp file): whoever sees it gone sees a clean state.
      e.removing ??= (async () => {
        try {
          await e.conn.closeAll('connection closed');
        } finally {
          entries.delete(connectionId);
          metrics.activeConnections(-1);
          stopIdleTimerIfUnused();
          if (entries.size === 0) {
            const w = emptyWaiters;
            emptyWaiters = [];
            for (const fn of w) fn();
          }
        }
      })();
      return e.removing;
    },

    get(connectionId: string): Connection | undefined {
      return entries.get(connectionId)?.conn;
    },

    list(): ConnectionInfo[] {
      return [...entries.values()].map((e) => e.conn.info());
    },

    close(connectionId: string): boolean {
      const e = entries.get(connectionId);
      if (!e) return false;
      disconnect(e, 'closed by the administrator');
      return true;
    },

    closeUser(username: string): number {
      let n = 0;
      for (const e of [...entries.values()]) {
        if (e.conn.user.username === username) { disconnect(e, 'user closed'); n++; }
      }
      return n;
    },

    activeTransfers(): number { return transfers; },

    async shutdown(graceMs: number): Promise<void> {
      shuttingDown = true;
      if (transfers > 0 && graceMs > 0) {
        const deadline = Date.now() + graceMs;
        await waitUntil((resolve) => drainWaiters.push(resolve), graceMs);
        // The last transfers just closed. Their clients still have to read the reply
        // (SFTP CLOSE status, FTP 226) and end their sessions: a disconnect right now
        // would turn a finished upload into a failed one for them. Give the sessions a
        // short, bounded moment (within the grace time) to end by themselves.
        const linger = Math.min(SHUTDOWN_LINGER_MS, Math.max(deadline - Date.now(), 0));
        if (entries.size > 0 && linger > 0) await waitUntil((resolve) => emptyWaiters.push(resolve), linger);
      }
      for (const e of [...entries.values()]) disconnect(e, 'the server is shutting down');
      await Promise.all([...entries.keys()].map((id) => mgr.remove(id)));
      if (idleTimer) { clearInterval(idleTimer); idleTimer = undefined; }
    },
  };
  return mgr;
}

/** How long shutdown lets sessions end by themselves once their transfers are done. */
const SHUTDOWN_LINGER_MS = 5000;

/** Resolves when `register`'s callback fires or after `ms`, whichever comes first. */
function waitUntil(register: (resolve: () => void) => void, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    // not unref'd: shutdown awaits this, it must keep the process alive
    const timer = setTimeout(resolve, ms);
    register(() => { clearTimeout(timer); resolve(); });
  });
}
