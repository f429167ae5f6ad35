/**
 * What SFTPGo does with a user a login hook returned (doExternalAuth,
 * executePreLoginHook): the user is created, or updated keeping what the
 * server owns (quota and transfer counters, last login, first upload and
 * download, TOTP config and recovery codes), then read back. External auth
 * also stores the password the hook accepted and adds the public key the
 * client offered; a user whose name differs from the login name logs in as
 * that account (one account, several login names). An empty answer from the
 * external auth hook means "accepted, no change": a new password the hook
 * accepted replaces the stored hash. The provider validates every returned
 * user like API input, so a malformed one is refused, nothing half-written.
 */
import { createHash } from 'node:crypto';
import { FsError } from '../common/errors';
import type { User, UserFilters } from '../dataprovider/models';
import type { DataProviderService } from '../dataprovider/types';
import type { HookUser } from './auth-hooks';

/** Keeps the server-owned second-factor data of the stored user. */
function withStoredSecondFactor(input: HookUser, stored: User): HookUser {
  const filters = (typeof input.filters === 'object' && input.filters !== null && !Array.isArray(input.filters)
    ? { ...(input.filters as Record<string, unknown>) } : {}) as UserFilters;
  delete filters.totp_config;
  delete filters.recovery_codes;
  if (stored.filters?.totp_config !== undefined) filters.totp_config = stored.filters.totp_config;
  if (stored.filters?.recovery_codes !== undefined) filters.recovery_codes = stored.filters.recovery_codes;
  return { ...input, filters };
}

async function mustRead(provider: DataProviderService, username: string): Promise<User> {
  const u = await provider.getUser(username);
  if (!u) throw new FsError('NotFound', `user "${username}" does not exist`);
  return u;
}

/** Fields the server changes on its own (logins, transfers): not a change of the account. */
const VOLATILE: readonly string[] = [
  'last_login', 'used_quota_size', 'used_quota_files', 'last_quota_update', 'used_upload_data_transfer',
  'used_download_data_transfer', 'first_download', 'first_upload',
];

function accountDigest(u: User): string {
  const rest: Record<string, unknown> = { ...u };
  for (const k of VOLATILE) delete rest[k];
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

/**
 * Remembers, per user, the last hook answer written and the account it
 * produced. The same answer for an account nobody changed since would write
 * the same record again: it is skipped, which keeps a hook login from paying
 * a provider write every time. Any change to the account (API, another
 * answer) changes its digest and so forces the write.
 */
export class HookAnswerMemo {
  private readonly entries = new Map<string, { answer: string; account: string }>();

  constructor(private readonly maxEntries = 10_000) {}

  static digest(input: unknown): string {
    return createHash('sha256').update(JSON.stringify(input)).digest('hex');
  }

  isCurrent(stored: User, answer: string): boolean {
    const e = this.entries.get(stored.username);
    return e !== undefined && e.answer === answer && e.account === accountDigest(stored);
  }

  remember(stored: User, answer: string): void {
    if (this.entries.size >= this.maxEntries && !this.entries.has(stored.username)) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(stored.username, { answer, account: accountDigest(stored) });
  }
}

/** Creates or updates `input` (keyed by its own username) and returns the stored user. */
async function upsert(provider: DataProviderService, input: HookUser, memo?: HookAnswerMemo): Promise<User> {
  const stored = await provider.getUser(input.username);
  if (stored) {
    const update = withStoredSecondFactor(input, stored);
    const digest = HookAnswerMemo.digest(update);
    if (memo?.isCurrent(stored, digest)) return stored;
    // an answer identical to the stored account is not written (no updated_at bump, no provider event)
    await provider.updateUser(stored.username, update, { username: '__system__', ip: '' }, { skipUnchanged: true });
    const after = await mustRead(provider, input.username);
    memo?.remember(after, digest);
    return after;
  }
  await provider.addUser(input, { username: '__system__', ip: '' });
  return mustRead(provider, input.username);
}

/** Pre-login hook: an answer replaces the user; "unchanged" needs an existing user. */
export async function applyPreLoginAnswer(provider: DataProviderService, loginName: string, existing: User | undefined,
  answer: { kind: 'unchanged' } | { kind: 'user'; user: HookUser }, memo?: HookAnswerMemo): Promise<User> {
  if (answer.kind === 'unchanged') {
    if (!existing) throw new FsError('NotFound', `username "${loginName}" does not exist`);
    return existing;
  }
  return upsert(provider, answer.user, memo);
}

export interface ExternalAuthInput {
  loginName: string;
  existing: User | undefined;
  /** the plain password the hook accepted, '' for other methods */
  password: string;
  /** the client's key as an authorized_keys line ('' for other methods) */
  publicKeyLine: string;
}

/** External auth hook: SFTPGo updateUserFromExtAuthResponse + create/update + read back. */
export async function applyExternalAuthAnswer(provider: DataProviderService, inp: ExternalAuthInput,
  answer: { kind: 'unchanged' } | { kind: 'user'; user: HookUser }, memo?: HookAnswerMemo): Promise<User> {
  if (answer.kind === 'unchanged') {
    if (!inp.existing) throw new FsError('NotFound', `username "${inp.loginName}" does not exist`);
    if (inp.password === '') return inp.existing;
    if (await provider.verifyUserPassword(inp.existing, inp.password)) return inp.existing;
    await provider.updateUser(inp.existing.username, { ...inp.existing, password: inp.password }, { username: '__system__', ip: '' });
    return mustRead(provider, inp.existing.username);
  }
  const user: HookUser = { ...answer.user };
  if (inp.password !== '') {
    // the stored hash already matching (password cache first) is kept: no new hash, no password change date
    const stored = answer.user.username === inp.loginName ? inp.existing : await provider.getUser(answer.user.username);
    user.password = stored && (await provider.verifyUserPassword(stored, inp.password)) ? stored.password ?? inp.password : inp.password;
  }
  if (inp.publicKeyLine !== '') {
    const keys = Array.isArray(user.public_keys) ? user.public_keys.filter((k): k is string => typeof k === 'string') : [];
    if (!keys.some((k) => k !== '' && inp.publicKeyLine.startsWith(k))) keys.push(inp.publicKeyLine.trimEnd());
    user.public_keys = keys;
  }
  return upsert(provider, user, memo);
}
