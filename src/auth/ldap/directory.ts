/**
 * The LDAP conversation of one login (ldapts client): connect to the first
 * reachable URL (the others are fail-overs), optional StartTLS, bind as the
 * search user, find the single entry the filter selects, and bind as that
 * entry's DN to check a password. Every operation has a deadline: a server
 * that is down, refuses, or accepts and never answers gives a DirectoryError
 * after `timeout` seconds, never a hang. Passwords never reach an error text.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { Client, Entry } from 'ldapts';
import { lazy } from '../../util/lazy';
import type { LdapConfig } from '../../config/types';
import { userFilter } from './filter';

// ldapts loads with the first LDAP login, not with the server
const ldapModule = lazy(() => require('ldapts') as typeof import('ldapts'));

/** What the directory said about a login name. */
export interface DirectoryEntry {
  dn: string;
  /** the `username_attribute` value, or undefined when not configured or absent */
  username?: string;
  /** lowercased values of the group attributes (memberOf DNs) */
  groups: string[];
  /** values of `public_keys_attribute` (authorized_keys lines) */
  publicKeys: string[];
}

/** unavailable: no answer in time or no server reachable; refused: the directory said no. */
export class DirectoryError extends Error {
  constructor(readonly reason: 'unavailable' | 'refused' | 'not-found' | 'ambiguous', message: string) {
    super(message);
  }
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function values(entry: Entry, attribute: string): string[] {
  // ldapts matches attribute names as returned by the server: compare case-insensitively
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attribute.toLowerCase());
  if (key === undefined || key === 'dn') return [];
  const v = entry[key];
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x)));
}

export class LdapDirectory {
  private readonly tls: ConnectionOptions;
  private readonly timeoutMs: number;

  constructor(private readonly cfg: LdapConfig, configDir: string, resolvePath: (dir: string, p: string) => string) {
    this.timeoutMs = cfg.timeout * 1000;
    const ca = cfg.ca_certificates.map((p) => readFileSync(resolvePath(configDir, p)));
    this.tls = { rejectUnauthorized: !cfg.skip_tls_verify, ...(ca.length > 0 ? { ca } : {}) };
  }

  /** ldapts speaks TLS from the first byte whenever tlsOptions is given: only for ldaps:// (StartTLS passes them later). */
  private client(url: string): Client {
    const base = { url, timeout: this.timeoutMs, connectTimeout: this.timeoutMs };
    return new (ldapModule().Client)(url.toLowerCase().startsWith('ldaps:') ? { ...base, tlsOptions: this.tlsFor(url) } : base);
  }

  /** The certificate is checked against the URL's host (StartTLS would otherwise check "localhost"); SNI only for names. */
  private tlsFor(url: string): ConnectionOptions {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return { ...this.tls, host, ...(isIP(host) === 0 ? { servername: host } : {}) };
  }

  /** Runs `work` on a connected client, bound as the search user; the client is always closed. */
  private async withSearchClient<T>(work: (client: Client) => Promise<T>): Promise<T> {
    let lastError: unknown;
    for (const url of this.cfg.urls) {
      const client = this.client(url);
      let searchUserBound = false;
      try {
        if (this.cfg.start_tls) await this.deadline(client.startTLS(this.tlsFor(url)), 'StartTLS');
        if (this.cfg.bind_dn !== '') await this.deadline(client.bind(this.cfg.bind_dn, this.cfg.bind_password), 'search user bind');
        searchUserBound = true;
        return await work(client);
      } catch (e) {
        if (e instanceof ldapModule().InvalidCredentialsError && !searchUserBound) {
          throw new DirectoryError('unavailable', 'the search user bind was refused: check ldap.bind_dn/bind_password');
        }
        // the server answered: its answer stands; otherwise (socket, TLS, no answer in time) try the next URL
        if (e instanceof ldapModule().ResultCodeError) throw this.classify(e);
        lastError = e;
      } finally {
        // unbind closes the socket; it must not hold the login when the server is stuck
        void client.unbind().catch(() => undefined);
      }
    }
    throw new DirectoryError('unavailable', `no LDAP server answered: ${messageOf(lastError)}`);
  }

  private classify(e: unknown): DirectoryError {
    if (e instanceof DirectoryError) return e;
    if (e instanceof ldapModule().InvalidCredentialsError) return new DirectoryError('refused', 'invalid credentials');
    // sizeLimit 2: a query that selects more than one entry is never a login
    if (e instanceof ldapModule().SizeLimitExceededError) return new DirectoryError('ambiguous', 'more than one directory entry matches the login name');
    // another answer of the server (busy, unwilling to perform...): no login, and said so
    return new DirectoryError(e instanceof ldapModule().ResultCodeError ? 'refused' : 'unavailable', messageOf(e));
  }

  /** ldapts has per-operation timeouts, but a stuck TLS handshake or socket must not outlive ours either. */
  private deadline<T>(p: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DirectoryError('unavailable', `${what}: no answer within ${this.cfg.timeout}s`)), this.timeoutMs + 500);
    });
    return Promise.race([p, expired]).finally(() => clearTimeout(timer));
  }

  /** The one entry the search query selects for this login name. */
  async find(loginName: string): Promise<DirectoryEntry> {
    const attributes = [...this.cfg.group_attributes];
    if (this.cfg.username_attribute !== '') attributes.push(this.cfg.username_attribute);
    if (this.cfg.public_keys_attribute !== '') attributes.push(this.cfg.public_keys_attribute);
    const result = await this.withSearchClient((client) => this.deadline(client.search(this.cfg.base_dn, {
      scope: 'sub', filter: userFilter(this.cfg.search_query, loginName), attributes, sizeLimit: 2,
    }), 'search'));
    const entries = result.searchEntries;
    if (entries.length === 0) throw new DirectoryError('not-found', 'no directory entry matches the login name');
    if (entries.length > 1) throw new DirectoryError('ambiguous', 'more than one directory entry matches the login name');
    const entry = entries[0]!;
    const username = this.cfg.username_attribute !== '' ? values(entry, this.cfg.username_attribute)[0] : undefined;
    return {
      dn: entry.dn,
      ...(username !== undefined ? { username } : {}),
      groups: this.cfg.group_attributes.flatMap((a) => values(entry, a)).map((g) => g.toLowerCase()),
      publicKeys: this.cfg.public_keys_attribute !== '' ? values(entry, this.cfg.public_keys_attribute).map((k) => k.trim()).filter((k) => k !== '') : [],
    };
  }

  /** Binds as `dn` with `password`; an empty password is never sent (it would be an anonymous bind, which succeeds). */
  async verifyPassword(dn: string, password: string): Promise<void> {
    if (password === '' || dn === '') throw new DirectoryError('refused', 'empty credentials');
    let lastError: unknown;
    for (const url of this.cfg.urls) {
      const client = this.client(url);
      try {
        if (this.cfg.start_tls) await this.deadline(client.startTLS(this.tlsFor(url)), 'StartTLS');
        await this.deadline(client.bind(dn, password), 'user bind');
        return;
      } catch (e) {
        if (e instanceof ldapModule().ResultCodeError) throw this.classify(e);
        lastError = e;
      } finally {
        void client.unbind().catch(() => undefined);
      }
    }
    throw new DirectoryError('unavailable', `no LDAP server answered: ${messageOf(lastError)}`);
  }
}
