/**
 * Login rules shared by every protocol, in SFTPGo's order: enabled, not
 * expired, protocol allowed, login method allowed, source IP allowed. The
 * credential checks (password, public key) come after these in service.ts.
 * Errors are FsError('PermissionDenied') with messages safe to log.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { utils as sshUtils } from 'ssh2';
import { FsError } from '../common/errors';
import { cidrMatcher } from './ipfilter';
import type { Admin, ProtocolName, User } from './models';

export interface LoginConditionContext {
  ip: string;
  protocol: ProtocolName;
  method: string;
  /** defaults to Date.now() (tests pass a fixed clock) */
  now?: number;
  /** common.tz: "local" checks access_time in the server's time zone, anything else in UTC */
  tz?: string;
}

const denied = (msg: string): FsError => new FsError('PermissionDenied', msg);

/**
 * SFTPGo's User.CheckLoginConditions: enabled, not expired, inside an
 * access_time window. Checked before the credentials.
 */
export function checkAccountConditions(user: User, now: number, tz = ''): void {
  if (user.status !== 1) throw denied(`user "${user.username}" is disabled`);
  if (user.expiration_date && user.expiration_date > 0 && user.expiration_date < now) {
    throw denied(`user "${user.username}" is expired, expiration timestamp: ${user.expiration_date}`);
  }
  if (!isAccessTimeAllowed(user, now, tz)) throw denied('access is not allowed at this time');
}

/**
 * filters.access_time: empty means always; otherwise the weekday (0 Sunday) and
 * "HH:MM" now must fall in one window, bounds included, compared as strings
 * exactly as SFTPGo does (so "from" later than "to" never matches).
 */
export function isAccessTimeAllowed(user: User, now: number, tz = ''): boolean {
  const windows = user.filters?.access_time ?? [];
  if (windows.length === 0) return true;
  const d = new Date(now);
  const local = tz === 'local';
  const day = local ? d.getDay() : d.getUTCDay();
  const hh = local ? d.getHours() : d.getUTCHours();
  const mm = local ? d.getMinutes() : d.getUTCMinutes();
  const hhmm = `${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}`;
  return windows.some((w) => w.day_of_week === day && hhmm >= w.from && hhmm <= w.to);
}

/** Denied protocol, denied login method (password-over-SSH included), source address. */
export function checkAccessRules(user: User, ctx: LoginConditionContext): void {
  const f = user.filters ?? {};
  if (f.denied_protocols?.includes(ctx.protocol)) {
    throw denied(`protocol ${ctx.protocol} is not allowed for user "${user.username}"`);
  }
  if (!isLoginMethodAllowed(user, ctx.method, ctx.protocol)) {
    throw denied(`login method ${ctx.method} is not allowed for user "${user.username}"`);
  }
  if (!isIpAllowed(ctx.ip, f.allowed_ip, f.denied_ip)) {
    throw denied(`login for user "${user.username}" is not allowed from this address: ${ctx.ip}`);
  }
}

/** SFTPGo's IsLoginMethodAllowed: password over SSH is also denied by its SSH-specific name. */
export function isLoginMethodAllowed(user: User, method: string, protocol: ProtocolName): boolean {
  const methods: readonly string[] = user.filters?.denied_login_methods ?? [];
  if (methods.includes(method)) return false;
  return !(protocol === 'SSH' && method === 'password' && methods.includes('password-over-SSH'));
}

/** Throws unless the user may log in from ctx.ip over ctx.protocol with ctx.method. */
export function checkLoginConditions(user: User, ctx: LoginConditionContext): void {
  checkAccountConditions(user, ctx.now ?? Date.now(), ctx.tz);
  checkAccessRules(user, ctx);
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * SFTPGo's MustChangePassword: require_password_change, or password_expiration
 * days elapsed since last_password_change. Password logins are then refused on
 * every protocol but HTTP (where the user can change it); key logins still work.
 */
export function mustChangePassword(user: User, now: number): boolean {
  const f = user.filters ?? {};
  if (f.require_password_change) return true;
  const days = f.password_expiration ?? 0;
  if (days <= 0) return false;
  return (user.last_password_change ?? 0) + days * DAY_MS < now;
}

const ALL_LOGIN_METHODS = [
  'publickey', 'password', 'password-over-SSH', 'keyboard-interactive', 'publickey+password',
  'publickey+keyboard-interactive', 'TLSCertificate', 'TLSCertificate+password',
] as const;

/**
 * SFTPGo's setAnonymousSettings for filters.is_anonymous: list+download only,
 * SSH and HTTP denied, password the only login method. Returns a copy.
 */
export function withAnonymousSettings(user: User): User {
  const u = structuredClone(user);
  const perms: Record<string, User['permissions'][string]> = {};
  for (const k of Object.keys(u.permissions ?? {})) perms[k] = ['list', 'download'];
  u.permissions = perms;
  const f = u.filters ?? {};
  f.denied_protocols = [...new Set([...(f.denied_protocols ?? []), 'SSH' as const, 'HTTP' as const])];
  f.denied_login_methods = [...new Set([...(f.denied_login_methods ?? []), ...ALL_LOGIN_METHODS.filter((m) => m !== 'password')])];
  u.filters = f;
  return u;
}

/** denied_ip is checked first; a non-empty allowed_ip then acts as an allow list. */
export function isIpAllowed(ip: string, allowed: readonly string[] | undefined, deniedIps: readonly string[] | undefined): boolean {
  if (cidrMatcher(deniedIps)(ip)) return false;
  if (allowed && allowed.length > 0) return cidrMatcher(allowed)(ip);
  return true;
}

export function checkAdminConditions(admin: Admin, ip: string): void {
  if (admin.status !== 1) throw denied(`admin "${admin.username}" is disabled`);
  const allow = admin.filters?.allow_list;
  if (allow && allow.length > 0 && !cidrMatcher(allow)(ip)) {
    throw denied(`login from IP ${ip} not allowed for admin "${admin.username}"`);
  }
}

export function sha256Fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Finds the stored authorized key equal to the offered wire-format blob.
 * Returns "<fingerprint>:<comment>" for logs, undefined when none matches.
 */
export function matchPublicKey(storedKeys: readonly string[], offered: Buffer): string | undefined {
  let found: string | undefined;
  for (const text of storedKeys) {
    const parsed = sshUtils.parseKey(text);
    if (parsed instanceof Error || Array.isArray(parsed)) continue;
    const blob = parsed.getPublicSSH();
    // keep scanning after a match so timing does not reveal which key matched
    if (blob.length === offered.length && timingSafeEqual(blob, offered) && found === undefined) {
      found = `${sha256Fingerprint(blob)}:${parsed.comment ?? ''}`;
    }
  }
  return found;
}
