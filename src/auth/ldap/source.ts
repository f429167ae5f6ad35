/**
 * The LDAP auth source: which login names the directory decides, their local
 * accounts, and the password check, with the `cache_time` memory.
 *
 * A login in `scope` for a user without filters.hooks.external_auth_disabled
 * (a local-only account) is decided by the directory: the entry must exist
 * (search as the bind user), the local account is created or updated from it
 * (accounts.ts), and a password is accepted only when a bind as the entry's
 * DN succeeds. Public keys come from the entry when `public_keys_attribute`
 * is set and are then matched by the built-in check.
 *
 * Within `cache_time` seconds of a successful directory login the entry is
 * not searched again and the same password is accepted without a bind; any
 * other password is checked by a bind. So a password changed in the
 * directory (AD) replaces the old one at the latest `cache_time` seconds
 * later; 0 = ask the directory every time.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { LdapConfig } from '../../config/types';
import type { User } from '../../dataprovider/models';
import type { DataProviderService } from '../../dataprovider/types';
import type { AppLogger } from '../../logger/types';
import { externalAuthApplies, type LoginMethod } from '../../hooks/auth-hooks';
import { DirectoryError, LdapDirectory, type DirectoryEntry } from './directory';
import { mappedGroups, syncAccount, usableKeys } from './accounts';

export const LDAP_SENDER = 'ldap';
const MAX_CACHE_ENTRIES = 10_000;

interface Remembered {
  dn: string;
  username: string;
  /** HMAC of the last password the directory accepted (a per-process key: never the password itself) */
  passwordDigest?: Buffer;
  expiresAt: number;
}

/** The directory's answer for a login name: the local account and the DN its password is checked against. */
export interface ResolvedLogin { user: User; dn: string }

export interface LdapSourceDeps {
  cfg: LdapConfig;
  directory: LdapDirectory;
  provider: DataProviderService;
  logger: AppLogger;
  /** data_provider.naming_rules: the local name is stored as the provider will store it */
  namingRules: number;
  now?: () => number;
}

export class LdapSource {
  private readonly remembered = new Map<string, Remembered>();
  private readonly hmacKey = randomBytes(32);
  private readonly now: () => number;

  constructor(private readonly deps: LdapSourceDeps) {
    this.now = deps.now ?? Date.now;
  }

  applies(method: LoginMethod): boolean {
    return externalAuthApplies(this.deps.cfg.scope, method);
  }

  private digest(password: string): Buffer {
    return createHmac('sha256', this.hmacKey).update(password, 'utf8').digest();
  }

  private fresh(loginName: string): Remembered | undefined {
    if (this.deps.cfg.cache_time <= 0) return undefined;
    const r = this.remembered.get(loginName);
    if (r && r.expiresAt > this.now()) return r;
    this.remembered.delete(loginName);
    return undefined;
  }

  private remember(loginName: string, r: Omit<Remembered, 'expiresAt'>): void {
    if (this.deps.cfg.cache_time <= 0) return;
    this.remembered.delete(loginName);
    if (this.remembered.size >= MAX_CACHE_ENTRIES) {
      const oldest = this.remembered.keys().next();
      if (!oldest.done) this.remembered.delete(oldest.value);
    }
    this.remembered.set(loginName, { ...r, expiresAt: this.now() + this.deps.cfg.cache_time * 1000 });
  }

  /**
   * The local account for a login name the directory decides: from the
   * memory within cache_time, else searched and synced. Throws DirectoryError
   * (not found, ambiguous, unavailable) or the provider's error.
   */
  async resolve(loginName: string): Promise<ResolvedLogin> {
    const { provider, cfg } = this.deps;
    const known = this.fresh(loginName);
    if (known) {
      const user = await provider.getUser(known.username);
      if (user) return { user, dn: known.dn };
    }
    const entry = await this.deps.directory.find(loginName);
    const username = this.localName(cfg.username_attribute !== '' ? entry.username : loginName);
    if (username === undefined || username === '') throw new DirectoryError('not-found', `the entry has no "${cfg.username_attribute}" attribute`);
    if (cfg.require_groups && mappedGroups(cfg, entry).length === 0) throw new DirectoryError('refused', 'the entry is in none of the mapped groups');
    const existing = await provider.getUser(username);
    if (existing?.filters?.hooks?.external_auth_disabled) {
      // the directory never takes over an account an admin marked local-only
      throw new DirectoryError('refused', `the entry maps to the local-only account "${username}"`);
    }
    const keys = usableKeys(entry.publicKeys, (i, reason) =>
      this.deps.logger.warn(LDAP_SENDER, `skipping public key nr. ${i} of "${entry.dn}": ${reason}`));
    const user = await syncAccount(provider, cfg, username, { ...entry, publicKeys: keys } satisfies DirectoryEntry, existing);
    // a key login is remembered too: within cache_time the keys are not searched again
    // (no password yet: only a bind puts one in the memory, and never extends an older one's life)
    this.remember(loginName, { dn: entry.dn, username: user.username });
    return { user, dn: entry.dn };
  }

  /** SFTPGo's naming_rules: 2 lower case, 4 trimmed (as the provider stores new accounts). */
  private localName(name: string | undefined): string | undefined {
    if (name === undefined) return undefined;
    let out = name;
    if (this.deps.namingRules & 4) out = out.trim();
    if (this.deps.namingRules & 2) out = out.toLowerCase();
    return out;
  }

  /** Accepts the password when the directory does (bind as `dn`), or when it is the one accepted within cache_time. */
  async checkPassword(loginName: string, resolved: ResolvedLogin, password: string): Promise<'bound' | 'remembered'> {
    if (password === '') throw new DirectoryError('refused', 'empty password');
    const known = this.fresh(loginName);
    const digest = this.digest(password);
    if (known?.passwordDigest && known.dn === resolved.dn && timingSafeEqual(known.passwordDigest, digest)) return 'remembered';
    await this.deps.directory.verifyPassword(resolved.dn, password);
    this.remember(loginName, { dn: resolved.dn, username: resolved.user.username, passwordDigest: digest });
    return 'bound';
  }
}
