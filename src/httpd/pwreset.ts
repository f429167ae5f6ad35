/**
 * Password reset by email ("forgot password"), as SFTPGo does it for the web
 * admin and the web client: a code mailed to the account's email (only with a
 * usable `smtp` section), valid RESET_CODE_TTL_MS and once, then a new
 * password set with it. A request for an unknown account is answered like any
 * other (no account enumeration) and sends nothing. A wrong or expired code is
 * a failed login for the defender and the login throttle.
 */
import { randomBytes } from 'node:crypto';
import type { ServerContext } from '../common/context';
import type { Executor } from '../dataprovider/types';
import { smtpConfigProblem, sendMail } from '../smtp/mailer';
import { ApiError } from './errors';
import { MemorySharedSessionStore, SharedSessionType, takeSharedSession, type SharedSessionStore } from '../dataprovider/shared-sessions';
import { setUserPassword } from './routes/user/profile';
import { userRestricted } from './routes/user/session';

/** SFTPGo's resetCodeLifespan */
export const RESET_CODE_TTL_MS = 10 * 60_000;
const MAX_CODES = 10_000;

export type AccountKind = 'admin' | 'user';
/** a code taken for use: given back when the password could not be set */
export interface ResetGrant { username: string; kind: AccountKind; expiresAt: number }

/**
 * The pending codes. A non-shared provider keeps them in this process
 * (MemorySharedSessionStore); with data_provider.is_shared 1 they are the
 * provider's shared_sessions rows, so a code mailed by one node is accepted
 * by any, and taken atomically: of two nodes using it at once, one wins.
 */
export class ResetCodes {
  constructor(private readonly store: SharedSessionStore = new MemorySharedSessionStore(), private readonly now: () => number = Date.now) {}

  /** the provider's store when it is shared between nodes, else this process's */
  static for(ctx: ServerContext): ResetCodes {
    return new ResetCodes(ctx.config.data_provider.is_shared === 1 ? ctx.provider.backend.sharedSessions : new MemorySharedSessionStore());
  }

  async add(username: string, kind: AccountKind): Promise<string> {
    await this.store.deleteExpiredSessions(SharedSessionType.resetCode, this.now());
    // bounded: a flood of requests for real accounts cannot grow the store without limit
    if (await this.store.countSessions(SharedSessionType.resetCode) >= MAX_CODES) throw new ApiError(429, 'too many pending password resets, retry later');
    const code = randomBytes(15).toString('base64url');
    await this.put(code, { username, kind, expiresAt: this.now() + RESET_CODE_TTL_MS });
    return code;
  }

  /** Takes a live code of this kind for use: undefined when unknown, expired, of the other kind or already taken. */
  async take(code: string, kind: AccountKind): Promise<ResetGrant | undefined> {
    if (code.length > 128) return undefined;
    const row = await takeSharedSession(this.store, code, SharedSessionType.resetCode, this.now(), (s) => grantOf(s.data)?.kind === kind);
    const g = row && grantOf(row.data);
    return g && { ...g, expiresAt: row.expiresAt };
  }

  /** The password could not be set: the code stays usable until its original expiry. */
  async giveBack(code: string, grant: ResetGrant): Promise<void> { await this.put(code, grant); }

  async discard(code: string): Promise<void> { await this.store.deleteSession(code, SharedSessionType.resetCode); }

  private put(code: string, g: ResetGrant): Promise<void> {
    return this.store.putSession({ key: code, type: SharedSessionType.resetCode, data: JSON.stringify({ username: g.username, kind: g.kind }), expiresAt: g.expiresAt });
  }
}

function grantOf(data: string): Omit<ResetGrant, 'expiresAt'> | undefined {
  try {
    const v = JSON.parse(data) as { username?: unknown; kind?: unknown };
    if (typeof v.username === 'string' && (v.kind === 'admin' || v.kind === 'user')) return { username: v.username, kind: v.kind };
  } catch {
    // a row this version cannot read is no valid code
  }
  return undefined;
}

/** True when the smtp section can send mail: the "forgot password" pages exist only then. */
export function passwordResetAvailable(ctx: ServerContext): boolean {
  return smtpConfigProblem(ctx.config.smtp) === undefined;
}

