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

/** Creates or updates `input` (keyed by its own username) and returns the stored user. */
async function upsert(provider: DataProviderService, input: HookUser): Promise<User> {
  const stored = await provider.getUser(input.username);
  if (stored) {
    await provider.updateUser(stored.username, withStoredSecondFactor(input, stored), { username: '__system__', ip: '' });
  } else {
    await provider.addUser(input, { username: '__system__', ip: '' });
  }
  return mustRead(provider, input.username);
}

/** Pre-login hook: an answer replaces the user; "unchanged" needs an existing user. */
export async function applyPreLoginAnswer(provider: DataProviderService, loginName: string, existing: User | undefined,
  answer: { kind: 'unchanged' } | { kind: 'user'; user: HookUser }): Promise<User> {
  if (answer.kind === 'unchanged') {
    if (!existing) throw new FsError('NotFound', `username "${loginName}" does not exist`);
    return existing;
  }
  return upsert(provider, answer.user);
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
  answer: { kind: 'unchanged' } | { kind: 'user'; user: HookUser }): Promise<User> {
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
  return upsert(provider, user);
}
