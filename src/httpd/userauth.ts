/**
 * HTTP user logins (GET /api/v2/user/token, the web client, user API keys aside):
 * the first step goes through the common login sequence (common/login.ts), like
 * SSH, FTP and WebDAV, so hooks, LDAP, groups, account rules, the perimeter and
 * the logs are the same; the web client's passcode page is the second step.
 */
import type { ServerContext } from '../common/context';
import { loginHttpUser } from '../common/login';
import type { User } from '../dataprovider/models';

export interface HttpUserCredentials {
  username: string;
  password: string;
  /** X-SFTPGO-OTP, when sent */
  otp?: string;
  ip: string;
  /**
   * The web client asks for the passcode on a second page: a right password
   * of a TOTP user then answers `pendingTotp` (nothing reported as a success
   * yet) and verifyHttpUserPasscode finishes the login.
   */
  deferTotp?: boolean;
}

export type HttpUserAuth =
  | { ok: true; user: User; pendingTotp?: boolean }
  /** `reason` is for the log only; clients get a generic message */
  | { ok: false; status: 401 | 403 | 500; reason: string };

const PROTOCOL = 'HTTP';

export function totpRequiredForHttp(user: User): boolean {
  const cfg = user.filters?.totp_config;
  return cfg?.enabled === true && (cfg.protocols ?? []).includes(PROTOCOL);
}

export async function authenticateHttpUser(ctx: ServerContext, c: HttpUserCredentials): Promise<HttpUserAuth> {
  if (c.username === '' || c.password.trim() === '') {
    ctx.perimeter.loginFailed(c.ip, PROTOCOL, 'no_auth');
    ctx.metrics.loginResult('password', false);
    ctx.logger.connectionFailed({ clientIp: c.ip, username: c.username, loginType: 'password', protocol: PROTOCOL, error: 'no credentials provided' });
    return { ok: false, status: 401, reason: 'no credentials provided' };
  }
  // the common login sequence: perimeter, hooks, LDAP, groups, account rules, password, TOTP, outcome reports
  const r = await loginHttpUser(ctx, {
    username: c.username, password: c.password, ip: c.ip, encrypted: false,
    ...(c.otp !== undefined ? { passcode: c.otp } : {}), ...(c.deferTotp ? { deferPasscode: true } : {}),
  });
  if (r.ok) return r.pendingPasscode ? { ok: true, user: r.user, pendingTotp: true } : { ok: true, user: r.user };
  return { ok: false, status: r.kind === 'limit_exceeded' ? 403 : 401, reason: r.message };
}

async function checkPasscodeOf(ctx: ServerContext, user: User, raw: string | undefined): Promise<{ status: 401 | 500; reason: string } | undefined> {
  const otp = (raw ?? '').trim();
  if (otp === '') return { status: 401, reason: 'TOTP enabled and no passcode provided' };
  let check;
  try {
    check = await ctx.provider.secrets.checkPasscode(user.filters?.totp_config, otp);
  } catch (e) {
    // the secret cannot be decrypted (kms changed): nobody gets in, the admin sees why
    ctx.logger.error('httpd', `user "${user.username}": unable to decrypt the TOTP secret: ${(e as Error).message}`);
    return { status: 500, reason: 'unable to decrypt the TOTP secret' };
  }
  if (check !== 'ok') return { status: 401, reason: check === 'replayed' ? 'TOTP passcode already used' : 'invalid TOTP passcode' };
  return undefined;
}

/**
 * The second step of a deferred login: the user is reloaded (disabled or
 * changed meanwhile → refused), the passcode or, with `recovery`, a
 * single-use recovery code is checked, and the outcome reported as above.
 */
export async function verifyHttpUserPasscode(ctx: ServerContext, username: string, code: string, ip: string, recovery = false): Promise<HttpUserAuth> {
  const refuse = (status: 401 | 403 | 500, reason: string): HttpUserAuth => {
    if (status === 401) ctx.perimeter.loginFailed(ip, PROTOCOL, 'valid_user');
    ctx.metrics.loginResult('password', false);
    ctx.logger.connectionFailed({ clientIp: ip, username, loginType: 'password', protocol: PROTOCOL, error: reason });
    return { ok: false, status, reason };
  };
  try {
    ctx.perimeter.checkLoginAttempt(ip, PROTOCOL);
  } catch (e) {
    return refuse(403, e instanceof Error ? e.message : 'login refused');
  }
  const user = await ctx.provider.getUser(username);
  if (!user) return refuse(401, 'unknown user');
  try {
    ctx.provider.checkLoginConditions(user, { ip, protocol: PROTOCOL, method: 'password' });
  } catch (e) {
    return refuse(401, e instanceof Error ? e.message : 'login not allowed');
  }
  if (!totpRequiredForHttp(user)) return refuse(401, 'two-factor authentication is not enabled');
  if (recovery) {
    if (!(await ctx.provider.useRecoveryCode('user', username, code.trim()))) return refuse(401, 'invalid recovery code');
  } else {
    const failed = await checkPasscodeOf(ctx, user, code);
    if (failed) return refuse(failed.status, failed.reason);
  }
  return succeeded(ctx, user, ip);
}

async function succeeded(ctx: ServerContext, user: User, ip: string): Promise<HttpUserAuth> {
  ctx.perimeter.loginSucceeded(ip, PROTOCOL);
  ctx.metrics.loginResult('password', true);
  try {
    await ctx.provider.updateLastLogin(user);
  } catch (e) {
    ctx.logger.warn('httpd', `unable to update the last login of user "${user.username}": ${(e as Error).message}`);
  }
  return { ok: true, user };
}
