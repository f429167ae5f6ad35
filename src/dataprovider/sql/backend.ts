/**
 * DataProviderBackend over any SqlDriver + Dialect. Statements outside a
 * transaction go to the driver's executor (a pool for PostgreSQL/MySQL, so
 * concurrent logins never wait for each other; SQLite's driver keeps its one
 * writer). A transaction pins one connection: its body gets stores bound to
 * it, and calls made on the backend from inside the body's async context are
 * routed there too (AsyncLocalStorage), so helpers that only know the backend
 * join the transaction instead of waiting for a second pooled connection.
 * That storage is on only while a transaction runs (ScopedStorage: otherwise
 * its async hooks would stay on, and cost every promise in the process).
 */
import { ScopedStorage } from '../../util/scoped-storage';
import { FsError } from '../../common/errors';
import type { DumpData, Folder, User } from '../models';
import { DUMP_VERSION } from '../models';
import type { DataProviderBackend, ProviderStores } from '../provider';
import * as admins from './admins';
import { SqlContext } from './context';
import type { Dialect, SqlDriver } from './dialect';
import * as folders from './folders';
import * as groups from './groups';
import { ownSchemaVersion } from './foreign';
import { latestVersion, loadMigrations, migrate, type Migration, revert } from './migrate';
import { QuotaBatcher, type QuotaKind } from './quotabatch';
import { SqlStores, TransactionStores } from './stores';
import * as users from './users';
import * as shares from './shares';
import { sqlPerimeterStore } from './perimeter';
import { sqlClusterStore, type ClusterStore } from './nodes';
import { sqlTaskLockStore } from './tasks';
import type { TaskLockStore } from '../task-lock';
import { sqlSharedSessionStore } from './shared-sessions';
import type { SharedSessionStore } from '../shared-sessions';
import { dumpIpLists, type PerimeterStore } from '../iplist';
import { listEventActions, listEventRules, sqlEventStore } from './events';
import type { EventObjectStore } from '../event-store';

/** Told when the database stops or starts answering (the availability metric, a log line). */
export type AvailabilityListener = (available: boolean, reason: string) => void;

export class SqlBackend extends SqlStores implements DataProviderBackend {
  private readonly ctx: SqlContext;
  private readonly inTransaction = new ScopedStorage<SqlContext>();
  private closed = false;
  private available = true;
  private availabilityListener: AvailabilityListener | undefined;
  private availabilityTimer: NodeJS.Timeout | undefined;
  private delayedQuota: QuotaBatcher | undefined;
  readonly perimeter: PerimeterStore = sqlPerimeterStore((fn) => this.op(fn));
  /** cluster nodes and their sessions (data_provider.is_shared 1) */
  readonly cluster: ClusterStore = sqlClusterStore((fn) => this.op(fn));
  readonly tasks: TaskLockStore = sqlTaskLockStore((fn) => this.op(fn));
  readonly sharedSessions: SharedSessionStore = sqlSharedSessionStore((fn) => this.op(fn));

  constructor(
    readonly driver: string,
    private readonly db: SqlDriver,
    private readonly dialect: Dialect,
    private readonly prefix: string,
    private readonly migrationsDir: string,
  ) {
    super();
    this.ctx = new SqlContext(db.exec, dialect, prefix);
  }

  /** event actions and rules (sql/events.ts) */
  readonly eventObjects: EventObjectStore = sqlEventStore((fn) => this.op(fn), (fn) => this.atomic(fn));

  protected op<T>(fn: (ctx: SqlContext) => Promise<T>): Promise<T> {
    return this.track(() => fn(this.current()));
  }

  protected atomic<T>(fn: (ctx: SqlContext) => Promise<T>): Promise<T> {
    return this.transactionContext(fn);
  }

  /** The transaction's context when called from inside one, else the shared executor's. */
  private current(): SqlContext {
    return this.inTransaction.getStore() ?? this.ctx;
  }

  onAvailabilityChange(listener: AvailabilityListener): void {
    this.availabilityListener = listener;
  }

  /** Pings the database every `everyMs` so availability recovers (and is reported) without traffic. */
  startAvailabilityChecks(everyMs: number): void {
    this.availabilityTimer ??= setInterval(() => { this.checkAvailability().catch(() => undefined); }, everyMs);
    this.availabilityTimer.unref();
  }

  /** data_provider.delayed_quota_update: quota deltas are batched and written every `everyMs`. */
  enableDelayedQuota(everyMs: number, onError: (message: string) => void): void {
    if (this.delayedQuota || everyMs <= 0) return;
    this.delayedQuota = new QuotaBatcher((kind, name, d) => {
      if (kind === 'user') return super.updateUserQuota(name, d.a, d.b, false);
      if (kind === 'folder') return super.updateFolderQuota(name, d.a, d.b, false);
      return super.updateUserTransferQuota(name, d.a, d.b, false);
    }, onError);
    this.delayedQuota.start(everyMs);
  }

  override updateUserQuota(username: string, size: number, files: number, reset: boolean): Promise<void> {
    return this.quotaUpdate('user', username, size, files, reset, () => super.updateUserQuota(username, size, files, reset));
  }

  override updateFolderQuota(name: string, size: number, files: number, reset: boolean): Promise<void> {
    return this.quotaUpdate('folder', name, size, files, reset, () => super.updateFolderQuota(name, size, files, reset));
  }

  override updateUserTransferQuota(username: string, up: number, down: number, reset: boolean): Promise<void> {
    return this.quotaUpdate('transfer', username, up, down, reset, () => super.updateUserTransferQuota(username, up, down, reset));
  }

