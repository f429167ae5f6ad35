/**
 * The per-resource stores over SQL, bound to where their statements go: the
 * backend's (pooled) executor, or one transaction's connection. Queries live
 * in users.ts / folders.ts / admins.ts; this class only routes.
 */
import type { Admin, ApiKey, Folder, Group, Role, User } from '../models';
import type { ListOptions, ProviderStores } from '../provider';
import type { SqlContext } from './context';
import * as admins from './admins';
import * as folders from './folders';
import * as groups from './groups';
import * as users from './users';
import * as shares from './shares';
import type { Share } from '../shares';

export abstract class SqlStores implements ProviderStores {
  /** Single-statement work (reads, one-row writes). */
  protected abstract op<T>(fn: (ctx: SqlContext) => Promise<T>): Promise<T>;
  /** Multi-statement writes (a row and its mappings): a transaction of their own unless already in one. */
  protected abstract atomic<T>(fn: (ctx: SqlContext) => Promise<T>): Promise<T>;

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
  addAdmin(admin: Admin): Promise<Admin> { return this.atomic((c) => admins.addAdmin(c, admin)); }
  updateAdmin(admin: Admin): Promise<Admin> { return this.atomic((c) => admins.updateAdmin(c, admin)); }
  deleteAdmin(username: string): Promise<void> { return this.atomic((c) => admins.deleteAdmin(c, username)); }
  updateAdminLastLogin(username: string, when: number): Promise<void> {
    return this.op((c) => admins.updateAdminLastLogin(c, username, when));
  }

  // groups and roles
  getGroup(name: string): Promise<Group | undefined> { return this.op((c) => groups.getGroup(c, name)); }
  getGroupsByName(names: readonly string[]): Promise<Group[]> { return this.op((c) => groups.getGroupsByName(c, names)); }
  listGroups(opts?: ListOptions): Promise<Group[]> { return this.op((c) => groups.listGroups(c, opts)); }
  addGroup(group: Group): Promise<Group> { return this.atomic((c) => groups.addGroup(c, group)); }
  updateGroup(group: Group): Promise<Group> { return this.atomic((c) => groups.updateGroup(c, group)); }
  deleteGroup(name: string): Promise<void> { return this.atomic((c) => groups.deleteGroup(c, name)); }
  getRole(name: string): Promise<Role | undefined> { return this.op((c) => groups.getRole(c, name)); }
  listRoles(opts?: ListOptions): Promise<Role[]> { return this.op((c) => groups.listRoles(c, opts)); }
  addRole(role: Role): Promise<Role> { return this.op((c) => groups.addRole(c, role)); }
  updateRole(role: Role): Promise<Role> { return this.op((c) => groups.updateRole(c, role)); }
  deleteRole(name: string): Promise<void> { return this.atomic((c) => groups.deleteRole(c, name)); }

  // api keys
  getApiKey(keyId: string): Promise<ApiKey | undefined> { return this.op((c) => admins.getApiKey(c, keyId)); }
  listApiKeys(opts?: ListOptions): Promise<ApiKey[]> { return this.op((c) => admins.listApiKeys(c, opts)); }
  addApiKey(key: ApiKey): Promise<ApiKey> { return this.op((c) => admins.addApiKey(c, key)); }
  updateApiKey(key: ApiKey): Promise<ApiKey> { return this.op((c) => admins.updateApiKey(c, key)); }
  deleteApiKey(keyId: string): Promise<void> { return this.op((c) => admins.deleteApiKey(c, keyId)); }
  updateApiKeyLastUse(keyId: string, when: number): Promise<void> {
    return this.op((c) => admins.updateApiKeyLastUse(c, keyId, when));
  }

  // shares
  getShare(shareId: string): Promise<Share | undefined> { return this.op((c) => shares.getShare(c, shareId)); }
  listShares(username: string | undefined, opts?: ListOptions): Promise<Share[]> { return this.op((c) => shares.listShares(c, username, opts)); }
  addShare(share: Share): Promise<Share> { return this.op((c) => shares.addShare(c, share)); }
  updateShare(share: Share): Promise<Share> { return this.op((c) => shares.updateShare(c, share)); }
  deleteShare(shareId: string): Promise<void> { return this.op((c) => shares.deleteShare(c, shareId)); }
  useShareTokens(shareId: string, n: number, when: number): Promise<boolean> {
    return this.op((c) => shares.useShareTokens(c, shareId, n, when));
  }
}


/** The stores handed to a transaction body: every statement on the transaction's connection. */
export class TransactionStores extends SqlStores {
  constructor(private readonly ctx: SqlContext) {
    super();
  }

  protected op<T>(fn: (ctx: SqlContext) => Promise<T>): Promise<T> { return fn(this.ctx); }
  protected atomic<T>(fn: (ctx: SqlContext) => Promise<T>): Promise<T> { return fn(this.ctx); }

}
