/**
 * Restores an SFTPGo dump (loaddata / POST /loaddata / memory driver file).
 * Everything is validated and hashed first, then written in one transaction:
 * a bad entry anywhere leaves the provider untouched. Stored hashes and the
 * bookkeeping fields (timestamps, used quota) are restored as they are.
 */
import { FsError } from '../common/errors';
import { type Admin, type ApiKey, DUMP_VERSION, type Folder, type Group, type Role, type User } from './models';
import type { DataProviderBackend, FolderStore } from './provider';
import { type Share, shareFromDump } from './shares';
import { type AccountKind, type SecondFactor, withSecondFactor } from './secrets';
import { checkAdminRefs, checkUserRefs } from './service-groups';
import {
  asObj, type Obj, validateAdmin, validateApiKey, validateFolder, validateGroup, validateRole, validateUser, ValidationError,
} from './validation';
import { validateIpListEntry, type IpListEntry } from './iplist';

/** What restore needs from the service (kept narrow to avoid a dependency cycle). */
export interface RestoreHost {
  readonly backend: DataProviderBackend;
  hash(password: string): Promise<string>;
  resolveFolders(folders: User['virtual_folders'], tx: FolderStore): Promise<NonNullable<User['virtual_folders']>>;
  validationOptions(): { namingRules: number; usersBaseDir: string };
  sealSecondFactor(sf: SecondFactor, username: string, kind: AccountKind): Promise<SecondFactor>;
  /** event actions and rules (validated by the event manager); absent: those sections are skipped */
  readonly restoreEventObjects?: (actions: unknown[], rules: unknown[], mode: number) => Promise<void>;
}

/** TOTP secrets and recovery codes: Plain ones are encrypted, encrypted ones must open with this kms. */
async function sealAt(host: RestoreHost, what: string, sf: SecondFactor, username: string, kind: AccountKind): Promise<SecondFactor> {
  try {
    return await host.sealSecondFactor(sf, username, kind);
  } catch (e) {
    if (e instanceof ValidationError) throw new ValidationError(`${what}: ${e.message}`);
    throw e;
  }
}

const USER_BOOKKEEPING = ['used_quota_size', 'used_quota_files', 'last_quota_update', 'used_upload_data_transfer',
  'used_download_data_transfer', 'created_at', 'updated_at', 'last_login', 'first_download', 'first_upload',
  'last_password_change'] as const;
const FOLDER_BOOKKEEPING = ['used_quota_size', 'used_quota_files', 'last_quota_update'] as const;
const ADMIN_BOOKKEEPING = ['created_at', 'updated_at', 'last_login'] as const;
const GROUP_BOOKKEEPING = ['created_at', 'updated_at'] as const;
const KEY_BOOKKEEPING = ['created_at', 'updated_at', 'last_use_at'] as const;

function copyCounters<T extends object>(target: T, raw: Obj, keys: readonly string[]): T {
  const t = target as Record<string, unknown>;
  for (const k of keys) {
    const v = raw[k];
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) t[k] = v;
  }
  return target;
}

function section(dump: Obj, key: string): Obj[] {
  const v = dump[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ValidationError(`dump: "${key}" must be an array`);
  return v.map((item, i) => asObj(item, `dump ${key}[${i}]`));
}

/** Prefixes validation errors with the object they come from. */
async function atAsync<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ValidationError) throw new ValidationError(`${what}: ${e.message}`);
    throw e;
  }
}

function at<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ValidationError) throw new ValidationError(`${what}: ${e.message}`);
    throw e;
  }
}


/** ipLists: the restored IP lists' types, so the running perimeter reloads them */
export interface RestoreResult { users: string[]; skipped: string[]; ipLists: number[] }

