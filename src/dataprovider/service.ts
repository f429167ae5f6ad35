/**
 * DataProviderService: validation, hashing and login checks on top of a
 * DataProviderBackend. Input is untrusted JSON; what is stored is always
 * validated and hashed; hashes leave only through dump() (the API layer uses
 * toPublicUser/toPublicAdmin).
 */
import { FsError } from '../common/errors';
import type { AppLogger } from '../logger/types';
import { checkAdminConditions, checkLoginConditions, matchPublicKey } from './auth';
import { ApiKeyManager } from './apikeys';
import type { Admin, ApiKey, DumpData, Folder, ProtocolName, User, VirtualFolder } from './models';
import { DEFAULT_PASSWORD_HASHING, hashPassword, isHashedPassword, verifyPassword } from './passwords';
import type { ServiceConfig, ServiceOptions } from './service-options';

export type { ServiceConfig, ServiceOptions } from './service-options';
import { PasswordChecker } from './service-passwords';
import { createDefaultAdmin } from './default-admin';
import type { SecretsKms } from '../kms/types';
import { sealFilesystemSecrets } from './fs-secrets';
import { sameAccount } from './user-diff';
import type { DataProviderBackend, FolderStore, ListOptions } from './provider';
import { restoreDump } from './restore';
import { ShareManager } from './shares';
import { SecondFactorWriter } from './service-mfa';
import { checkAdminRefs, checkUserRefs, GroupsService } from './service-groups';
import { type AccountKind, type AccountSecrets, defaultAccountSecrets, type SecondFactor, withSecondFactor } from './secrets';
import type { DataProviderService, Executor, LoginContext, ProviderObjectEvent, ProviderObjectListener, PublicKeyAuthResult } from './types';
import { isObj, validateAdmin, validateFolder, validateUser, ValidationError } from './validation';

/** SFTPGo writes last_login at most this often. */
const LAST_LOGIN_MIN_DELAY_MS = 10 * 60 * 1000;
const SENDER = 'dataprovider';


export class ProviderService implements DataProviderService {
  readonly backend: DataProviderBackend;
  private readonly cfg: ServiceConfig;
  private readonly log: AppLogger;
  private readonly env: NodeJS.ProcessEnv;
  private readonly passwords: PasswordChecker;
  private readonly apiKeys: ApiKeyManager;
  readonly shares: ShareManager;
  readonly secrets: AccountSecrets;
  private readonly secondFactors: SecondFactorWriter;
  private readonly kms: SecretsKms | undefined;
  private objectListener: ProviderObjectListener | undefined;
  /** groups, roles and the group merge at login (service-groups.ts) */
  readonly groups: GroupsService;

  constructor(opts: ServiceOptions) {
    this.kms = opts.kms;
    this.backend = opts.backend;
    this.cfg = { ...opts.config, password_hashing: opts.config.password_hashing ?? DEFAULT_PASSWORD_HASHING };
    this.passwords = new PasswordChecker(this.cfg.password_caching);
    this.log = opts.logger;
    this.env = opts.env ?? process.env;
    this.secrets = opts.secrets ?? defaultAccountSecrets();
    this.apiKeys = new ApiKeyManager(this.backend, (p) => this.hash(p), this.cfg.password_caching);
    this.shares = new ShareManager(this.backend, (p) => this.hash(p));
    this.groups = new GroupsService(this, () => this.cfg.naming_rules, this.log);
    this.secondFactors = new SecondFactorWriter(this.backend, this.secrets, this.log);
  }

  setObjectListener(listener: ProviderObjectListener): void { this.objectListener = listener; }

  /** Set by the event manager (service/events.ts): restores the dump's event actions and rules. */
  restoreEventObjects?: (actions: unknown[], rules: unknown[], mode: number) => Promise<void>;
  setEventObjectsRestorer(fn: (actions: unknown[], rules: unknown[], mode: number) => Promise<void>): void { this.restoreEventObjects = fn; }

  /**
   * Reports an administrator's change. Without an executor the change is
   * internal; `__system__` without reportSystemChange is the hooks'
   * external-auth/pre-login user sync, which SFTPGo does not report either.
   */
  private changed(action: ProviderObjectEvent['action'], objectType: ProviderObjectEvent['objectType'], objectName: string, executor: Executor | undefined, object: unknown): void {
    if (!this.objectListener || !executor || (executor.username === '__system__' && !executor.reportSystemChange)) return;
    this.objectListener({ action, objectType, objectName, executor, object });
  }

