/**
 * The data provider contract. One implementation per backend (sqlite.ts,
 * memory.ts, sql/backend.ts for sqlite, postgresql and mysql) behind these per-resource stores. Validation
 * and password hashing live above the stores (dataprovider/service.ts), so a
 * backend only persists.
 */
import type { ClusterStore } from './sql/nodes';
import type { Admin, ApiKey, DumpData, Folder, Group, Role, User } from './models';
import type { ShareStore } from './shares';
import type { PerimeterStore } from './iplist';
import type { EventObjectStore } from './event-store';
import type { TaskLockStore } from './task-lock';
import type { SharedSessionStore } from './shared-sessions';

export interface ListOptions {
  limit?: number;
  offset?: number;
  /** by username/name */
  order?: 'ASC' | 'DESC';
  /** listUsers only: just the users of this role (what an admin with a role sees) */
  role?: string;
}

export interface UserStore {
  getUser(username: string): Promise<User | undefined>;
  listUsers(opts?: ListOptions): Promise<User[]>;
  countUsers(): Promise<number>;
  /** Inserts; throws FsError('AlreadyExists') on a duplicate username. Returns the stored user with id. */
  addUser(user: User): Promise<User>;
  /** Replaces every field but id, created_at, used quota and last_login. Throws NotFound. */
  updateUser(user: User): Promise<User>;
  deleteUser(username: string): Promise<void>;
  updateLastLogin(username: string, when: number): Promise<void>;
  /** Adds deltas (reset=true sets absolute values). */
  updateUserQuota(username: string, sizeDelta: number, filesDelta: number, reset: boolean): Promise<void>;
  updateUserTransferQuota(username: string, uploadDelta: number, downloadDelta: number, reset: boolean): Promise<void>;
  updateFirstTransfer(username: string, kind: 'upload' | 'download', when: number): Promise<void>;
}

export interface FolderStore {
  getFolder(name: string): Promise<Folder | undefined>;
  listFolders(opts?: ListOptions): Promise<Folder[]>;
  addFolder(folder: Folder): Promise<Folder>;
  updateFolder(folder: Folder): Promise<Folder>;
  deleteFolder(name: string): Promise<void>;
  updateFolderQuota(name: string, sizeDelta: number, filesDelta: number, reset: boolean): Promise<void>;
}

export interface AdminStore {
  getAdmin(username: string): Promise<Admin | undefined>;
  listAdmins(opts?: ListOptions): Promise<Admin[]>;
  countAdmins(): Promise<number>;
  addAdmin(admin: Admin): Promise<Admin>;
  updateAdmin(admin: Admin): Promise<Admin>;
  deleteAdmin(username: string): Promise<void>;
  updateAdminLastLogin(username: string, when: number): Promise<void>;
}

export interface ApiKeyStore {
  getApiKey(keyId: string): Promise<ApiKey | undefined>;
  listApiKeys(opts?: ListOptions): Promise<ApiKey[]>;
  addApiKey(key: ApiKey): Promise<ApiKey>;
  updateApiKey(key: ApiKey): Promise<ApiKey>;
  deleteApiKey(keyId: string): Promise<void>;
  updateApiKeyLastUse(keyId: string, when: number): Promise<void>;
}

/**
 * Groups and roles. Users carry `groups` and `role`, admins `role`, by name:
 * the user/admin stores write those references (the service has checked they
 * exist). A group's or role's `users`/`admins` are filled on read.
 */
export interface GroupStore {
  getGroup(name: string): Promise<Group | undefined>;
  /** The named groups that exist, in any order (the login merge). */
  getGroupsByName(names: readonly string[]): Promise<Group[]>;
  listGroups(opts?: ListOptions): Promise<Group[]>;
  /** Throws AlreadyExists; the group's virtual folders must exist (the service creates them). */
  addGroup(group: Group): Promise<Group>;
  /** Replaces description, user_settings and virtual folders. Throws NotFound. */
  updateGroup(group: Group): Promise<Group>;
  /** The service refuses groups still referenced; this only removes. Throws NotFound. */
  deleteGroup(name: string): Promise<void>;
}

export interface RoleStore {
  getRole(name: string): Promise<Role | undefined>;
  listRoles(opts?: ListOptions): Promise<Role[]>;
  addRole(role: Role): Promise<Role>;
  updateRole(role: Role): Promise<Role>;
  /** Users of the role lose it; the service refuses roles held by admins. Throws NotFound. */
  deleteRole(name: string): Promise<void>;
}

/** Every per-resource store: what a transaction body receives, bound to the transaction. */
export type ProviderStores = UserStore & FolderStore & AdminStore & ApiKeyStore & ShareStore & GroupStore & RoleStore;

export interface DataProviderBackend extends UserStore, FolderStore, AdminStore, ApiKeyStore, ShareStore, GroupStore, RoleStore {
  readonly driver: string;
  /** IP lists and the defender's provider driver records (dataprovider/iplist.ts) */
  readonly perimeter: PerimeterStore;
  /** cluster nodes and sessions: SQL backends only (sql/nodes.ts) */
  readonly cluster?: ClusterStore;
  /** event manager actions and rules; absent on backends that do not store them yet */
  readonly eventObjects?: EventObjectStore;
  /** the schedule lock rows (task-lock.ts): a shared provider runs each schedule once per cluster */
  readonly tasks: TaskLockStore;
  /** web state every node must see (shared-sessions.ts): reset codes, OIDC pending logins and tokens */
  readonly sharedSessions: SharedSessionStore;
  /** Applies pending migrations (idempotent). */
  migrate(): Promise<void>;
  /** Current schema version, 0 when not initialized. */
  schemaVersion(): Promise<number>;
  checkAvailability(): Promise<void>;
  /**
   * Runs fn atomically: a SQL transaction on one connection (the memory
   * provider: under its lock, rolled back from a snapshot). `tx` is bound to
   * that transaction; calls made on the backend itself from inside fn's async
   * context join it too, so nested helpers cannot deadlock a small pool.
   */
  transaction<T>(fn: (tx: ProviderStores) => Promise<T>): Promise<T>;
  /** Everything, secrets hashed as stored. */
  dump(): Promise<DumpData>;
  close(): Promise<void>;
}
