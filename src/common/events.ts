/**
 * The event sink port: every filesystem operation a session performs is
 * reported here once, from common (Connection.logged, openDownload/openUpload,
 * Transfer.finish, SSH commands). Subscribers (SFTPGo's `common.actions`
 * hook, the event manager) live in src/events and are built in service/;
 * `noEvents()` is the behaviour with nothing configured, used by the test
 * harnesses. Adapters never see this port: they get FsErrors back as usual.
 */
import type { Admin, User } from '../dataprovider/models';
import type { EventAction, EventRule } from '../dataprovider/event-models';
import { FsError } from './errors';
import type { Protocol } from './types';

/** SFTPGo's filesystem action names (common.actions.execute_on). */
export type FsAction =
  | 'pre-download' | 'download' | 'first-download' | 'pre-upload' | 'upload' | 'first-upload'
  | 'pre-delete' | 'delete' | 'rename' | 'mkdir' | 'rmdir' | 'ssh_cmd' | 'copy';

export const FS_ACTIONS: readonly FsAction[] = [
  'pre-download', 'download', 'first-download', 'pre-upload', 'upload', 'first-upload',
  'pre-delete', 'delete', 'rename', 'mkdir', 'rmdir', 'ssh_cmd', 'copy',
];

/** The session an event comes from. */
export interface EventSession {
  readonly id: string;
  readonly protocol: Protocol;
  readonly user: User;
  readonly remoteAddr: string;
}

export interface FsEventInput {
  action: FsAction;
  session: EventSession;
  /** backend path as SFTPGo reports it (SFTPGO_ACTION_PATH) */
  fsPath: string;
  virtualPath: string;
  fsTargetPath?: string;
  virtualTargetPath?: string;
  sshCmd?: string;
  fileSize: number;
  elapsedMs: number;
  /** the operation's error: status 2, or 3 for a quota error */
  error?: Error;
  openFlags?: number;
  /** SFTPGO_ACTION_FS_PROVIDER of the mount the path lives on */
  fsProvider: number;
}

export interface EventSink {
  /** Cheap test used on hot paths so nothing is built when nobody listens. */
  wants(action: FsAction): boolean;
  /**
   * pre-* actions gate the operation: resolves to allow, rejects with
   * FsError('PermissionDenied') when a hook or rule refuses.
   */
  pre(e: FsEventInput): Promise<void>;
  /**
   * Notifies an operation. Resolves once synchronous subscribers finished
   * (asynchronous ones are queued); rejects when a synchronous one failed
   * (only `upload` acts on that: the file is removed and the upload fails).
   */
  notify(e: FsEventInput): Promise<void>;
  /** Resolves once queued background work finished (shutdown, tests); each job is bounded by its timeout. */
  drain(): Promise<void>;
}

/** SFTPGo getNotificationStatus: 1 ok, 3 quota exceeded, 2 any other error. */
export function notificationStatus(err: Error | undefined): 1 | 2 | 3 {
  if (!err) return 1;
  if (err instanceof FsError && err.kind === 'QuotaExceeded') return 3;
  return 2;
}

/** Nothing configured: every operation allowed, nothing reported. */
export function noEvents(): EventSink {
  return {
    wants: () => false,
    pre: () => Promise.resolve(),
    notify: () => Promise.resolve(),
    drain: () => Promise.resolve(),
  };
}

/** The Connection.logged sender of each verb that is an SFTPGo action. */
export const ACTION_OF_SENDER: Readonly<Record<string, FsAction>> = {
  Mkdir: 'mkdir', Remove: 'delete', Rmdir: 'rmdir', Rename: 'rename', Copy: 'copy',
};

/** Who asks (REST/web admin): provider actions and logs name them. */
export interface EventExecutor { username: string; ip: string; role?: string }

/**
 * The event manager as the REST API and web admin see it: its stored
 * actions and rules (validated, secrets hidden on output), on-demand runs,
 * and the schedule clock. Built in service/; `noEventManager()` refuses.
 */
export interface EventManagerPort {
  listActions(): Promise<EventAction[]>;
  getAction(name: string): Promise<EventAction | undefined>;
  addAction(input: unknown, by: EventExecutor): Promise<EventAction>;
  updateAction(name: string, input: unknown, by: EventExecutor): Promise<EventAction>;
  deleteAction(name: string, by: EventExecutor): Promise<void>;
  listRules(): Promise<EventRule[]>;
  getRule(name: string): Promise<EventRule | undefined>;
  addRule(input: unknown, by: EventExecutor): Promise<EventRule>;
  updateRule(name: string, input: unknown, by: EventExecutor): Promise<EventRule>;
  deleteRule(name: string, by: EventExecutor): Promise<void>;
  /** /api/v2/eventrules/run/{name}: starts an active on-demand rule in the background */
  runRule(name: string): Promise<void>;
  /** runs the schedule rules due in the minute of `nowMs` (the scheduler calls it; tests inject the time); resolves when they finished */
  tick(nowMs: number): Promise<number>;
  /**
   * An OpenID Connect login: runs the IDP login rules; resolves to the user or
   * admin an IDP account check created/updated (empty when no rule has one),
   * rejects when the account check failed (the login is refused).
   */
  idpLogin(e: IdpLoginEvent): Promise<IdpLoginOutcome>;
}

/** An OpenID Connect login, as the IDP login rules see it. */
export interface IdpLoginEvent { username: string; admin: boolean; ip: string; role: string; customFields?: Record<string, unknown> }

/** What the IDP account check produced (nothing when no rule has one). */
export interface IdpLoginOutcome { user?: User; admin?: Admin }

export function noEventManager(): EventManagerPort {
  const refuse = (): Promise<never> => Promise.reject(new FsError('Unsupported', 'the event manager is not available'));
  return {
    listActions: () => Promise.resolve([]), getAction: () => Promise.resolve(undefined), addAction: refuse, updateAction: refuse, deleteAction: refuse,
    listRules: () => Promise.resolve([]), getRule: () => Promise.resolve(undefined), addRule: refuse, updateRule: refuse, deleteRule: refuse,
    runRule: refuse, tick: () => Promise.resolve(0), idpLogin: () => Promise.resolve({}),
  };
}
