/**
 * SFTPGo's login hooks as checks of the login sequence (common/login.ts),
 * installed by service/app.ts, in SFTPGo's order:
 * - perimeter: the post-connect hook for HTTP logins (SSH, FTP and WebDAV run
 *   it when the connection is accepted, before any protocol work);
 * - pre-login: the external auth hook when external_auth_scope covers this
 *   credential, otherwise the pre-login hook; either may create or update the
 *   user, and the account it returns is the one that logs in;
 * - credentials: the keyboard-interactive hook owns an SSH keyboard-interactive
 *   dialogue (unless the user has filters.hooks.external_auth_disabled);
 * - every password, before the stored hash is compared: the check-password hook;
 * - the outcome: the post-login hook (scope filtered), and for clients that
 *   left without trying, the post-login hook with method no_auth_tried.
 * A hook failure is a refusal with a warning naming the hook and the reason;
 * passwords and answers never reach a log line.
 */
import type { LoginService } from '../common/login';
import { verifyPasscode, verifyPassword } from '../common/login-checks';
import { LoginRefusal, type KeyboardChallenge, type LoginCheck, type LoginResult, type LoginState, type PasswordCheck } from '../common/login-types';
import type { User } from '../dataprovider/models';
import { isFsError } from '../common/errors';
import { hasTotpFor } from '../dataprovider/user-auth';
import type { Hooks, KiContext } from './index';
import type { LoginMethod } from './auth-hooks';
import { HOOK_SENDER } from './types';

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** A hook failure (or the provider refusing what a hook returned) as a refusal, logged with the hook's sender. */
function refusal(s: LoginState, e: unknown, sender: string): LoginRefusal {
  if (e instanceof LoginRefusal) return e;
  const kind = isFsError(e) && e.kind === 'NotFound' ? 'invalid_user' : 'valid_user';
  s.ctx.logger.warn(sender, `login refused for user "${s.req.username}": ${messageOf(e)}`, { ip: s.ip, protocol: s.req.protocol });
  return new LoginRefusal(kind, `${sender}: ${messageOf(e)}`, e);
}

/** SFTPGo gives hooks the credential of this step: a second step's password is "password". */
function hookMethod(s: LoginState): LoginMethod {
  const c = s.req.credentials;
  if (c.kind !== 'tls-certificate') return c.kind;
  return c.password === undefined ? 'TLSCertificate' : 'TLSCertificate+password';
}

function postConnectCheck(hooks: Hooks): LoginCheck {
  return {
    name: 'post-connect-hook',
    async run(s) {
      if (s.req.protocol !== 'HTTP' || !hooks.hasPostConnect) return;
      if (!(await hooks.postConnect(s.ip, 'HTTP'))) throw new LoginRefusal('valid_user', 'connection refused by the post-connect hook');
    },
  };
}

function userSourceCheck(hooks: Hooks): LoginCheck {
  return {
    name: 'external-auth-or-pre-login-hook',
    async run(s) {
      if (s.userFromPlugin) return;
      const method = hookMethod(s);
      const c = s.req.credentials;
      if (c.kind === 'tls-certificate' && (await certificateExternalAuth(hooks, s, c))) return;
      if (c.kind !== 'tls-certificate' && hooks.externalAuthApplies(method)) {
        try {
          s.user = await hooks.externalAuth({
            username: s.req.username, method, ip: s.ip, protocol: s.req.protocol,
            password: c.kind === 'password' ? c.password : '', publicKey: c.kind === 'publickey' ? c.keyBlob : undefined,
          });
        } catch (e) {
          throw refusal(s, e, HOOK_SENDER.external_auth);
        }
      } else if (hooks.hasPreLogin) {
        // SFTPGo does not run the pre-login hook again for a WebDAV user served from its login cache
        if (s.req.knownGoodPassword) {
          const cachedUser = await s.ctx.provider.getUser(s.req.username).catch(() => undefined);
          if (cachedUser && s.req.knownGoodPassword(cachedUser)) return;
        }
        try {
          s.user = await hooks.preLogin(s.req.username, method, s.ip, s.req.protocol);
        } catch (e) {
          throw refusal(s, e, HOOK_SENDER.pre_login);
        }
      }
    },
  };
}

/**
 * A TLS certificate login and the external auth hook, as SFTPGo's FTP and
 * WebDAV servers do it: with scope bit 8 the hook is asked about the
 * certificate (tls_cert, no password: CheckUserAndTLSCert); for
 * TLSCertificate+password it is then asked about the password (scope bit 1,
 * no certificate: CheckUserAndPass). The built-in certificate check
 * (tls_username / tls_certs) still runs on the user the hook returned.
 * Returns false when the hook covers neither step (the pre-login hook then applies).
 */
