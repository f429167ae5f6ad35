/**
 * DataProviderBackend over any SqlDriver + Dialect. Statements outside a
 * transaction go to the driver's executor (a pool for PostgreSQL/MySQL, so
 * concurrent logins never wait for each other; SQLite's driver keeps its one
 * writer). A transaction pins one connection: its body gets stores bound to
 * it, and calls made on the backend from inside the body's async context are
 * routed there too (AsyncLocalStorage), so helpers that only know the backend
 * join the transaction instead of waiting for a second pooled connection.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { FsError } from '../../common/errors';
import type { DumpData } from '../models';
import { DUMP_VERSION } from '../models';
import type { DataProviderBackend, ProviderStores } from '../provider';
import * as admins from './admins';
import { SqlContext } from './context';
import type { Dialect, SqlDriver } from './dialect';
import * as folders from './folders';
import { ownSchemaVersion } from './foreign';
import { latestVersion, loadMigrations, migrate, type Migration, revert } from './migrate';
import { SqlStores, TransactionStores } from './stores';
import * as users from './users';

/** Told when the database stops or starts answering (the availability metric, a log line). */
export type AvailabilityListener = (available: boolean, reason: string) => void;

export class SqlBackend extends SqlStores implements DataProviderBackend {
  private readonly ctx: SqlContext;
  private readonly inTransaction = new AsyncLocalStorage<SqlContext>();
  private closed = false;
  private available = true;
  private availabilityListener: AvailabilityListener | undefined;

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
    return this.transactionContext(async (c) => ({
      users: await users.listUsers(c),
      groups: [],
      folders: await folders.listFolders(c),
      admins: await admins.listAdmins(c),
      api_keys: await admins.listApiKeys(c),
      shares: [],
      event_actions: [],
      event_rules: [],
      roles: [],
      ip_lists: [],
      configs: {},
      version: DUMP_VERSION,
    }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }
}
