/**
 * In-memory backend (SFTPGo's `memory` driver): nothing is persisted; the
 * optional dump file is loaded by openDataProvider through the service's
 * restore. Same semantics as the SQL stores, including ids and the mapping
 * rows between users and folders, so one conformance suite covers both.
 */
import { MemoryEventStore } from './event-store';
import { MemoryTaskLockStore } from './task-lock';
import { MemorySharedSessionStore } from './shared-sessions';
import { FsError } from '../common/errors';
import { canonicalAdmin, canonicalApiKey, canonicalFolder, canonicalUser } from './canonical';
import * as groups from './memory-groups';
import { OperationQueue } from './lock';
import type { Admin, ApiKey, DumpData, Folder, Group, Role, User } from './models';
import { DUMP_VERSION } from './models';
import type { DataProviderBackend, ProviderStores, ListOptions } from './provider';
import type { Share } from './shares';
import {
  addMemoryShare, deleteMemoryShare, deleteMemorySharesOf, listMemoryShares, updateMemoryShare, useMemoryShareTokens,
} from './memory-shares';
import { MemoryPerimeterStore } from './perimeter-memory';
import { dumpIpLists } from './iplist';

type Mapping = groups.FolderMapping;

interface State {
  users: Map<string, { user: User; mappings: Mapping[] }>;
  folders: Map<string, Folder>;
  admins: Map<string, Admin>;
  apiKeys: Map<string, ApiKey>;
  shares: Map<string, Share>;
  groups: groups.GroupState['groups'];
  roles: Map<string, Role>;
  ids: { user: number; folder: number; admin: number; apiKey: number; group: number; role: number };
}

/** The schema version the memory driver reports (it has no schema to migrate). */
export const MEMORY_SCHEMA_VERSION = 1;

function page<T>(items: T[], key: (t: T) => string, opts?: ListOptions): T[] {
  const sorted = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  if (opts?.order === 'DESC') sorted.reverse();
  const offset = opts?.offset && opts.offset > 0 ? opts.offset : 0;
  const end = opts?.limit !== undefined && opts.limit >= 0 ? offset + opts.limit : undefined;
  return sorted.slice(offset, end);
}

export class MemoryBackend implements DataProviderBackend {
  readonly driver = 'memory';
  readonly perimeter = new MemoryPerimeterStore();
  private readonly queue = new OperationQueue();
  private state: State = {
    users: new Map(), folders: new Map(), admins: new Map(), apiKeys: new Map(), shares: new Map(), groups: new Map(), roles: new Map(),
    ids: { user: 0, folder: 0, admin: 0, apiKey: 0, group: 0, role: 0 },
  };
  private closed = false;

  private op<T>(fn: (s: State) => T): Promise<T> {
    return this.queue.run(async () => {
      if (this.closed) throw new FsError('Generic', 'data provider is closed');
      return fn(this.state);
    });
  }

  private notFound(what: string): FsError {
    return new FsError('NotFound', `${what} does not exist`);
  }

  private materialize(s: State, user: User, mappings: Mapping[]): User {
    return canonicalUser({ ...user, virtual_folders: groups.mountedFolders(s, mappings) });
  }

  private folderOut(s: State, f: Folder): Folder {
    const users: string[] = [];
    for (const [name, e] of s.users) if (e.mappings.some((m) => m.folder === f.name)) users.push(name);
    return canonicalFolder({ ...f, users });
  }

  private mappingsOf(s: State, u: User): Mapping[] {
    return groups.folderMappings(s, u.virtual_folders);
  }

  async migrate(): Promise<void> { /* nothing to migrate */ }
  async schemaVersion(): Promise<number> { return MEMORY_SCHEMA_VERSION; }
  async checkAvailability(): Promise<void> {
    if (this.closed) throw new FsError('Generic', 'data provider is closed');
  }

  transaction<T>(fn: (tx: ProviderStores) => Promise<T>): Promise<T> {
    if (this.queue.inTransaction) return fn(this);
    return this.queue.exclusive(async () => {
      const snapshot = structuredClone(this.state);
      try {
        return await fn(this);
      } catch (e) {
        this.state = snapshot;
        throw e;
      }
    });
  }

  /** event actions and rules (src/dataprovider/event-store.ts) */
  readonly eventObjects = new MemoryEventStore();
  /** schedule lock rows (the SQL contract; a memory provider is never shared, so schedules do not consult it) */
  readonly tasks = new MemoryTaskLockStore();
  /** shared web state rows (the SQL contract; a memory provider is never shared, so the web UIs keep their own) */
  readonly sharedSessions = new MemorySharedSessionStore();

