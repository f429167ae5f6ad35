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
}

const denied = (msg: string): FsError => new FsError('PermissionDenied', msg);

/** Throws unless the user may log in from ctx.ip over ctx.protocol with ctx.method. */
export function checkLoginConditions(user: User, ctx: LoginConditionContext): void {
  const now = ctx.now ?? Date.now();
  if (user.status !== 1) throw denied(`user "${user.username}" is disabled`);
  if (user.expiration_date && user.expiration_date > 0 && user.expiration_date < now) {
    throw denied(`user "${user.username}" is expired, expiration timestamp: ${user.expiration_date}`);
  }
  const f = user.filters ?? {};
  if (f.denied_protocols?.includes(ctx.protocol)) {
    throw denied(`protocol ${ctx.protocol} is not allowed for user "${user.username}"`);
  }
  const methods = f.denied_login_methods ?? [];
  const deniedMethod = methods.includes(ctx.method as never) ||
    // password auth over SSH is also denied by its SSH-specific name
    (ctx.protocol === 'SSH' && ctx.method === 'password' && methods.includes('password-over-SSH'));
  if (deniedMethod) throw denied(`login method ${ctx.method} is not allowed for user "${user.username}"`);
  if (!isIpAllowed(ctx.ip, f.allowed_ip, f.denied_ip)) {
    throw denied(`login for user "${user.username}" is not allowed from this address: ${ctx.ip}`);
  }
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