  /** Immediate increments unless delayed updates are on; a reset is always immediate and cancels what was pending. */
  private quotaUpdate(kind: QuotaKind, name: string, a: number, b: number, reset: boolean, now: () => Promise<void>): Promise<void> {
    const batch = this.delayedQuota;
    if (!batch || this.inTransaction.getStore()) return now();
    if (reset) {
      batch.drop(kind, name);
      return now();
    }
    batch.add(kind, name, a, b);
    return Promise.resolve();
  }

  /** With delayed updates, what a quota check reads includes the deltas not written yet. */
  override async getUser(username: string): Promise<User | undefined> {
    const u = await super.getUser(username);
    const batch = this.delayedQuota;
    if (!u || !batch) return u;
    const q = batch.pendingFor('user', u.username);
    const t = batch.pendingFor('transfer', u.username);
    return {
      ...u,
      used_quota_size: (u.used_quota_size ?? 0) + q.a, used_quota_files: (u.used_quota_files ?? 0) + q.b,
      used_upload_data_transfer: (u.used_upload_data_transfer ?? 0) + t.a,
      used_download_data_transfer: (u.used_download_data_transfer ?? 0) + t.b,
      virtual_folders: u.virtual_folders?.map((vf) => {
        const f = batch.pendingFor('folder', vf.name);
        return { ...vf, used_quota_size: (vf.used_quota_size ?? 0) + f.a, used_quota_files: (vf.used_quota_files ?? 0) + f.b };
      }),
    };
  }

  override async getFolder(name: string): Promise<Folder | undefined> {
    const f = await super.getFolder(name);
    if (!f || !this.delayedQuota) return f;
    const d = this.delayedQuota.pendingFor('folder', f.name);
    return { ...f, used_quota_size: (f.used_quota_size ?? 0) + d.a, used_quota_files: (f.used_quota_files ?? 0) + d.b };
  }

  /**
   * Runs one database call, noting whether the server answered. A lost
   * connection becomes a Generic FsError (a login fails cleanly, an API call
   * answers 500) and flips availability once; the next answered call flips it back.
   */
  private async track<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new FsError('Generic', 'data provider is closed');
    try {
      const r = await fn();
      this.setAvailable(true, 'the database answers again');
      return r;
    } catch (e) {
      if (!this.dialect.isConnectionError(e)) throw e;
      const reason = e instanceof Error ? e.message : String(e);
      this.setAvailable(false, reason);
      throw new FsError('Generic', `data provider unavailable: ${reason}`, e);
    }
  }

  private setAvailable(available: boolean, reason: string): void {
    if (this.available === available) return;
    this.available = available;
    this.availabilityListener?.(available, reason);
  }

  private migrations(): Migration[] {
    return loadMigrations(this.migrationsDir);
  }

  /** Version the shipped migrations reach (for the "run initprovider" check). */
  latestSchemaVersion(): number {
    return latestVersion(this.migrations());
  }

  async migrate(): Promise<void> {
    const list = this.migrations();
    await this.track(() => migrate(this.ctx, this.db, list));
  }

  /** revertprovider: steps the schema back to `target` (default: one version). Returns the version reached. */
  async revert(target?: number): Promise<number> {
    const list = this.migrations();
    const current = await this.schemaVersion();
    return this.track(() => revert(this.ctx, this.db, list, target ?? current - 1));
  }

  /** Current version; throws when the database holds a schema that is not ours. */
  schemaVersion(): Promise<number> {
    return this.track(() => ownSchemaVersion(this.current(), this.latestSchemaVersion()));
  }

  async checkAvailability(): Promise<void> {
    await this.track(() => this.current().get('SELECT 1 AS ok'));
  }

  transaction<T>(fn: (tx: ProviderStores) => Promise<T>): Promise<T> {
    return this.transactionContext((ctx) => fn(new TransactionStores(ctx)));
  }

  /** Runs fn on one connection inside a transaction (or inside the current one when nested). */
  private transactionContext<T>(fn: (ctx: SqlContext) => Promise<T>): Promise<T> {
    const outer = this.inTransaction.getStore();
    if (outer) return fn(outer);
    return this.track(() => this.db.transaction((exec) => {
      const ctx = new SqlContext(exec, this.dialect, this.prefix);
      return this.inTransaction.run(ctx, () => fn(ctx));
    }));
  }

  dump(): Promise<DumpData> {
    // one transaction so the dump is a consistent snapshot
    // the isolation level can only be set first in a transaction of our own, not inside a caller's
    const nested = this.inTransaction.getStore() !== undefined;
    return this.transactionContext(async (c) => {
      if (this.dialect.snapshotSql && !nested) await c.run(this.dialect.snapshotSql);
      return this.dumpFrom(c);
    });
  }

  private async dumpFrom(c: SqlContext): Promise<DumpData> {
    return {
      users: await users.listUsers(c),
      groups: await groups.listGroups(c),
      folders: await folders.listFolders(c),
      admins: await admins.listAdmins(c),
      api_keys: await admins.listApiKeys(c),
      shares: await shares.listShares(c, undefined),
      event_actions: await listEventActions(c),
      event_rules: await listEventRules(c),
      roles: await groups.listRoles(c),
      ip_lists: await dumpIpLists(this.perimeter),
      configs: {},
      version: DUMP_VERSION,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.availabilityTimer) clearInterval(this.availabilityTimer);
    // pending delayed quota reaches the database before the pool closes
    await this.delayedQuota?.stop();
    this.closed = true;
    await this.db.close();
  }

}
