/**
 * What every protocol service is built with. service/app.ts is the only place
 * that creates these objects; nothing is a module-level singleton, so tests
 * can run two servers in one process.
 */
import type { AppConfig, RuntimeOptions } from '../config/types';
import type { AppLogger } from '../logger/types';
import type { Metrics } from '../metrics/types';
import type { DataProviderService } from '../dataprovider/types';
import type { User } from '../dataprovider/models';
import type { SecretsKms } from '../kms/types';
import type { FsFactory } from './fs-factory';
import type { Perimeter } from './perimeter';
import type { Hooks } from '../hooks/index';
import type { LoginService } from './login';
import type { EventManagerPort, EventSink } from './events';
import type { ClusterPort } from '../cluster/sessions';
import type { ConnectionInfo, FileOps, Protocol, SessionHandle } from './types';

export interface NewConnectionRequest {
  protocol: Protocol;
  user: User;
  remoteAddr: string;
  localAddr: string;
  clientVersion?: string;
  session: SessionHandle;
  /** the id to use (SSH channels share the SSH connection's id prefix); generated when absent */
  id?: string;
  /** when the client connected, if before this registration (FTP); the post-disconnect hook's duration starts there */
  connectedAt?: number;
}

export interface ConnectionManager {
  /**
   * Called when a client connects, before authentication: enforces
   * max_total_connections and max_per_host_connections. Returns a release
   * function to call once when the client disconnects. Throws
   * FsError('TooManyConnections').
   */
  acceptClient(remoteIp: string): () => void;
  /**
   * Registers an authenticated session and returns its FileOps. Enforces the
   * user's max_sessions. Throws FsError('TooManyConnections').
   */
  add(req: NewConnectionRequest): FileOps;
  /** Unregisters (idempotent); running transfers are closed as aborted. */
  remove(connectionId: string): Promise<void>;
  list(): ConnectionInfo[];
  /** Disconnects one session; false when unknown. */
  close(connectionId: string): boolean;
  /** Disconnects every session of a user (user deleted/disabled, restore mode 2). */
  closeUser(username: string): number;
  activeTransfers(): number;
  /** Stops accepting, waits up to graceMs for transfers, then disconnects all. */
  shutdown(graceMs: number): Promise<void>;
  readonly isShuttingDown: boolean;
}

export interface ServerContext {
  config: AppConfig;
  runtime: RuntimeOptions;
  logger: AppLogger;
  metrics: Metrics;
  provider: DataProviderService;
  connections: ConnectionManager;
  version: VersionInfo;
  /** stored secrets (kms.secrets) */
  kms: SecretsKms;
  /** defender, rate limiters, IP lists */
  perimeter: Perimeter;
  /** SFTPGo's program/HTTP hooks (service/app.ts builds them; absent = none configured) */
  hooks?: Hooks;
  /** the login sequence every protocol calls (common/login.ts `loginService(ctx)` builds it on first use) */
  login?: LoginService;
  /** builds storage backends from a user's or folder's filesystem config (service/filesystems.ts) */
  filesystems: FsFactory;
  /** filesystem events: common.actions and the event manager (noEvents() when none) */
  events: EventSink;
  /** event actions and rules (REST API, web admin, schedules) */
  eventManager: EventManagerPort;
  /** this process as a node of a shared-provider cluster (data_provider.is_shared 1); absent otherwise */
  cluster?: ClusterPort;
}

export interface VersionInfo { version: string; commit_hash: string; build_date: string; features: string[] }

/** Every listener (sftpd, ftpd, webdavd, httpd, telemetry) implements this. */
export interface Service {
  readonly name: string;
  start(): Promise<void>;
  /** Stop accepting new clients; existing sessions are drained by the connection manager. */
  stop(): Promise<void>;
  /** SIGHUP: reload certificates etc. */
  reload?(): Promise<void>;
  /** For tests and the status API: bound addresses. */
  addresses(): { address: string; port: number }[];
}
