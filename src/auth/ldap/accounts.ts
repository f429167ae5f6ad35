/**
 * The local account of a directory user, as external auth does it: created
 * on first login from `ldap.user_template` (home `<users_base_dir>/<name>`,
 * quotas, limits) and, on later logins, updated with what the directory owns:
 * the permissions (template + mapped groups) and, when `public_keys_attribute`
 * is set, the public keys. Everything else an admin changed is kept. The
 * stored password is a random secret nobody knows: the built-in check needs a
 * non-empty hash, and the directory (not that hash) decides the password.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { FsError } from '../../common/errors';
import type { LdapConfig } from '../../config/types';
import type { Permission, User } from '../../dataprovider/models';
import type { DataProviderService } from '../../dataprovider/types';
import { validatePublicKeys } from '../../dataprovider/validation-user';
import type { DirectoryEntry } from './directory';

const SYSTEM = { username: '__system__', ip: '' };

/** The directory's groups the mapping knows, in config order. */
export function mappedGroups(cfg: LdapConfig, entry: DirectoryEntry): LdapConfig['group_permissions'] {
  const member = new Set(entry.groups);
  return cfg.group_permissions.filter((g) => member.has(g.group.toLowerCase()));
}

/**
 * The template's "/" permissions, plus, per path, the union of the
 * permissions of every mapped group the entry belongs to: the template is
 * what every directory user gets, a group can only add to it.
 */
export function permissionsFor(cfg: LdapConfig, entry: DirectoryEntry): Record<string, Permission[]> {
  const byPath = new Map<string, Set<Permission>>([['/', new Set(cfg.user_template.permissions as Permission[])]]);
  for (const g of mappedGroups(cfg, entry)) {
    const set = byPath.get(g.path) ?? new Set<Permission>();
    for (const p of g.permissions) set.add(p as Permission);
    byPath.set(g.path, set);
  }
  const out: Record<string, Permission[]> = {};
  for (const [path, set] of byPath) {
    if (set.size > 0) out[path] = set.has('*') ? ['*'] : [...set].sort();
  }
  return out;
}

function sameKeys(a: readonly string[] | undefined, b: readonly string[]): boolean {
  const x = [...(a ?? [])].sort();
  const y = [...b].sort();
  return x.length === y.length && x.every((k, i) => k === y[i]);
}

function samePermissions(a: Record<string, Permission[]>, b: Record<string, Permission[]>): boolean {
  const norm = (p: Record<string, Permission[]>): string =>
    JSON.stringify(Object.keys(p).sort().map((k) => [k, [...(p[k] ?? [])].sort()]));
  return norm(a) === norm(b);
}

/** The directory's keys the server can use; a malformed one is skipped (reported) rather than failing the login. */
export function usableKeys(keys: readonly string[], report: (index: number, reason: string) => void): string[] {
  const out: string[] = [];
  keys.forEach((k, i) => {
    try {
      out.push(...validatePublicKeys([k]));
    } catch (e) {
      report(i + 1, e instanceof Error ? e.message : String(e));
    }
  });
  return out;
}

async function mustRead(provider: DataProviderService, username: string): Promise<User> {
  const u = await provider.getUser(username);
  if (!u) throw new FsError('NotFound', `user "${username}" does not exist`);
  return u;
}

/**
 * Creates or updates the local account `username` for this entry and returns
 * it as stored. No write happens when the directory's part is unchanged (the
 * usual case: a login costs no provider write).
 */
export async function syncAccount(provider: DataProviderService, cfg: LdapConfig, username: string, entry: DirectoryEntry, existing?: User): Promise<User> {
  const permissions = permissionsFor(cfg, entry);
  const ownsKeys = cfg.public_keys_attribute !== '';
  if (existing) {
    if (samePermissions(existing.permissions, permissions) && (!ownsKeys || sameKeys(existing.public_keys, entry.publicKeys))) return existing;
    await provider.updateUser(existing.username, {
      ...existing, permissions, ...(ownsKeys ? { public_keys: entry.publicKeys } : {}),
    }, SYSTEM);
    return mustRead(provider, existing.username);
  }
  try {
    return await addFromTemplate(provider, cfg, username, permissions, ownsKeys ? entry.publicKeys : []);
  } catch (e) {
    // two first logins at once: the other one created it, update that one instead
    const raced = await provider.getUser(username);
    if (!raced) throw e;
    return syncAccount(provider, cfg, username, entry, raced);
  }
}

async function addFromTemplate(provider: DataProviderService, cfg: LdapConfig, username: string, permissions: Record<string, Permission[]>, keys: string[]): Promise<User> {
  const t = cfg.user_template;
  return provider.addUser({
    status: 1, username, home_dir: join(cfg.users_base_dir, username), permissions,
    password: randomBytes(32).toString('base64url'),
    ...(keys.length > 0 ? { public_keys: keys } : {}),
    quota_size: t.quota_size, quota_files: t.quota_files, max_sessions: t.max_sessions,
    upload_bandwidth: t.upload_bandwidth, download_bandwidth: t.download_bandwidth,
    description: 'created on first login from the LDAP directory',
  }, SYSTEM);
}