async function certificateExternalAuth(hooks: Hooks, s: LoginState, c: Extract<LoginState['req']['credentials'], { kind: 'tls-certificate' }>): Promise<boolean> {
  const certStep = hooks.externalAuthApplies('TLSCertificate');
  const passwordStep = c.password !== undefined && hooks.externalAuthApplies('password');
  if (!certStep && !passwordStep) return false;
  const base = { username: s.req.username, ip: s.ip, protocol: s.req.protocol };
  try {
    if (certStep) s.user = await hooks.externalAuth({ ...base, method: 'TLSCertificate', tlsCertPem: c.cert.toString() });
    if (passwordStep) s.user = await hooks.externalAuth({ ...base, method: 'password', password: c.password });
  } catch (e) {
    throw refusal(s, e, HOOK_SENDER.external_auth);
  }
  return true;
}

/**
 * What a keyboard-interactive dialogue (the hook's, the auth plugin's) needs
 * from the login: the SSH client's challenge, and the server's own password
 * and TOTP checks for check_password 1 and 2.
 */
export function keyboardDialogueContext(s: LoginState, user: User, challenge: KeyboardChallenge): KiContext {
  return {
    user, ip: s.ip,
    challenge: (instruction, questions, echos) => challenge(questions.map((prompt, i) => ({ prompt, echo: echos[i] ?? false })), instruction),
    checkPassword: async (answer) => {
      try {
        await verifyPassword(s, answer);
        return true;
      } catch {
        return false;
      }
    },
    checkTotp: hasTotpFor(user, 'SSH') ? async (code) => {
      try {
        await verifyPasscode(s, code);
        return true;
      } catch {
        return false;
      }
    } : undefined,
  };
}

function keyboardInteractiveCheck(hooks: Hooks): LoginCheck {
  return {
    name: 'keyboard-interactive-hook',
    async run(s) {
      const c = s.req.credentials;
      if (c.kind !== 'keyboard-interactive' || !hooks.hasKeyboardInteractive || s.authenticated) return;
      const user = s.user;
      if (!user) throw new LoginRefusal('invalid_user', `user "${s.req.username}" does not exist`);
      // SFTPGo: a user with external auth disabled gets the built-in dialogue
      if (user.filters?.hooks?.external_auth_disabled) return;
      let ok: boolean;
      try {
        ok = await hooks.keyboardInteractive(keyboardDialogueContext(s, user, c.challenge));
      } catch (e) {
        throw refusal(s, e, HOOK_SENDER.keyboard_interactive);
      }
      if (!ok) throw new LoginRefusal('valid_user', 'keyboard interactive auth failed');
      s.authenticated = true;
      // the hook owns the whole dialogue, TOTP included (check_password 2), as in SFTPGo
      s.secondFactorDone = true;
    },
  };
}

function checkPasswordHook(hooks: Hooks): PasswordCheck {
  return async (s, password) => {
    // a WebDAV user served from the login cache: SFTPGo compares the cached password, no hook
    if (!s.user || s.req.knownGoodPassword?.(s.user)) return 'continue';
    let verdict;
    try {
      verdict = await hooks.checkPassword(s.user, password, s.ip, s.req.protocol);
    } catch (e) {
      s.ctx.logger.warn(HOOK_SENDER.check_password, `unable to check the credentials of user "${s.user.username}": ${messageOf(e)}`,
        { ip: s.ip, protocol: s.req.protocol });
      throw new LoginRefusal('valid_user', 'unable to check credentials', e);
    }
    if (verdict === undefined) return 'continue';
    if (verdict.status === 'ok') return 'accept';
    if (verdict.status === 'partial') return { verify: verdict.toVerify };
    throw new LoginRefusal('valid_user', `password rejected by the check password hook, status ${verdict.code}`);
  };
}

/** Adds the hook checks to the login sequence and the post-login hook to its outcomes. */
export function installHookChecks(login: LoginService, hooks: Hooks): void {
  login.use('perimeter', postConnectCheck(hooks));
  login.use('pre-login', userSourceCheck(hooks));
  login.use('credentials', keyboardInteractiveCheck(hooks), 'first');
  login.usePasswordCheck(checkPasswordHook(hooks));
  login.onOutcome((s: LoginState, result: LoginResult) => {
    if (result.ok && result.cached) return; // a WebDAV request served from the login cache is not a new login
    if (!result.ok && result.kind === 'partial') return; // the login goes on with its second step
    hooks.postLogin({
      username: s.req.username, user: result.ok ? result.user : s.user, method: s.req.method,
      ip: s.ip, protocol: s.req.protocol, success: result.ok,
    });
  });
}
