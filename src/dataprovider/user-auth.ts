/**
 * What a stored user asks of a login, in SFTPGo's terms: its TOTP settings
 * (filters.totp_config), whether a second factor is required but not set up
 * (filters.two_factor_protocols), and SSH multi-step authentication derived from
 * filters.denied_login_methods (User.IsPartialAuth / GetNextAuthMethods).
 */
import type { ProtocolName, Secret, User } from './models';

export interface UserTotp {
  configName: string;
  secret: Secret;
  protocols: string[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The enabled TOTP settings, undefined when TOTP is off. A malformed but enabled
 * config still comes back (empty name or secret), so verification fails closed.
 */
export function userTotp(user: User): UserTotp | undefined {
  const raw = user.filters?.totp_config;
  if (!isObj(raw) || raw.enabled !== true) return undefined;
  const secret = isObj(raw.secret) ? (raw.secret as unknown as Secret) : { status: '' };
  const protocols = Array.isArray(raw.protocols) ? raw.protocols.filter((p): p is string => typeof p === 'string') : [];
  return { configName: typeof raw.config_name === 'string' ? raw.config_name : '', secret, protocols };
}

/** TOTP codes are checked for this protocol. */
export function hasTotpFor(user: User, protocol: ProtocolName): boolean {
  return userTotp(user)?.protocols.includes(protocol) ?? false;
}

/** SFTPGo's MustSetSecondFactorForProtocol: 2FA is required for the protocol but not configured for it. */
export function mustSetSecondFactor(user: User, protocol: ProtocolName): boolean {
  if (!(user.filters?.two_factor_protocols ?? []).includes(protocol)) return false;
  return !hasTotpFor(user, protocol);
}

/** SFTPGo's ValidLoginMethods, in its order. */
const VALID_LOGIN_METHODS = [
  'publickey', 'password', 'password-over-SSH', 'keyboard-interactive', 'publickey+password',
  'publickey+keyboard-interactive', 'TLSCertificate', 'TLSCertificate+password',
] as const;
const MULTI_STEP = ['publickey+password', 'publickey+keyboard-interactive'];

/** The allowed login methods (password-over-SSH is only a way to deny, never listed). */
export function allowedLoginMethods(user: User): string[] {
  const denied: readonly string[] = user.filters?.denied_login_methods ?? [];
  return VALID_LOGIN_METHODS.filter((m) => m !== 'password-over-SSH' && !denied.includes(m));
}

/**
 * SFTPGo's IsPartialAuth: a public key is only the first step when every allowed
 * SSH method is a multi-step one (TLS certificate methods do not count, nor
 * password when password-over-SSH is denied).
 */
export function isPartialAuth(user: User): boolean {
  const denied: readonly string[] = user.filters?.denied_login_methods ?? [];
  for (const m of allowedLoginMethods(user)) {
    if (m === 'TLSCertificate' || m === 'TLSCertificate+password') continue;
    if (m === 'password' && denied.includes('password-over-SSH')) continue;
    if (!MULTI_STEP.includes(m)) return false;
  }
  return true;
}

/** SFTPGo's GetNextAuthMethods: what may follow an accepted public key. */
export function nextAuthMethods(user: User): ('password' | 'keyboard-interactive')[] {
  const out: ('password' | 'keyboard-interactive')[] = [];
  for (const m of allowedLoginMethods(user)) {
    if (m === 'publickey+password') out.push('password');
    if (m === 'publickey+keyboard-interactive') out.push('keyboard-interactive');
  }
  return out;
}
