/**
 * Password reset by email ("forgot password"), as SFTPGo does it for the web
 * admin and the web client: a code mailed to the account's email (only with a
 * usable `smtp` section), valid RESET_CODE_TTL_MS and once, then a new
 * password set with it. A request for an unknown account is answered like any
 * other (no account enumeration) and sends nothing. A wrong or expired code is
 * a failed login for the defender and the login throttle. Codes live in this
 * process's memory (a restart forgets them).
 */
import { randomBytes } from 'node:crypto';
import type { ServerContext } from '../common/context';
import type { Executor } from '../dataprovider/types';
import { smtpConfigProblem, sendMail } from '../smtp/mailer';
import { ApiError } from './errors';
import { setUserPassword } from './routes/user/profile';
import { userRestricted } from './routes/user/session';

/** SFTPGo's resetCodeLifespan */
export const RESET_CODE_TTL_MS = 10 * 60_000;
const MAX_CODES = 10_000;

export type AccountKind = 'admin' | 'user';
interface ResetCode { username: string; kind: AccountKind; expiresAt: number }

export class ResetCodes {
  private readonly codes = new Map<string, ResetCode>();

  constructor(private readonly now: () => number = Date.now) {}

  add(username: string, kind: AccountKind): string {
    this.sweep();
    // bounded: a flood of requests for real accounts cannot grow memory without limit
    if (this.codes.size >= MAX_CODES) throw new ApiError(429, 'too many pending password resets, retry later');
    const code = randomBytes(15).toString('base64url');
    this.codes.set(code, { username, kind, expiresAt: this.now() + RESET_CODE_TTL_MS });
    return code;
  }

  /** The account a live code of this kind was issued for; the code stays usable until `consume`. */
  peek(code: string, kind: AccountKind): string | undefined {
    const c = this.codes.get(code);
    if (!c || c.kind !== kind) return undefined;
    if (c.expiresAt <= this.now()) {
      this.codes.delete(code);
      return undefined;
    }
    return c.username;
  }

  consume(code: string): void { this.codes.delete(code); }

  private sweep(): void {
    const now = this.now();
    for (const [k, c] of this.codes) if (c.expiresAt <= now) this.codes.delete(k);
  }
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
  const code = codes.add(account.username, kind);
  try {
    await sendMail(ctx.config.smtp, {
      to: [email],
      subject: `Email Verification Code for ${kind} "${account.username}"`,
      text: `Your email verification code is: ${code}\n\nIt can be used once within ${RESET_CODE_TTL_MS / 60_000} minutes to set a new password.\n`,
    });
  } catch (e) {
    codes.consume(code);
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
  const username = codes.peek(input.code, kind);
  if (!username) {
    ctx.perimeter.loginFailed(ip, 'HTTP', 'valid_user');
    ctx.logger.connectionFailed({ clientIp: ip, username: '', loginType: 'password', protocol: 'HTTP', error: 'invalid or expired password reset code' });
    throw new ApiError(401, 'Confirmation code not found or expired');
  }
  const executor: Executor = { username: '__self__', ip };
  if (kind === 'admin') {
    const admin = await ctx.provider.getAdmin(username);
    if (!admin) throw new ApiError(400, 'Unable to associate the confirmation code with an existing admin');
    await ctx.provider.updateAdmin(username, { ...admin, password: input.password }, executor);
  } else {
    if (!(await resettableUser(ctx, username, ip))) {
      ctx.perimeter.loginFailed(ip, 'HTTP', 'valid_user');
      throw new ApiError(403, 'You are not allowed to reset your password');
    }
    await setUserPassword(ctx, username, input.password, executor);
  }
  codes.consume(input.code);
  ctx.logger.info('httpd', `password reset with an emailed code for ${kind} "${username}"`, { ip });
  return username;
}