  private get userOpts(): { namingRules: number; usersBaseDir: string } {
    return { namingRules: this.cfg.naming_rules, usersBaseDir: this.cfg.users_base_dir };
  }

  /** Stores a submitted hash as is, hashes anything else. */
  async hash(password: string): Promise<string> {
    return isHashedPassword(password) ? password : hashPassword(password, this.cfg.password_hashing);
  }

  /** Maps every virtual folder to an existing folder, creating missing ones from mapped_path. Call inside a transaction. */
  async resolveFolders(folders: readonly VirtualFolder[] | undefined, tx: FolderStore = this.backend): Promise<VirtualFolder[]> {
    const out: VirtualFolder[] = [];
    for (const vf of folders ?? []) {
      let folder = await tx.getFolder(vf.name);
      if (!folder) {
        if (!vf.mapped_path && !vf.filesystem) throw new ValidationError(`folder "${vf.name}" does not exist and no mapped_path was given to create it`);
        const f = validateFolder({ name: vf.name, mapped_path: vf.mapped_path, description: vf.description, filesystem: vf.filesystem }, this.cfg.naming_rules);
        f.filesystem = await sealFilesystemSecrets(f.filesystem ?? { provider: 0 }, undefined, this.kms, `folder_${f.name}`, `folder "${f.name}" filesystem`);
        folder = await tx.addFolder(f);
      }
      // SFTPGo refuses to use such a mapping; refusing it on save says so at once
      if (vf.subpath && folder.filesystem?.provider === 6) throw new ValidationError(`virtual_folders[].subpath: folder "${vf.name}" is on HTTP storage, which cannot have a subpath`);
      out.push({ ...vf, mapped_path: folder.mapped_path });
    }
    return out;
  }

  // --- users ---
  /** The user's filesystem secrets sealed with the kms. */
  private async prepareUserStorage(u: User, existing: User | undefined): Promise<void> {
    u.filesystem = await sealFilesystemSecrets(u.filesystem ?? { provider: 0 }, existing ? existing.filesystem ?? { provider: 0 } : undefined,
      this.kms, u.username, 'filesystem');
  }

  async addUser(input: unknown, executor?: Executor): Promise<User> {
    const u = validateUser(input, this.userOpts);
    await this.prepareUserStorage(u, undefined);
    u.filters = withSecondFactor(u.filters, await this.secrets.seal(u.filters ?? {}, u.username, 'user'));
    const now = Date.now();
    if (u.password) {
      u.password = await this.hash(u.password);
      u.last_password_change = now;
    }
    const stored = await this.backend.transaction(async (tx) => {
      await checkUserRefs(tx, u);
      const virtual_folders = await this.resolveFolders(u.virtual_folders, tx);
      return tx.addUser({ ...u, virtual_folders, created_at: now, updated_at: now });
    });
    this.log.info(SENDER, `user "${stored.username}" added`, { executor: executor?.username, ip: executor?.ip });
    this.changed('add', 'user', stored.username, executor, stored);
    return stored;
  }

  async updateUser(username: string, input: unknown, executor?: Executor, opts: { skipUnchanged?: boolean } = {}): Promise<User> {
    const existing = await this.backend.getUser(username);
    if (!existing) throw new FsError('NotFound', `user "${username}" does not exist`);
    if (!isObj(input)) throw new ValidationError('user must be a JSON object');
    // the path names the user; an omitted/empty password keeps the current one
    const raw: Record<string, unknown> = { ...input, username };
    const keepPassword = raw.password === undefined || raw.password === null || raw.password === '';
    if (keepPassword) raw.password = existing.password ?? '';
    const u = validateUser(raw, { ...this.userOpts, namingRules: this.cfg.naming_rules & ~2 & ~4 | 1 });
    u.username = existing.username;
    u.last_password_change = existing.last_password_change;
    await this.prepareUserStorage(u, existing);
    // as SFTPGo's update: second factors change only through the 2FA endpoints (saveSecondFactor)
    u.filters = withSecondFactor(u.filters, existing.filters ?? {});
    // skipUnchanged: the plain password a hook sent that matches the stored hash keeps that hash (a new salt is no change)
    const samePlain = opts.skipUnchanged === true && !keepPassword && !!u.password && !isHashedPassword(u.password)
      && (await this.verifyUserPassword(existing, u.password));
    if (samePlain) u.password = existing.password;
    else if (!keepPassword && u.password) {
      u.password = await this.hash(u.password);
      if (u.password !== existing.password) u.last_password_change = Date.now();
    }
    let unchanged = false;
    const stored = await this.backend.transaction(async (tx) => {
      await checkUserRefs(tx, u);
      const virtual_folders = await this.resolveFolders(u.virtual_folders, tx);
      const next = { ...u, virtual_folders, first_download: existing.first_download, first_upload: existing.first_upload };
      unchanged = opts.skipUnchanged === true && sameAccount(next, existing);
      return unchanged ? existing : tx.updateUser({ ...next, updated_at: Date.now() });
    });
    if (unchanged) return stored;
    // entries are bound to the hash they matched: only a new hash makes them useless
    if (stored.password !== existing.password) this.passwords.users.remove(username);
    this.log.info(SENDER, `user "${username}" updated`, { executor: executor?.username, ip: executor?.ip });
    this.changed('update', 'user', stored.username, executor, stored);
    return stored;
  }