export async function restoreDump(host: RestoreHost, input: unknown, mode: number): Promise<RestoreResult> {
  if (![0, 1, 2].includes(mode)) throw new ValidationError(`invalid restore mode ${mode}: use 0, 1 or 2`);
  const dump = asObj(input, 'dump');
  const version = dump.version;
  if (version !== undefined && (typeof version !== 'number' || !Number.isInteger(version) || version > DUMP_VERSION)) {
    throw new ValidationError(`unsupported dump version ${String(version)}, the maximum supported is ${DUMP_VERSION}`);
  }
  const opts = host.validationOptions();
  const skipped = [...(host.restoreEventObjects ? [] : ['event_actions', 'event_rules'])]
    .filter((k) => Array.isArray(dump[k]) && (dump[k] as unknown[]).length > 0);

  const folders: Folder[] = section(dump, 'folders').map((raw, i) =>
    at(`folder ${i + 1} (${String(raw.name)})`, () => copyCounters(validateFolder(raw, opts.namingRules), raw, FOLDER_BOOKKEEPING)));
  const roles: Role[] = section(dump, 'roles').map((raw, i) =>
    at(`role ${i + 1} (${String(raw.name)})`, () => copyCounters(validateRole(raw, opts.namingRules), raw, GROUP_BOOKKEEPING)));
  const groups: Group[] = section(dump, 'groups').map((raw, i) =>
    at(`group ${i + 1} (${String(raw.name)})`, () => copyCounters(validateGroup(raw, opts.namingRules), raw, GROUP_BOOKKEEPING)));
  const admins: Admin[] = [];
  for (const [i, raw] of section(dump, 'admins').entries()) {
    const a = at(`admin ${i + 1} (${String(raw.username)})`, () => copyCounters(validateAdmin(raw, opts.namingRules), raw, ADMIN_BOOKKEEPING));
    a.filters = withSecondFactor(a.filters, await sealAt(host, `admin ${i + 1} (${a.username})`, a.filters ?? {}, a.username, 'admin'));
    a.password = await host.hash(a.password ?? '');
    admins.push(a);
  }
  const users: User[] = [];
  for (const [i, raw] of section(dump, 'users').entries()) {
    const u = at(`user ${i + 1} (${String(raw.username)})`, () => copyCounters(validateUser(raw, opts), raw, USER_BOOKKEEPING));
    u.filters = withSecondFactor(u.filters, await sealAt(host, `user ${i + 1} (${u.username})`, u.filters ?? {}, u.username, 'user'));
    if (u.password) u.password = await host.hash(u.password);
    users.push(u);
  }
  const keys: ApiKey[] = section(dump, 'api_keys').map((raw, i) => at(`API key ${i + 1}`, () => {
    const keyId = typeof raw.key_id === 'string' ? raw.key_id.trim() : '';
    const hash = typeof raw.key === 'string' ? raw.key : '';
    if (!keyId || !hash) throw new ValidationError('key_id and key (the stored hash) are mandatory');
    return copyCounters({ ...validateApiKey(raw), key_id: keyId, key: hash }, raw, KEY_BOOKKEEPING);
  }));
  const shares: Share[] = [];
  for (const [i, raw] of section(dump, 'shares').entries()) {
    shares.push(await atAsync(`share ${i + 1} (${String(raw.id)})`, () => shareFromDump(raw, (p) => host.hash(p))));
  }

  const now = Date.now();
  const ipLists: IpListEntry[] = section(dump, 'ip_lists').map((raw, i) => at(`IP list entry ${i + 1} (${String(raw.ipornet)})`, () => {
    const e = validateIpListEntry(raw, now);
    // the dump's own timestamps are kept, as for the other objects' bookkeeping
    if (typeof raw.created_at === 'number' && Number.isSafeInteger(raw.created_at)) e.created_at = raw.created_at;
    if (typeof raw.updated_at === 'number' && Number.isSafeInteger(raw.updated_at)) e.updated_at = raw.updated_at;
    return e;
  }));
  const restoredUsers: string[] = [];
  await host.backend.transaction(async (b) => {
    for (const r of roles) {
      if (await b.getRole(r.name)) {
        if (mode !== 1) await b.updateRole(r);
      } else {
        await b.addRole(r);
      }
    }
    for (const f of folders) {
      if (await b.getFolder(f.name)) {
        if (mode !== 1) await b.updateFolder(f);
      } else {
        await b.addFolder(f);
      }
    }
    for (const g of groups) {
      const existing = await b.getGroup(g.name);
      if (existing && mode === 1) continue;
      const virtual_folders = await host.resolveFolders(g.virtual_folders, b);
      if (existing) await b.updateGroup({ ...g, virtual_folders });
      else await b.addGroup({ ...g, virtual_folders });
    }
    for (const a of admins) {
      await atAsync(`admin "${a.username}"`, () => checkAdminRefs(b, a));
      if (await b.getAdmin(a.username)) {
        if (mode !== 1) await b.updateAdmin(a);
      } else {
        await b.addAdmin(a);
      }
    }
    for (const u of users) {
      const existing = await b.getUser(u.username);
      if (existing && mode === 1) continue;
      await atAsync(`user "${u.username}"`, () => checkUserRefs(b, u));
      const virtual_folders = await host.resolveFolders(u.virtual_folders, b);
      if (existing) await b.updateUser({ ...u, virtual_folders });
      else await b.addUser({ ...u, virtual_folders });
      restoredUsers.push(u.username);
    }
    for (const k of keys) {
      try {
        if (await b.getApiKey(k.key_id)) {
          if (mode !== 1) await b.updateApiKey(k);
        } else {
          await b.addApiKey(k);
        }
      } catch (e) {
        if (e instanceof FsError && e.kind === 'NotFound') throw new ValidationError(`API key "${k.key_id}": ${e.message}`);
        throw e;
      }
    }
    for (const sh of shares) {
      try {
        if (await b.getShare(sh.id)) {
          if (mode !== 1) await b.updateShare(sh);
        } else {
          await b.addShare(sh);
        }
      } catch (e) {
        if (e instanceof FsError && e.kind === 'NotFound') throw new ValidationError(`share "${sh.id}": ${e.message}`);
        throw e;
      }
    }
    // IP lists live in the backend's perimeter store; its statements join this transaction (SQL) too
    for (const e of ipLists) {
      if (await host.backend.perimeter.getIpListEntry(e.type, e.ipornet)) {
        if (mode !== 1) await host.backend.perimeter.updateIpListEntry(e);
      } else {
        await host.backend.perimeter.addIpListEntry(e);
      }
    }
  });
  const eventActions = Array.isArray(dump.event_actions) ? dump.event_actions : [];
  const eventRules = Array.isArray(dump.event_rules) ? dump.event_rules : [];
  if (host.restoreEventObjects && eventActions.length + eventRules.length > 0) await host.restoreEventObjects(eventActions, eventRules, mode);
  return { users: restoredUsers, skipped, ipLists: [...new Set(ipLists.map((e) => e.type))] };
}