/** SFTPGo isUserAllowedToResetPassword: not password-reset-disabled, and a password login over HTTP from this address would be allowed. */
async function resettableUser(ctx: ServerContext, username: string, ip: string): Promise<boolean> {
  const stored = await ctx.provider.getUser(username);
  if (!stored) return false;
  const user = await ctx.provider.groups.withGroupSettings(stored);
  if (userRestricted(user, 'password-reset-disabled')) return false;
  try {
    ctx.provider.checkLoginConditions(user, { ip, protocol: 'HTTP', method: 'password' });
  } catch {
    return false;
  }
  return true;
}

/** Mails a reset code to the account's email. Unknown accounts: nothing is sent, no error. */
export async function requestPasswordReset(ctx: ServerContext, codes: ResetCodes, kind: AccountKind, username: string, ip: string): Promise<void> {
  if (username === '') throw new ApiError(400, 'Username is mandatory');
  const account = kind === 'admin' ? await ctx.provider.getAdmin(username) : await ctx.provider.getUser(username);
  if (!account) {
    ctx.logger.debug('httpd', `password reset requested for unknown ${kind} "${username}": ignored`, { ip });
    return;
  }
  if (kind === 'user' && !(await resettableUser(ctx, username, ip))) throw new ApiError(403, 'You are not allowed to reset your password');
  const email = account.email ?? '';
  if (email === '') throw new ApiError(400, 'Your account does not have an email address, it is not possible to reset your password by sending an email verification code');
  const code = await codes.add(account.username, kind);
  try {
    await sendMail(ctx.config.smtp, {
      to: [email],
      subject: `Email Verification Code for ${kind} "${account.username}"`,
      text: `Your email verification code is: ${code}\n\nIt can be used once within ${RESET_CODE_TTL_MS / 60_000} minutes to set a new password.\n`,
    });
  } catch (e) {
    await codes.discard(code);
    ctx.logger.warn('httpd', `unable to send the password reset code: ${e instanceof Error ? e.message : String(e)}`, { username: account.username });
    throw new ApiError(500, 'Unable to send the confirmation code via email, the details are in the log');
  }
  ctx.logger.info('httpd', `password reset code sent by email to ${kind} "${account.username}"`, { ip });
}

/**
 * Sets a new password with a mailed code and returns the account name. A code
 * that is unknown, expired or of the other kind scores a failed login.
 */
export async function resetPasswordWithCode(ctx: ServerContext, codes: ResetCodes, kind: AccountKind,
  input: { code: string; password: string; confirm: string }, ip: string): Promise<string> {
  if (input.password === '') throw new ApiError(400, 'Please set a password');
  if (input.password !== input.confirm) throw new ApiError(400, 'The two password fields do not match');
  if (input.code === '') throw new ApiError(400, 'Please set a confirmation code');
  const grant = await codes.take(input.code, kind);
  if (!grant) {
    ctx.perimeter.loginFailed(ip, 'HTTP', 'valid_user');
    ctx.logger.connectionFailed({ clientIp: ip, username: '', loginType: 'password', protocol: 'HTTP', error: 'invalid or expired password reset code' });
    throw new ApiError(401, 'Confirmation code not found or expired');
  }
  const { username } = grant;
  try {
    await setPassword(ctx, kind, username, input.password, ip);
  } catch (e) {
    // a refused password (policy, storage error) does not burn the code
    await codes.giveBack(input.code, grant);
    throw e;
  }
  ctx.logger.info('httpd', `password reset with an emailed code for ${kind} "${username}"`, { ip });
  return username;
}

async function setPassword(ctx: ServerContext, kind: AccountKind, username: string, password: string, ip: string): Promise<void> {
  const executor: Executor = { username: '__self__', ip };
  if (kind === 'admin') {
    const admin = await ctx.provider.getAdmin(username);
    if (!admin) throw new ApiError(400, 'Unable to associate the confirmation code with an existing admin');
    await ctx.provider.updateAdmin(username, { ...admin, password }, executor);
    return;
  }
  if (!(await resettableUser(ctx, username, ip))) {
    ctx.perimeter.loginFailed(ip, 'HTTP', 'valid_user');
    throw new ApiError(403, 'You are not allowed to reset your password');
  }
  await setUserPassword(ctx, username, password, executor);
}