  async deleteUser(username: string, executor?: Executor): Promise<void> {
    const before = this.objectListener ? await this.backend.getUser(username) : undefined;
    await this.backend.deleteUser(username);
    this.changed('delete', 'user', username, executor, before);
    this.passwords.users.remove(username);
    this.log.info(SENDER, `user "${username}" deleted`, { executor: executor?.username, ip: executor?.ip });
  }

  getUser(username: string): Promise<User | undefined> { return this.backend.getUser(username); }
  listUsers(opts?: ListOptions): Promise<User[]> { return this.backend.listUsers(opts); }

  // --- folders ---
  async addFolder(input: unknown, executor?: Executor): Promise<Folder> {
    const f = validateFolder(input, this.cfg.naming_rules);
    f.filesystem = await sealFilesystemSecrets(f.filesystem ?? { provider: 0 }, undefined, this.kms, `folder_${f.name}`, 'filesystem');
    const stored = await this.backend.addFolder(f);
    this.log.info(SENDER, `folder "${f.name}" added`, { executor: executor?.username });
    this.changed('add', 'folder', stored.name, executor, stored);
    return stored;
  }

  async updateFolder(name: string, input: unknown, executor?: Executor): Promise<Folder> {
    if (!isObj(input)) throw new ValidationError('folder must be a JSON object');
    const f = validateFolder({ ...input, name }, this.cfg.naming_rules);
    f.name = name;
    const old = await this.backend.getFolder(name);
    f.filesystem = await sealFilesystemSecrets(f.filesystem ?? { provider: 0 }, old?.filesystem ?? { provider: 0 }, this.kms, `folder_${name}`, 'filesystem');
    const stored = await this.backend.updateFolder(f);
    this.log.info(SENDER, `folder "${name}" updated`, { executor: executor?.username });
    this.changed('update', 'folder', name, executor, stored);
    return stored;
  }

  async deleteFolder(name: string, executor?: Executor): Promise<void> {
    const before = this.objectListener ? await this.backend.getFolder(name) : undefined;
    await this.backend.deleteFolder(name);
    this.changed('delete', 'folder', name, executor, before);
    this.log.info(SENDER, `folder "${name}" deleted`, { executor: executor?.username });
  }

  getFolder(name: string): Promise<Folder | undefined> { return this.backend.getFolder(name); }
  listFolders(opts?: ListOptions): Promise<Folder[]> { return this.backend.listFolders(opts); }

  // --- admins ---
  async addAdmin(input: unknown, executor?: Executor): Promise<Admin> {
    const a = validateAdmin(input, this.cfg.naming_rules);
    a.filters = withSecondFactor(a.filters, await this.secrets.seal(a.filters ?? {}, a.username, 'admin'));
    a.password = await this.hash(a.password ?? '');
    await checkAdminRefs(this.backend, a);
    const stored = await this.backend.addAdmin(a);
    this.log.info(SENDER, `admin "${a.username}" added`, { executor: executor?.username });
    this.changed('add', 'admin', stored.username, executor, stored);
    return stored;
  }