  async dump(): Promise<DumpData> {
    const ipLists = await dumpIpLists(this.perimeter);
    const d = await this.op((s) => ({
      users: page([...s.users.values()], (e) => e.user.username).map((e) => this.materialize(s, e.user, e.mappings)),
      groups: page([...s.groups.values()], (e) => e.group.name).map((e) => groups.groupOut(s, e)),
      folders: page([...s.folders.values()], (f) => f.name).map((f) => this.folderOut(s, f)),
      admins: page([...s.admins.values()], (a) => a.username).map(canonicalAdmin),
      api_keys: page([...s.apiKeys.values()], (k) => k.key_id).map((k) => this.keyOut(s, k)),
      shares: listMemoryShares(s.shares, undefined),
      event_actions: [], event_rules: [], roles: page([...s.roles.values()], (r) => r.name).map((r) => groups.roleOut(s, r)), ip_lists: ipLists, configs: {},
      version: DUMP_VERSION,
    }));
    return { ...d, event_actions: await this.eventObjects.listEventActions(), event_rules: await this.eventObjects.listEventRules() };
  }

  async close(): Promise<void> {
    await this.queue.run(async () => { this.closed = true; });
  }

  // --- users ---
  getUser(username: string): Promise<User | undefined> {
    return this.op((s) => {
      const e = s.users.get(username);
      return e ? this.materialize(s, e.user, e.mappings) : undefined;
    });
  }
  listUsers(opts?: ListOptions): Promise<User[]> {
    return this.op((s) => page([...s.users.values()].filter((e) => !opts?.role || e.user.role === opts.role), (e) => e.user.username, opts)
      .map((e) => this.materialize(s, e.user, e.mappings)));
  }
  countUsers(): Promise<number> { return this.op((s) => s.users.size); }
  addUser(user: User): Promise<User> {
    return this.op((s) => {
      if (s.users.has(user.username)) throw new FsError('AlreadyExists', `user "${user.username}" already exists`);
      const mappings = this.mappingsOf(s, user);
      groups.checkUserRefs(s, user);
      const now = Date.now();
      const stored = canonicalUser({
        ...user, id: ++s.ids.user, virtual_folders: [], created_at: user.created_at || now, updated_at: user.updated_at || now,
      });
      s.users.set(user.username, { user: stored, mappings });
      return this.materialize(s, stored, mappings);
    });
  }
  updateUser(user: User): Promise<User> {
    return this.op((s) => {
      const e = s.users.get(user.username);
      if (!e) throw this.notFound(`user "${user.username}"`);
      const mappings = this.mappingsOf(s, user);
      groups.checkUserRefs(s, user);
      const old = e.user;
      const stored = canonicalUser({
        ...user, id: old.id, virtual_folders: [], created_at: old.created_at, last_login: old.last_login,
        used_quota_size: old.used_quota_size, used_quota_files: old.used_quota_files,
        last_quota_update: old.last_quota_update, used_upload_data_transfer: old.used_upload_data_transfer,
        used_download_data_transfer: old.used_download_data_transfer, updated_at: user.updated_at || Date.now(),
      });
      s.users.set(user.username, { user: stored, mappings });
      return this.materialize(s, stored, mappings);
    });
  }
  deleteUser(username: string): Promise<void> {
    return this.op((s) => {
      if (!s.users.delete(username)) throw this.notFound(`user "${username}"`);
      for (const [id, k] of s.apiKeys) if (k.user === username) s.apiKeys.delete(id);
      deleteMemorySharesOf(s.shares, username);
    });
  }
  private withUser(username: string, fn: (u: User) => void): Promise<void> {
    return this.op((s) => {
      const e = s.users.get(username);
      if (!e) throw this.notFound(`user "${username}"`);
      fn(e.user);
    });
  }
  updateLastLogin(username: string, when: number): Promise<void> {
    return this.withUser(username, (u) => { u.last_login = when; });
  }
  updateUserQuota(username: string, size: number, files: number, reset: boolean): Promise<void> {
    return this.withUser(username, (u) => {
      u.used_quota_size = (reset ? 0 : u.used_quota_size ?? 0) + size;
      u.used_quota_files = (reset ? 0 : u.used_quota_files ?? 0) + files;
      u.last_quota_update = Date.now();
    });
  }
  updateUserTransferQuota(username: string, up: number, down: number, reset: boolean): Promise<void> {
    return this.withUser(username, (u) => {
      u.used_upload_data_transfer = (reset ? 0 : u.used_upload_data_transfer ?? 0) + up;
      u.used_download_data_transfer = (reset ? 0 : u.used_download_data_transfer ?? 0) + down;
      u.last_quota_update = Date.now();
    });
  }
  updateFirstTransfer(username: string, kind: 'upload' | 'download', when: number): Promise<void> {
    return this.withUser(username, (u) => {
      if (kind === 'upload' && !u.first_upload) u.first_upload = when;
      if (kind === 'download' && !u.first_download) u.first_download = when;
    });
  }

