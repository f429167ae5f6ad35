/**
 * The data provider contract. One implementation per backend (sqlite.ts,
 * memory.ts; pgsql/mysql later) behind these per-resource stores. Validation
 * and password hashing live above the stores (dataprovider/service.ts), so a
 * backend only persists.
 */
import type { Admin, ApiKey, DumpData, Folder, User } from './models';
import type { EventObjectStore } from './event-store';

export interface ListOptions {
  limit?: number;
  offset?: number;
  /** by username/name */
  order?: 'ASC' | 'DESC';
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

export interface DataProviderBackend extends UserStore, FolderStore, AdminStore, ApiKeyStore {
  readonly driver: string;
  /** event manager actions and rules; absent on backends that do not store them yet */
  readonly eventObjects?: EventObjectStore;
  /** Applies pending migrations (idempotent). */
  migrate(): Promise<void>;
  /** Current schema version, 0 when not initialized. */
  schemaVersion(): Promise<number>;
  checkAvailability(): Promise<void>;
  /** Runs fn atomically (a SQL transaction; the memory provider runs it under a lock). */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  /** Everything, secrets hashed as stored. */
  dump(): Promise<DumpData>;
  close(): Promise<void>;
}
