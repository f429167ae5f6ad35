/**
 * DataProviderBackend over any SqlDriver + Dialect: every method delegates to
 * the queries in users.ts / folders.ts / admins.ts. Engine files (sqlite.ts,
 * later pgsql/mysql) only build the driver.
 */
import type { Admin, ApiKey, DumpData, Folder, User } from '../models';
import { DUMP_VERSION } from '../models';
import type { DataProviderBackend, ListOptions } from '../provider';
import { OperationQueue } from '../lock';
import { SqlContext } from './context';
import type { Dialect, SqlDriver } from './dialect';
import * as admins from './admins';
import * as folders from './folders';
import { currentVersion, latestVersion, loadMigrations, migrate, type Migration } from './migrate';
import * as users from './users';
import { listEventActions, listEventRules, sqlEventStore } from './events';
import type { EventObjectStore } from '../event-store';

export class SqlBackend implements DataProviderBackend {
  private readonly queue = new OperationQueue();
  private readonly ctx: SqlContext;
  private closed = false;

  constructor(
    readonly driver: string,
    private readonly db: SqlDriver,
    dialect: Dialect,
    prefix: string,
    private readonly migrationsDir: string,
  ) {
    this.ctx = new SqlContext(db.exec, dialect, prefix);
  }

  /** event actions and rules (sql/events.ts) */
  readonly eventObjects: EventObjectStore = sqlEventStore((fn) => this.op(fn), (fn) => this.atomic(fn));

  private op<T>(fn: (ctx: SqlContext) => Promise<T>): Promise<T> {
    return this.queue.run(() => fn(this.ctx));
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
    await this.queue.exclusive(() => migrate(this.ctx, this.db, list));
  }

  schemaVersion(): Promise<number> {
    return this.op((c) => currentVersion(c));
  }

  async checkAvailability(): Promise<void> {
    await this.op((c) => c.get('SELECT 1 AS ok'));
  }

  transaction<T>(fn: () => Promise<T>): Promise<T> {
    if (this.queue.inTransaction) return fn();
    return this.queue.exclusive(async () => {
      await this.db.begin();
      try {
        const r = await fn();
        await this.db.commit();
        return r;
      } catch (e) {
        await this.db.rollback();
        throw e;
      }
    });
  }

  dump(): Promise<DumpData> {
    // one transaction so the dump is a consistent snapshot
    return this.transaction(async () => ({
      users: await users.listUsers(this.ctx),
      groups: [],
      folders: await folders.listFolders(this.ctx),
      admins: await admins.listAdmins(this.ctx),
      api_keys: await admins.listApiKeys(this.ctx),
      shares: [],
      event_actions: await listEventActions(this.ctx),
      event_rules: await listEventRules(this.ctx),
      roles: [],
      ip_lists: [],
      configs: {},
      version: DUMP_VERSION,
    }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.run(() => this.db.close());
  }

  // users
  getUser(username: string): Promise<User | undefined> { return this.op((c) => users.getUser(c, username)); }
  listUsers(opts?: ListOptions): Promise<User[]> { return this.op((c) => users.listUsers(c, opts)); }
  countUsers(): Promise<number> { return this.op((c) => users.countUsers(c)); }
  addUser(user: User): Promise<User> { return this.atomic((c) => users.addUser(c, user)); }
  updateUser(user: User): Promise<User> { return this.atomic((c) => users.updateUser(c, user)); }
  deleteUser(username: string): Promise<void> { return this.atomic((c) => users.deleteUser(c, username)); }
  updateLastLogin(username: string, when: number): Promise<void> {
    return this.op((c) => users.updateLastLogin(c, username, when));
  }
  updateUserQuota(username: string, size: number, files: number, reset: boolean): Promise<void> {
    return this.op((c) => users.updateUserQuota(c, username, size, files, reset));
  }
  updateUserTransferQuota(username: string, up: number, down: number, reset: boolean): Promise<void> {
    return this.op((c) => users.updateUserTransferQuota(c, username, up, down, reset));
  }
  updateFirstTransfer(username: string, kind: 'upload' | 'download', when: number): Promise<void> {
    return this.op((c) => users.updateFirstTransfer(c, username, kind, when));
  }

  // folders
  getFolder(name: string): Promise<Folder | undefined> { return this.op((c) => folders.getFolder(c, name)); }
  listFolders(opts?: ListOptions): Promise<Folder[]> { return this.op((c) => folders.listFolders(c, opts)); }
  addFolder(folder: Folder): Promise<Folder> { return this.op((c) => folders.addFolder(c, folder)); }
  updateFolder(folder: Folder): Promise<Folder> { return this.op((c) => folders.updateFolder(c, folder)); }
  deleteFolder(name: string): Promise<void> { return this.atomic((c) => folders.deleteFolder(c, name)); }
  updateFolderQuota(name: string, size: number, files: number, reset: boolean): Promise<void> {
    return this.op((c) => folders.updateFolderQuota(c, name, size, files, reset));
  }

  // admins
  getAdmin(username: string): Promise<Admin | undefined> { return this.op((c) => admins.getAdmin(c, username)); }
  listAdmins(opts?: ListOptions): Promise<Admin[]> { return this.op((c) => admins.listAdmins(c, opts)); }
  countAdmins(): Promise<number> { return this.op((c) => admins.countAdmins(c)); }
  addAdmin(admin: Admin): Promise<Admin> { return this.op((c) => admins.addAdmin(c, admin)); }
  updateAdmin(admin: Admin): Promise<Admin> { return this.op((c) => admins.updateAdmin(c, admin)); }
  deleteAdmin(username: string): Promise<void> { return this.atomic((c) => admins.deleteAdmin(c, username)); }
  updateAdminLastLogin(username: string, when: number): Promise<void> {
    return this.op((c) => admins.updateAdminLastLogin(c, username, when));
  }

  // api keys
  getApiKey(keyId: string): Promise<ApiKey | undefined> { return this.op((c) => admins.getApiKey(c, keyId)); }
  listApiKeys(opts?: ListOptions): Promise<ApiKey[]> { return this.op((c) => admins.listApiKeys(c, opts)); }
  addApiKey(key: ApiKey): Promise<ApiKey> { return this.op((c) => admins.addApiKey(c, key)); }
  updateApiKey(key: ApiKey): Promise<ApiKey> { return this.op((c) => admins.updateApiKey(c, key)); }
  deleteApiKey(keyId: string): Promise<void> { return this.op((c) => admins.deleteApiKey(c, keyId)); }
  updateApiKeyLastUse(keyId: string, when: number): Promise<void> {
    return this.op((c) => admins.updateApiKeyLastUse(c, keyId, when));
  }

  /** Multi-statement writes (row + mappings) run in their own transaction. */
  private atomic<T>(fn: (ctx: SqlContext) => Promise<T>): Promise<T> {
    return this.transaction(() => fn(this.ctx));
  }
}
