/** The types of the login sequence (login.ts); split out so the checks can import them without a cycle. */
import type { LoginFailureKind } from './perimeter';
import type { ServerContext } from './context';
import type { FileOps, Protocol, SessionHandle } from './types';
import type { ProtocolName, User } from '../dataprovider/models';
import type { LoginMethodMetric } from '../metrics/types';
import type { TotpValidator } from '../mfa/totp';
import type { X509Certificate } from 'node:crypto';

export type LoginMethodName = LoginMethodMetric;

export interface KeyboardQuestion { prompt: string; echo: boolean }
/** One keyboard-interactive round: the client's answers, in order; rejects when the client gives up. `instruction` is shown above the prompts. */
export type KeyboardChallenge = (questions: KeyboardQuestion[], instruction?: string) => Promise<string[]>;

export type Credentials =
  | { kind: 'password'; password: string }
  /** the adapter has verified the signature; the pipeline matches the key with the user's */
  | { kind: 'publickey'; keyBlob: Buffer }
  | { kind: 'keyboard-interactive'; challenge: KeyboardChallenge }
  /** FTP/WebDAV: a client certificate the TLS layer has verified against the CAs (and CRLs); with a password for TLSCertificate+password */
  | { kind: 'tls-certificate'; cert: X509Certificate; password?: string };

export interface ConnectionRegistration {
  protocol: Protocol;
  remoteAddr: string;
  localAddr: string;
  clientVersion: string;
  handle: SessionHandle;
  id?: string;
  /** when the client connected (FTP: before the login), for the post-disconnect hook's duration; now when absent */
  connectedAt?: number;
}

export interface LoginRequest {
  protocol: ProtocolName;
  method: LoginMethodName;
  ip: string;
  username: string;
  credentials: Credentials;
  /** for the login log line */
  connectionId: string;
  clientVersion: string;
  /** the control connection is encrypted (TLS, SSH) */
  encrypted: boolean;
  /** register a connection (FTP, WebDAV); SSH registers one per channel later, after this login */
  register?: ConnectionRegistration;
  /** HTTP: the one-time code sent beside the password (X-SFTPGO-OTP) */
  passcode?: string;
  /**
   * HTTP web client: the passcode is asked on a second page. A right password of a user with
   * TOTP on HTTP then ends with `pendingPasscode` and nothing reported yet (no login line,
   * no perimeter success, no hooks): the second page finishes the login.
   */
  deferPasscode?: boolean;
  /** SSH second step: the public key already accepted in the first step (its log info) */
  firstStepKey?: string;
  /** a cached verification of this password for this user's stored hash (WebDAV login cache) */
  knownGoodPassword?: (user: User) => boolean;
}

export type LoginResult =
  | { ok: true; user: User; ops?: FileOps; info?: string; cached: boolean; pendingPasscode?: boolean }
  | { ok: false; kind: LoginFailureKind; message: string; error: unknown }
  /** SSH: the public key is right but the user's login methods need a second step */
  | { ok: false; kind: 'partial'; message: string; user: User; info: string; nextMethods: ('password' | 'keyboard-interactive')[] };

/** Thrown by a check: the login is refused with this kind (SFTPGo's defender event). */
export class LoginRefusal extends Error {
  constructor(readonly kind: LoginFailureKind, message: string, readonly original?: unknown) {
    super(message);
  }
}

/** Thrown by the credentials check for an SSH public key that needs a second step. */
export class PartialSuccess extends Error {
  constructor(readonly nextMethods: ('password' | 'keyboard-interactive')[]) {
    super('partial success');
  }
}

/** What a check reads and may change. */
export interface LoginState {
  readonly ctx: ServerContext;
  readonly req: LoginRequest;
  readonly totp: TotpValidator;
  readonly passwordChecks: readonly PasswordCheck[];
  /** the client address checks use (a PROXY-protocol check may replace it) */
  ip: string;
  /**
   * the method for the rules, logs and metrics: the request's, except that a
   * certificate login of a user without TLS verification becomes "password" (SFTPGo)
   */
  method: LoginMethodName;
  /** set by lookup (or a pre-login / external auth check) */
  user?: User;
  /** an auth plugin gave `user`: as in SFTPGo, the external auth and pre-login hooks are not asked then */
  userFromPlugin?: boolean;
  /** the password the built-in check compares (FTP: without the appended passcode; a check-password hook may change it) */
  password?: string;
  /** a check verified the credentials (external auth, check-password hook): the built-in one is skipped */
  authenticated: boolean;
  /** the TOTP code was verified */
  secondFactorDone: boolean;
  /** HTTP with deferPasscode: the password was right, the passcode is still to come */
  pendingPasscode?: boolean;
  /** the password matched through knownGoodPassword: no new login to log */
  cached: boolean;
  /** public key fingerprint and comment, for the login log */
  info?: string;
  ops?: FileOps;
}

export interface LoginCheck {
  readonly name: string;
  run(state: LoginState): Promise<void> | void;
}

/** A pre-login or external auth check goes in 'pre-login' and may set the user (lookup then keeps it). */
export const LOGIN_SLOTS = [
  'perimeter', 'pre-login', 'lookup', 'conditions', 'passcode', 'credentials', 'second-factor',
  'user-rules', 'session-limits', 'register',
] as const;
export type LoginSlot = typeof LOGIN_SLOTS[number];

export type PasswordCheck = (state: LoginState, password: string) => Promise<'accept' | 'continue' | { verify: string }>;
export type LoginObserver = (state: LoginState, result: LoginResult) => void | Promise<void>;

/** A client gone without trying to log in; `notNegotiated`: its SSH handshake failed on the algorithms. */
export interface NoAuthEvent { protocol: ProtocolName; ip: string; error: string; notNegotiated: boolean }
export type NoAuthObserver = (e: NoAuthEvent) => void;