  async updateAdmin(username: string, input: unknown, executor?: Executor): Promise<Admin> {
    const existing = await this.backend.getAdmin(username);
    if (!existing) throw new FsError('NotFound', `admin "${username}" does not exist`);
    if (!isObj(input)) throw new ValidationError('admin must be a JSON object');
    const raw: Record<string, unknown> = { ...input, username };
    const keep = raw.password === undefined || raw.password === null || raw.password === '';
    if (keep) raw.password = existing.password ?? '';
    const a = validateAdmin(raw, this.cfg.naming_rules & ~2 & ~4 | 1);
    a.username = existing.username;
    a.filters = withSecondFactor(a.filters, existing.filters ?? {});
    if (!keep) a.password = await this.hash(a.password ?? '');
    await checkAdminRefs(this.backend, a);
    const stored = await this.backend.updateAdmin({ ...a, updated_at: Date.now() });
    this.passwords.admins.remove(username);
    this.log.info(SENDER, `admin "${username}" updated`, { executor: executor?.username });
    this.changed('update', 'admin', username, executor, stored);
    return stored;
  }

  async deleteAdmin(username: string, executor?: Executor): Promise<void> {
    const before = this.objectListener ? await this.backend.getAdmin(username) : undefined;
    await this.backend.deleteAdmin(username);
    this.changed('delete', 'admin', username, executor, before);
    this.passwords.admins.remove(username);
    this.log.info(SENDER, `admin "${username}" deleted`, { executor: executor?.username });
  }

  getAdmin(username: string): Promise<Admin | undefined> { return this.backend.getAdmin(username); }
  listAdmins(opts?: ListOptions): Promise<Admin[]> { return this.backend.listAdmins(opts); }

  async changeAdminPassword(username: string, current: string, next: string): Promise<void> {
    const admin = await this.backend.getAdmin(username);
    if (!admin) throw new FsError('NotFound', `admin "${username}" does not exist`);
    if (!admin.password || !(await verifyPassword(current, admin.password))) throw new ValidationError('current password does not match');
    if (next === '') throw new ValidationError('please provide a new password');
    if (next === current) throw new ValidationError('the new password must be different from the current one');
    await this.backend.updateAdmin({ ...admin, password: await this.hash(next), updated_at: Date.now() });
    this.passwords.admins.remove(username);
  }

  // --- second factors (service-mfa.ts) ---
  /** Seals (validates, encrypts) and stores an account's TOTP configuration and recovery codes. */
  saveSecondFactor(kind: AccountKind, username: string, sf: SecondFactor, executor?: Executor): Promise<void> {
    return this.secondFactors.save(kind, username, sf, executor);
  }

  /** Marks an unused recovery code as used; false when it does not match an unused code. Serialized per account. */
  useRecoveryCode(kind: AccountKind, username: string, code: string): Promise<boolean> {
    return this.secondFactors.useRecoveryCode(kind, username, code);
  }

  // --- api keys ---
  addApiKey(input: unknown, executor?: Executor): Promise<{ apiKey: ApiKey; key: string }> {
    return this.apiKeys.add(input).then((r) => {
      this.log.info(SENDER, `API key "${r.apiKey.key_id}" added`, { executor: executor?.username });
      this.changed('add', 'api_key', r.apiKey.key_id, executor, r.apiKey);
      return r;
    });
  }
  async updateApiKey(keyId: string, input: unknown, executor?: Executor): Promise<ApiKey> {
    const stored = await this.apiKeys.update(keyId, input);
    this.changed('update', 'api_key', keyId, executor, stored);
    return stored;
  }
  async deleteApiKey(keyId: string, executor?: Executor): Promise<void> {
    const before = this.objectListener ? await this.backend.getApiKey(keyId) : undefined;
    await this.backend.deleteApiKey(keyId);
    this.changed('delete', 'api_key', keyId, executor, before);
  }
  getApiKey(keyId: string): Promise<ApiKey | undefined> { return this.backend.getApiKey(keyId); }
  listApiKeys(opts?: ListOptions): Promise<ApiKey[]> { return this.backend.listApiKeys(opts); }
  checkApiKey(header: string): Promise<{ apiKey: ApiKey; admin?: Admin; user?: User }> { return this.apiKeys.check(header); }

  // --- authentication ---
  private async mustGetUser(username: string): Promise<User> {
    const user = await this.backend.getUser(username);
    if (!user) throw new FsError('NotFound', `user "${username}" does not exist`);
    return user;
  }