  // --- folders ---
  getFolder(name: string): Promise<Folder | undefined> {
    return this.op((s) => {
      const f = s.folders.get(name);
      return f ? this.folderOut(s, f) : undefined;
    });
  }
  listFolders(opts?: ListOptions): Promise<Folder[]> {
    return this.op((s) => page([...s.folders.values()], (f) => f.name, opts).map((f) => this.folderOut(s, f)));
  }
  addFolder(folder: Folder): Promise<Folder> {
    return this.op((s) => {
      if (s.folders.has(folder.name)) throw new FsError('AlreadyExists', `folder "${folder.name}" already exists`);
      const stored = canonicalFolder({ ...folder, id: ++s.ids.folder, users: [] });
      s.folders.set(folder.name, stored);
      return this.folderOut(s, stored);
    });
  }
  updateFolder(folder: Folder): Promise<Folder> {
    return this.op((s) => {
      const old = s.folders.get(folder.name);
      if (!old) throw this.notFound(`folder "${folder.name}"`);
      const stored = canonicalFolder({
        ...old, description: folder.description, mapped_path: folder.mapped_path, filesystem: folder.filesystem, users: [],
      });
      s.folders.set(folder.name, stored);
      return this.folderOut(s, stored);
    });
  }
  deleteFolder(name: string): Promise<void> {
    return this.op((s) => {
      if (!s.folders.delete(name)) throw this.notFound(`folder "${name}"`);
      for (const e of s.users.values()) e.mappings = e.mappings.filter((m) => m.folder !== name);
      groups.dropFolder(s, name);
    });
  }
  updateFolderQuota(name: string, size: number, files: number, reset: boolean): Promise<void> {
    return this.op((s) => {
      const f = s.folders.get(name);
      if (!f) throw this.notFound(`folder "${name}"`);
      f.used_quota_size = (reset ? 0 : f.used_quota_size ?? 0) + size;
      f.used_quota_files = (reset ? 0 : f.used_quota_files ?? 0) + files;
      f.last_quota_update = Date.now();
    });
  }

  // --- admins ---
  getAdmin(username: string): Promise<Admin | undefined> {
    return this.op((s) => { const a = s.admins.get(username); return a ? canonicalAdmin(a) : undefined; });
  }
  listAdmins(opts?: ListOptions): Promise<Admin[]> {
    return this.op((s) => page([...s.admins.values()], (a) => a.username, opts).map(canonicalAdmin));
  }
  countAdmins(): Promise<number> { return this.op((s) => s.admins.size); }
  addAdmin(admin: Admin): Promise<Admin> {
    return this.op((s) => {
      if (s.admins.has(admin.username)) throw new FsError('AlreadyExists', `admin "${admin.username}" already exists`);
      groups.checkAdminRefs(s, admin);
      const now = Date.now();
      const stored = canonicalAdmin({ ...admin, id: ++s.ids.admin, created_at: admin.created_at || now, updated_at: admin.updated_at || now });
      s.admins.set(admin.username, stored);
      return canonicalAdmin(stored);
    });
  }
  updateAdmin(admin: Admin): Promise<Admin> {
    return this.op((s) => {
      const old = s.admins.get(admin.username);
      if (!old) throw this.notFound(`admin "${admin.username}"`);
      groups.checkAdminRefs(s, admin);
      const stored = canonicalAdmin({
        ...admin, id: old.id, created_at: old.created_at, last_login: old.last_login, updated_at: admin.updated_at || Date.now(),
      });
      s.admins.set(admin.username, stored);
      return canonicalAdmin(stored);
    });
  }
  deleteAdmin(username: string): Promise<void> {
    return this.op((s) => {
      if (!s.admins.delete(username)) throw this.notFound(`admin "${username}"`);
      for (const [id, k] of s.apiKeys) if (k.admin === username) s.apiKeys.delete(id);
    });
  }
  updateAdminLastLogin(username: string, when: number): Promise<void> {
    return this.op((s) => {
      const a = s.admins.get(username);
      if (!a) throw this.notFound(`admin "${username}"`);
      a.last_login = when;
    });
  }

