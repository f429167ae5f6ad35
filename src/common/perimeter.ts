/**
 * The perimeter port: what the defender, rate limiters and IP lists (common.defender,
 * common.rate_limiters, the IP lists, the allow list) answer. Adapters ask it once per
 * accepted connection; the login pipeline reports every login outcome to it. Built in
 * service/; `openPerimeter()` is the behaviour with every perimeter feature off.
 */
import type { ProtocolName } from '../dataprovider/models';

/**
 * Why a login failed, for the defender's scores: an unknown user (score_invalid), a known
 * user with wrong credentials (score_valid), a refused limit (score_limit_exceeded), or a
 * client that disconnected without trying to authenticate (score_no_auth).
 */
export type LoginFailureKind = 'invalid_user' | 'valid_user' | 'limit_exceeded' | 'no_auth';

export interface Perimeter {
  /**
   * Called for every accepted connection before any protocol work (before the SSH
   * handshake, the FTP banner, an HTTP handler). Throws FsError('PermissionDenied')
   * with a message safe to log when the address is banned, denied or rate limited.
   */
  checkConnection(ip: string, protocol: ProtocolName): void;
  /** Called by the login pipeline before checking credentials (per-source login rate limits). */
  checkLoginAttempt(ip: string, protocol: ProtocolName): void;
  loginFailed(ip: string, protocol: ProtocolName, kind: LoginFailureKind): void;
  loginSucceeded(ip: string, protocol: ProtocolName): void;
  /** defender.login_delay: milliseconds to wait before answering a login (success or password failure). */
  loginDelayMs(succeeded: boolean): number;
}

/** Nothing configured: every address is let through, nothing is recorded. */
export function openPerimeter(): Perimeter {
  return {
    checkConnection: () => undefined,
    checkLoginAttempt: () => undefined,
    loginFailed: () => undefined,
    loginSucceeded: () => undefined,
    loginDelayMs: () => 0,
  };
}