  async checkUserAndPass(username: string, password: string, ctx: LoginContext): Promise<User> {
    const user = await this.mustGetUser(username);
    checkLoginConditions(user, { ip: ctx.ip, protocol: ctx.protocol, method: 'password' });
    if (!user.password || password.trim() === '') throw new FsError('PermissionDenied', 'credentials cannot be null or empty');
    if (!(await this.passwords.matches(this.passwords.users, username, password, user.password))) {
      throw new FsError('PermissionDenied', 'invalid credentials');
    }
    return user;
  }

  async checkUserAndPubKey(username: string, keyBlob: Buffer, ctx: LoginContext): Promise<PublicKeyAuthResult> {
    const user = await this.mustGetUser(username);
    checkLoginConditions(user, { ip: ctx.ip, protocol: ctx.protocol, method: 'publickey' });
    const keyInfo = matchPublicKey(user.public_keys ?? [], keyBlob);
    if (keyInfo === undefined) throw new FsError('PermissionDenied', 'invalid credentials');
    return { user, keyInfo };
  }

  checkLoginConditions(user: User, ctx: LoginContext & { method: string }): void {
    checkLoginConditions(user, ctx);
  }

  async checkAdminAndPass(username: string, password: string, ip: string): Promise<Admin> {
    const admin = await this.backend.getAdmin(username);
    // same message for unknown admin and wrong password: do not reveal which admins exist
    if (!admin || !admin.password) throw new FsError('PermissionDenied', 'invalid credentials');
    checkAdminConditions(admin, ip);
    if (!(await this.passwords.matches(this.passwords.admins, username, password, admin.password))) {
      throw new FsError('PermissionDenied', 'invalid credentials');
    }
    if (Date.now() - (admin.last_login ?? 0) > LAST_LOGIN_MIN_DELAY_MS) {
      await this.backend.updateAdminLastLogin(username, Date.now());
    }
    return admin;
  }

  async verifyUserPassword(user: User, password: string): Promise<boolean> {
    if (!user.password) return false;
    return this.passwords.matches(this.passwords.users, user.username, password, user.password);
  }



  async updateLastLogin(user: User): Promise<void> {
    const now = Date.now();
    if (now - (user.last_login ?? 0) <= LAST_LOGIN_MIN_DELAY_MS) return;
    await this.backend.updateLastLogin(user.username, now);
    user.last_login = now;
  }

  updateUserQuota(username: string, size: number, files: number, reset = false): Promise<void> {
    return this.backend.updateUserQuota(username, size, files, reset);
  }
  updateFolderQuota(name: string, size: number, files: number, reset = false): Promise<void> {
    return this.backend.updateFolderQuota(name, size, files, reset);
  }
  /** first_upload/first_download, set once (SFTPGo UpdateUserTransferTimestamps); drives the first-* actions. */
  updateUserTransferTimestamps(username: string, isUpload: boolean): Promise<void> {
    return this.backend.updateFirstTransfer(username, isUpload ? 'upload' : 'download', Date.now());
  }
  updateUserTransferQuota(username: string, up: number, down: number, reset = false): Promise<void> {
    return this.backend.updateUserTransferQuota(username, up, down, reset);
  }

  async ensureDefaultAdmin(): Promise<void> {
    if (this.cfg.create_default_admin) await createDefaultAdmin(this, this.env, this.log);
  }


  dump(): Promise<DumpData> { return this.backend.dump(); }

  async restore(dump: unknown, mode: number): Promise<{ users: string[] }> {
    const r = await restoreDump(this, dump, mode);
    this.passwords.clear();
    if (r.skipped.length > 0) {
      this.log.warn(SENDER, 'dump sections not supported yet were ignored', { sections: r.skipped });
    }
    this.log.info(SENDER, `dump restored, mode ${mode}`, { users: r.users.length });
    return { users: r.users };
  }

  /** Exposed for restore.ts (same validation options as the API). */
  validationOptions(): { namingRules: number; usersBaseDir: string } { return this.userOpts; }

  /** Exposed for restore.ts: a dump's Plain secrets are encrypted, encrypted ones must open. */
  sealSecondFactor(sf: SecondFactor, username: string, kind: AccountKind): Promise<SecondFactor> { return this.secrets.seal(sf, username, kind); }

  close(): Promise<void> { return this.backend.close(); }
}

export type { ProtocolName };