  // --- groups and roles (memory-groups.ts) ---
  getGroup(name: string): Promise<Group | undefined> {
    return this.op((s) => { const e = s.groups.get(name); return e ? groups.groupOut(s, e) : undefined; });
  }
  getGroupsByName(names: readonly string[]): Promise<Group[]> {
    return this.op((s) => names.flatMap((n) => { const e = s.groups.get(n); return e ? [groups.groupOut(s, e)] : []; }));
  }
  listGroups(opts?: ListOptions): Promise<Group[]> {
    return this.op((s) => page([...s.groups.values()], (e) => e.group.name, opts).map((e) => groups.groupOut(s, e)));
  }
  addGroup(group: Group): Promise<Group> { return this.op((s) => groups.addGroup(s, group)); }
  updateGroup(group: Group): Promise<Group> { return this.op((s) => groups.updateGroup(s, group)); }
  deleteGroup(name: string): Promise<void> { return this.op((s) => groups.deleteGroup(s, name)); }
  getRole(name: string): Promise<Role | undefined> {
    return this.op((s) => { const r = s.roles.get(name); return r ? groups.roleOut(s, r) : undefined; });
  }
  listRoles(opts?: ListOptions): Promise<Role[]> {
    return this.op((s) => page([...s.roles.values()], (r) => r.name, opts).map((r) => groups.roleOut(s, r)));
  }
  addRole(role: Role): Promise<Role> { return this.op((s) => groups.addRole(s, role)); }
  updateRole(role: Role): Promise<Role> { return this.op((s) => groups.updateRole(s, role)); }
  deleteRole(name: string): Promise<void> { return this.op((s) => groups.deleteRole(s, name)); }

  // --- api keys ---
  private keyOut(_s: State, k: ApiKey): ApiKey { return canonicalApiKey(k); }
  private checkOwner(s: State, k: ApiKey): void {
    if (k.user && !s.users.has(k.user)) throw this.notFound(`user "${k.user}"`);
    if (k.admin && !s.admins.has(k.admin)) throw this.notFound(`admin "${k.admin}"`);
  }
  getApiKey(keyId: string): Promise<ApiKey | undefined> {
    return this.op((s) => { const k = s.apiKeys.get(keyId); return k ? this.keyOut(s, k) : undefined; });
  }
  listApiKeys(opts?: ListOptions): Promise<ApiKey[]> {
    return this.op((s) => page([...s.apiKeys.values()], (k) => k.key_id, opts).map((k) => this.keyOut(s, k)));
  }
  addApiKey(key: ApiKey): Promise<ApiKey> {
    return this.op((s) => {
      if (s.apiKeys.has(key.key_id)) throw new FsError('AlreadyExists', `API key "${key.key_id}" already exists`);
      this.checkOwner(s, key);
      const now = Date.now();
      const stored = canonicalApiKey({ ...key, id: ++s.ids.apiKey, created_at: key.created_at || now, updated_at: key.updated_at || now });
      s.apiKeys.set(key.key_id, stored);
      return this.keyOut(s, stored);
    });
  }
  updateApiKey(key: ApiKey): Promise<ApiKey> {
    return this.op((s) => {
      const old = s.apiKeys.get(key.key_id);
      if (!old) throw this.notFound(`API key "${key.key_id}"`);
      this.checkOwner(s, key);
      const stored = canonicalApiKey({
        ...old, name: key.name, scope: key.scope, expires_at: key.expires_at, description: key.description,
        user: key.user, admin: key.admin, updated_at: key.updated_at || Date.now(),
      });
      s.apiKeys.set(key.key_id, stored);
      return this.keyOut(s, stored);
    });
  }
  deleteApiKey(keyId: string): Promise<void> {
    return this.op((s) => { if (!s.apiKeys.delete(keyId)) throw this.notFound(`API key "${keyId}"`); });
  }
  updateApiKeyLastUse(keyId: string, when: number): Promise<void> {
    return this.op((s) => {
      const k = s.apiKeys.get(keyId);
      if (!k) throw this.notFound(`API key "${keyId}"`);
      k.last_use_at = when;
    });
  }

  // --- shares (memory-shares.ts) ---
  getShare(shareId: string): Promise<Share | undefined> {
    return this.op((s) => { const sh = s.shares.get(shareId); return sh ? structuredClone(sh) : undefined; });
  }
  listShares(username: string | undefined, opts?: ListOptions): Promise<Share[]> { return this.op((s) => listMemoryShares(s.shares, username, opts)); }
  addShare(share: Share): Promise<Share> { return this.op((s) => addMemoryShare(s.shares, s.users.has(share.username), share)); }
  updateShare(share: Share): Promise<Share> { return this.op((s) => updateMemoryShare(s.shares, share)); }
  deleteShare(shareId: string): Promise<void> { return this.op((s) => deleteMemoryShare(s.shares, shareId)); }
  useShareTokens(shareId: string, n: number, when: number): Promise<boolean> {
    return this.op((s) => useMemoryShareTokens(s.shares, shareId, n, when));
  }
}
