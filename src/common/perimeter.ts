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
   * handshake, the FTP banner, an HTTP handler). Rejects with FsError('PermissionDenied')
   * with a message safe to log when the address is banned, denied or rate limited.
   * Async because a rate limiter may make the client wait a little instead of
   * refusing it (SFTPGo waits up to half a token's period), and the provider
   * defender driver asks the data provider.
   */
  checkConnection(ip: string, protocol: ProtocolName): Promise<void>;
  /**
   * Called by the login pipeline before checking credentials: throws
   * FsError('PermissionDenied') when the address was banned since it connected
   * (a spray over one FTP control connection or HTTP keep-alive stops there).
   */
  checkLoginAttempt(ip: string, protocol: ProtocolName): void;
  loginFailed(ip: string, protocol: ProtocolName, kind: LoginFailureKind): void;
  loginSucceeded(ip: string, protocol: ProtocolName): void;
  /** defender.login_delay: milliseconds to wait before answering a login (success or password failure). */
  loginDelayMs(succeeded: boolean): number;

  /** REST /api/v2/defender/hosts: banned hosts and hosts with a score ([] when the defender is off). */
  defenderHosts(): Promise<DefenderHostView[]>;
  defenderHost(ip: string): Promise<DefenderHostView | undefined>;
  /** Unban / forget a host; false when the defender does not know it. */
  deleteDefenderHost(ip: string): Promise<boolean>;
  /** The provider's IP lists changed (API, restore): reload the lookup tables. */
  reloadIpLists(): Promise<void>;
}

/** SFTPGo's DefenderEntry JSON: id = hex of the IP, ban_time RFC 3339 when banned, score otherwise. */
export interface DefenderHostView { id: string; ip: string; score?: number; ban_time?: string }

/** Nothing configured: every address is let through, nothing is recorded. */
export function openPerimeter(): Perimeter {
  return {
    checkConnection: () => Promise.resolve(),
    checkLoginAttempt: () => undefined,
    loginFailed: () => undefined,
    loginSucceeded: () => undefined,
    loginDelayMs: () => 0,
    defenderHosts: () => Promise.resolve([]),
    defenderHost: () => Promise.resolve(undefined),
    deleteDefenderHost: () => Promise.resolve(false),
    reloadIpLists: () => Promise.resolve(),
  };
}
