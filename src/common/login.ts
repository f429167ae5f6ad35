/**
 * The one login sequence for every protocol (the model is open.ts). An adapter
 * (SSH, FTP, WebDAV, HTTP) hands a LoginRequest to `loginService(ctx).login()`
 * and gets back a refusal with a kind, an SSH partial success, or the user
 * (and, when asked, its registered connection with FileOps).
 *
 * The sequence is an ordered list of named slots, each holding checks
 * (login-checks.ts has the built-in ones):
 *   perimeter → lookup → pre-login → conditions → passcode → credentials →
 *   second-factor → user-rules → session-limits → register
 * then, in one place, last_login, the login log line and metrics, the
 * perimeter's outcome, and the configured login delay; or the
 * connection_failed log line, metrics and the perimeter's failure kind.
 * Hooks, the defender, PROXY-protocol addresses plug in with `use(slot, check)`
 * without touching the adapters.
 */
import type { ServerContext } from './context';
import { isFsError } from './errors';
import type { ProtocolName } from '../dataprovider/models';
import { TotpValidator } from '../mfa/totp';
import { builtinChecks } from './login-checks';
import {
  LOGIN_SLOTS, LoginRefusal, PartialSuccess,
  type LoginCheck, type LoginObserver, type LoginRequest, type NoAuthEvent, type NoAuthObserver, type LoginResult, type LoginSlot, type LoginState, type PasswordCheck,
} from './login-types';

export * from './login-types';

// not 'login': that sender is the login line log parsers (fail2ban) look for
const SENDER = 'auth';

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class LoginService {
  private readonly slots = new Map<LoginSlot, LoginCheck[]>();
  private readonly passwordChecks: PasswordCheck[] = [];
  private readonly observers: LoginObserver[] = [];
  private readonly noAuthObservers: NoAuthObserver[] = [];
  /**
   * One per process, shared with the HTTP 2FA endpoints (the provider's): a code used over
   * SSH is refused over FTP or REST. Tests may inject a clock, which gives them their own.
   */
  readonly totp: TotpValidator;

  constructor(private readonly ctx: ServerContext, now?: () => number) {
    this.totp = now ? new TotpValidator(ctx.config.mfa.totp, now) : ctx.provider.secrets.totp;
    for (const s of LOGIN_SLOTS) this.slots.set(s, []);
    for (const [slot, check] of builtinChecks()) this.use(slot, check);
  }

  /** Adds a check to a slot, after the ones already there (or first). */
  use(slot: LoginSlot, check: LoginCheck, position: 'first' | 'last' = 'last'): void {
    const list = this.slots.get(slot)!;
    if (position === 'first') list.unshift(check);
    else list.push(check);
  }

  /**
   * A check run on every password before the stored hash is compared (a
   * check-password hook): 'accept' ends the check, { verify } replaces what is
   * compared, 'continue' does nothing; throwing refuses the login.
   */
  usePasswordCheck(check: PasswordCheck): void {
    this.passwordChecks.push(check);
  }

  /**
   * Told every final outcome (success or refusal, not an SSH partial success)
   * after the logs and metrics: the post-login hook's seam. A failing observer
   * is logged and never changes the outcome.
   */
  onOutcome(observer: LoginObserver): void {
    this.observers.push(observer);
  }

  /** Told every client that left without trying to log in (reportNoAuth); a failing observer is logged. */
  onNoAuth(observer: NoAuthObserver): void {
    this.noAuthObservers.push(observer);
  }

  noAuth(e: NoAuthEvent): void {
    for (const observe of this.noAuthObservers) {
      try {
        observe(e);
      } catch (err) {
        this.ctx.logger.warn(SENDER, `no-auth observer failed: ${messageOf(err)}`);
      }
    }
  }

  /** The checks in order, for tests and logs. */
  checkNames(): string[] {
    return LOGIN_SLOTS.flatMap((s) => this.slots.get(s)!.map((c) => `${s}:${c.name}`));
  }

  async login(req: LoginRequest): Promise<LoginResult> {
    const { ctx } = this;
    const state: LoginState = {
      ctx, req, totp: this.totp, passwordChecks: this.passwordChecks, ip: req.ip, method: req.method,
      authenticated: false, secondFactorDone: false, cached: false,
      password: req.credentials.kind === 'password' || req.credentials.kind === 'tls-certificate' ? req.credentials.password : undefined,
    };
    let result: LoginResult;
    try {
      for (const slot of LOGIN_SLOTS) {
        for (const check of this.slots.get(slot)!) await check.run(state);
      }
      if (!state.user) throw new LoginRefusal('invalid_user', 'no user');
      result = { ok: true, user: state.user, ops: state.ops, info: state.info, cached: state.cached, ...(state.pendingPasscode ? { pendingPasscode: true } : {}) };
    } catch (e) {
      if (state.ops) await ctx.connections.remove(state.ops.id).catch(() => undefined);
      if (e instanceof PartialSuccess && state.user) {
        ctx.logger.info(SENDER, `user "${state.user.username}" authenticated with partial success, next methods: ${e.nextMethods.join(',')}`);
        return { ok: false, kind: 'partial', message: 'partial success', user: state.user, info: state.info ?? '', nextMethods: e.nextMethods };
      }
      result = this.refusal(e);
    }
    await this.finish(state, result);
    return result;
  }

  private refusal(e: unknown): LoginResult {
    if (e instanceof LoginRefusal) return { ok: false, kind: e.kind, message: e.message, error: e.original ?? e };
    if (isFsError(e) && e.kind === 'TooManyConnections') return { ok: false, kind: 'limit_exceeded', message: e.message, error: e };
    if (isFsError(e) && e.kind === 'NotFound') return { ok: false, kind: 'invalid_user', message: e.message, error: e };
    return { ok: false, kind: 'valid_user', message: isFsError(e) ? e.message : `unexpected error: ${messageOf(e)}`, error: e };
  }

  private async finish(state: LoginState, result: LoginResult): Promise<void> {
    const { ctx } = this;
    const { req } = state;
    // a cached WebDAV login is not a new login: no log line, metrics, hook or delay (as SFTPGo)
    if (result.ok && result.cached) return;
    // half a login (the web client's passcode page comes next): reported when it is finished
    if (result.ok && result.pendingPasscode) return;
    ctx.metrics.loginAttempt(state.method);
    ctx.metrics.loginResult(state.method, result.ok);
    if (result.ok) {
      const info = [req.firstStepKey, result.info].filter((x): x is string => !!x).join(', ');
      ctx.logger.login({
        ip: state.ip, username: result.user.username, method: state.method, protocol: req.protocol,
        connectionId: result.ops?.id ?? req.connectionId, client: req.clientVersion, encrypted: req.encrypted,
        ...(info ? { info } : {}),
      });
      // one policy for every protocol: a failed update never fails the login, it is logged once as a warning
      await ctx.provider.updateLastLogin(result.user).catch((e: unknown) =>
        ctx.logger.warn(SENDER, `unable to update the last login of user "${result.user.username}": ${messageOf(e)}`));
      ctx.perimeter.loginSucceeded(state.ip, req.protocol);
    } else if (result.kind !== 'partial') {
      ctx.logger.connectionFailed({ clientIp: state.ip, username: req.username, loginType: state.method, protocol: req.protocol, error: result.message });
      ctx.perimeter.loginFailed(state.ip, req.protocol, result.kind);
    }
    for (const observe of this.observers) {
      try {
        await observe(state, result);
      } catch (e) {
        ctx.logger.warn(SENDER, `login outcome observer failed: ${messageOf(e)}`);
      }
    }
    const delay = ctx.perimeter.loginDelayMs(result.ok);
    if (delay > 0) await new Promise<void>((resolve) => setTimeout(resolve, delay));
  }
}

