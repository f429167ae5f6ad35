/**
 * The high-level data provider every other layer uses: validation, hashing,
 * login checks and auth on top of a DataProviderBackend. Implemented by
 * dataprovider/service.ts.
 */
import type { Admin, ApiKey, DumpData, Folder, ProtocolName, User } from './models';
import type { DataProviderBackend, ListOptions } from './provider';
import type { AccountKind, AccountSecrets, SecondFactor } from './secrets';
import type { ShareManager } from './shares';
import type { GroupsService } from './service-groups';

/** Who changed what (for provider hooks and logs). */
export interface Executor {
  username: string;
  ip: string;
  role?: string;
  /**
   * `__system__` changes are reported to provider actions/rules only when set
   * (the event manager's own changes, as SFTPGo); the hooks' external-auth and
   * pre-login user sync leaves it unset and is not reported, as SFTPGo.
   */
  reportSystemChange?: boolean;
}

/** SFTPGo's provider action object types (data_provider.actions.execute_for). */
export type ProviderObjectType =
  | 'user' | 'folder' | 'group' | 'admin' | 'api_key' | 'share' | 'event_action' | 'event_rule' | 'role' | 'ip_list_entry' | 'configs';

/** An object added, updated or deleted by an administrator (never internal updates such as last login or quota). */
export interface ProviderObjectEvent {
  action: 'add' | 'update' | 'delete';
  objectType: ProviderObjectType;
  objectName: string;
  executor: Executor;
  /** the stored object (the deleted one for delete); secrets are stripped by the subscriber */
  object: unknown;
}

export type ProviderObjectListener = (e: ProviderObjectEvent) => void;

export interface LoginContext {
  ip: string;
  protocol: ProtocolName;
}

export interface PublicKeyAuthResult {
  user: User;
  /** the matched authorized key's comment/fingerprint, for logs */
  keyInfo: string;
}

export interface DataProviderService {
  readonly backend: DataProviderBackend;
  /** provider events (data_provider.actions, event rules) go to this listener; set once by service/ */
  setObjectListener?(listener: ProviderObjectListener): void;
  /** restores a dump's event actions and rules (the event manager validates them); set once by service/ */
  setEventObjectsRestorer?(fn: (actions: unknown[], rules: unknown[], mode: number) => Promise<void>): void;

  // users (input is untrusted JSON: validated, normalized, password hashed)
  addUser(input: unknown, executor?: Executor): Promise<User>;
  /** skipUnchanged: an update that changes nothing is not written (no updated_at bump, no event) */
  updateUser(username: string, input: unknown, executor?: Executor, opts?: { skipUnchanged?: boolean }): Promise<User>;
  deleteUser(username: string, executor?: Executor): Promise<void>;
  getUser(username: string): Promise<User | undefined>;
  listUsers(opts?: ListOptions): Promise<User[]>;

  /** shares of users' files with people without an account (dataprovider/shares.ts) */
  readonly shares: ShareManager;
  /** groups and roles (REST, dump) and `withGroupSettings`, the user every protocol logs in with */
  readonly groups: GroupsService;

  // folders
  addFolder(input: unknown, executor?: Executor): Promise<Folder>;
  updateFolder(name: string, input: unknown, executor?: Executor): Promise<Folder>;
  deleteFolder(name: string, executor?: Executor): Promise<void>;
  getFolder(name: string): Promise<Folder | undefined>;
  listFolders(opts?: ListOptions): Promise<Folder[]>;

  // admins
  addAdmin(input: unknown, executor?: Executor): Promise<Admin>;
  updateAdmin(username: string, input: unknown, executor?: Executor): Promise<Admin>;
  deleteAdmin(username: string, executor?: Executor): Promise<void>;
  getAdmin(username: string): Promise<Admin | undefined>;
  listAdmins(opts?: ListOptions): Promise<Admin[]>;
  changeAdminPassword(username: string, current: string, next: string): Promise<void>;

  // api keys: returns the plain key (`<key_id>.<secret>`) once, on creation
  addApiKey(input: unknown, executor?: Executor): Promise<{ apiKey: ApiKey; key: string }>;
  updateApiKey(keyId: string, input: unknown, executor?: Executor): Promise<ApiKey>;
  deleteApiKey(keyId: string, executor?: Executor): Promise<void>;
  getApiKey(keyId: string): Promise<ApiKey | undefined>;
  listApiKeys(opts?: ListOptions): Promise<ApiKey[]>;
  /** Verifies `X-SFTPGO-API-KEY` (`<id>.<secret>[.<username>]`). */
  checkApiKey(header: string): Promise<{ apiKey: ApiKey; admin?: Admin; user?: User }>;

  /**
   * Provider-level password check: user exists, enabled, not expired, inside
   * access_time, protocol and login method allowed, source IP allowed, password.
   * Throws FsError('PermissionDenied'|'NotFound') with a message safe to log.
   * NOT a login: no TOTP, password expiry, anonymous or session rules. Protocol
   * logins go through common/login.ts (`loginService(ctx).login`, `loginHttpUser`).
   */
  checkUserAndPass(username: string, password: string, ctx: LoginContext): Promise<User>;
  /** `keyBlob` is the SSH wire-format public key the client offered. Signature checking is the SSH layer's job. */
  checkUserAndPubKey(username: string, keyBlob: Buffer, ctx: LoginContext): Promise<PublicKeyAuthResult>;
  /** Re-checks status/expiration/IP/protocol/method without credentials (multi-step auth, reload). */
  checkLoginConditions(user: User, ctx: LoginContext & { method: string }): void;
  checkAdminAndPass(username: string, password: string, ip: string): Promise<Admin>;
  /** Compares a password with the user's stored hash (password_caching honoured); false when the user has none. */
  verifyUserPassword(user: User, password: string): Promise<boolean>;

  /** kms + TOTP validator: passcode checks, recovery codes (dataprovider/secrets.ts). */
  readonly secrets: AccountSecrets;
  /** Validates, encrypts and stores an account's TOTP configuration and recovery codes (the 2FA endpoints). */
  saveSecondFactor(kind: AccountKind, username: string, sf: SecondFactor, executor?: Executor): Promise<void>;
  /** Spends one unused recovery code of an account with TOTP enabled; false when none matches. */
  useRecoveryCode(kind: AccountKind, username: string, code: string): Promise<boolean>;

  updateLastLogin(user: User): Promise<void>;
  /** Adds (or with reset sets) used quota for a user. */
  updateUserQuota(username: string, sizeDelta: number, filesDelta: number, reset?: boolean): Promise<void>;
  updateFolderQuota(name: string, sizeDelta: number, filesDelta: number, reset?: boolean): Promise<void>;
  updateUserTransferQuota(username: string, uploadDelta: number, downloadDelta: number, reset?: boolean): Promise<void>;
  /**
   * Sets first_upload (isUpload) or first_download to now when still unset
   * (SFTPGo UpdateUserTransferTimestamps). Optional: common skips it when absent.
   */
  updateUserTransferTimestamps?(username: string, isUpload: boolean): Promise<void>;

  /** Creates the default admin when configured and no admin exists. */
  ensureDefaultAdmin(): Promise<void>;
  dump(): Promise<DumpData>;
  /** mode 0 add+update, 1 add only, 2 add+update (+disconnect, done by caller). All or nothing. */
  restore(dump: unknown, mode: number): Promise<{ users: string[] }>;
  close(): Promise<void>;
}