/** The process's login service: built once per ServerContext (service/app.ts may build it first to add hooks). */
export function loginService(ctx: ServerContext): LoginService {
  ctx.login ??= new LoginService(ctx);
  return ctx.login;
}

/**
 * A client that disconnected without trying to authenticate (SSH, FTP): the
 * no_auth_tried metric and log line, and the defender's no_auth score.
 * `notNegotiated`: the SSH handshake failed on the algorithms (SFTPGo counts
 * it as no login tried; only the notifier's log event tells them apart).
 */
export function reportNoAuth(ctx: ServerContext, protocol: ProtocolName, ip: string, error: string, notNegotiated = false): void {
  ctx.metrics.noAuthTried();
  ctx.logger.connectionFailed({ clientIp: ip, username: '', loginType: 'no_auth_tried', protocol, error });
  ctx.perimeter.loginFailed(ip, protocol, 'no_auth');
  // SFTPGo notifies the post-login hook of these too, with an empty user
  ctx.hooks?.postLogin({ username: '', method: 'no_auth_tried', ip, protocol, success: false });
  loginService(ctx).noAuth({ protocol, ip, error, notNegotiated });
}

/**
 * A user login over HTTP (REST user token, web client): the same sequence, no
 * connection registered. `passcode` is the X-SFTPGO-OTP value for users with
 * TOTP on HTTP; must-change-password and missing 2FA do not block HTTP, where
 * the user can fix them (the HTTP layer limits what such a session may do).
 */
export function loginHttpUser(ctx: ServerContext, r: { username: string; password: string; ip: string; passcode?: string; deferPasscode?: boolean; clientVersion?: string; encrypted: boolean }): Promise<LoginResult> {
  return loginService(ctx).login({
    protocol: 'HTTP', method: 'password', ip: r.ip, username: r.username,
    credentials: { kind: 'password', password: r.password },
    connectionId: '', clientVersion: r.clientVersion ?? '', encrypted: r.encrypted,
    ...(r.passcode !== undefined ? { passcode: r.passcode } : {}),
    ...(r.deferPasscode ? { deferPasscode: true } : {}),
  });
}
