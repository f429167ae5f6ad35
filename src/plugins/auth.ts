/**
 * The auth plugin as a login source (SFTPGo doPluginAuth): for a method in
 * `auth_options.scope` (password, public key, keyboard-interactive, TLS
 * certificate) it runs first in the pre-login slot, and the external auth
 * and pre-login hooks are then not asked (SFTPGo checks a plugin instead of
 * the hooks, not before them). The plugin answers with the SFTPGo user as JSON (empty = accepted,
 * no change) and the account is created/updated like an external auth
 * answer, so the rest of the sequence (password against the saved hash,
 * public key, TOTP, per-user rules) applies unchanged. The plugin down, slow
 * or answering badly is a refusal with a log line: never a fallback to the
 * stored credentials. Passwords never reach a log line.
 */
import type { LoginService } from '../common/login';
import { LoginRefusal, type LoginCheck, type LoginState } from '../common/login-types';
import { isFsError } from '../common/errors';
import { authorizedKeyLine, userJsonForHook, type HookUser, type HookUserAnswer } from '../hooks/auth-hooks';
import { applyExternalAuthAnswer, HookAnswerMemo } from '../hooks/user-sync';
import type { User } from '../dataprovider/models';
import { keyboardDialogueContext } from '../hooks/login-checks';
import { KEYBOARD_INTERACTIVE_DEADLINE_MS, runKeyboardSteps, withDeadline, type KiRound, type KiStepRequest } from '../hooks/keyboard-interactive';
import { loadService, unaryCall } from './proto';
import { PLUGIN_SENDER, type PluginProcess } from './process';

/** SFTPGo's auth_options.scope bits */
export const AUTH_SCOPE = { password: 1, publickey: 2, keyboardInteractive: 4, tlsCertificate: 8 } as const;

export const AUTH_MAGIC_COOKIE: [string, string] = ['SFTPGO_PLUGIN_AUTH', 'd1ed507d-d2be-4a38-a460-6fe0b2cc7efc'];

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The plugin's answer: empty bytes = no change; otherwise a JSON object with a non-empty username. */
export function parseAuthAnswer(bytes: Buffer): HookUserAnswer {
  if (bytes.length === 0 || bytes.toString('utf8').trim() === '') return { kind: 'unchanged' };
  let obj: unknown;
  try {
    obj = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new Error(`invalid plugin auth response: ${messageOf(e)}`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new Error('invalid plugin auth response: not a JSON object');
  const user = obj as Record<string, unknown>;
  if (typeof user.username !== 'string' || user.username === '') throw new Error('the plugin returned a user with an empty username, login refused');
  return { kind: 'user', user: user as HookUser };
}

export class AuthPlugin {
  private readonly service = loadService('auth.proto', 'proto.Auth');
  private readonly answers = new HookAnswerMemo();

  constructor(readonly process: PluginProcess, readonly scope: number) {}

  covers(s: LoginState): boolean {
    const c = s.req.credentials;
    if (c.kind === 'password') return (this.scope & AUTH_SCOPE.password) !== 0;
    if (c.kind === 'publickey') return (this.scope & AUTH_SCOPE.publickey) !== 0;
    if (c.kind === 'tls-certificate') return (this.scope & AUTH_SCOPE.tlsCertificate) !== 0;
    return (this.scope & AUTH_SCOPE.keyboardInteractive) !== 0;
  }

  /** Asks the plugin; resolves to the user to check the credentials against. */
  async authenticate(s: LoginState, existing: User | undefined): Promise<User> {
    const c = s.req.credentials;
    const base = { username: s.req.username, ip: s.ip, protocol: s.req.protocol, user: Buffer.from(existing && (existing.id ?? 0) > 0 ? userJsonForHook(existing, s.req.username) : '') };
    let password = '';
    let keyLine = '';
    let res: { user: Buffer };
    const client = this.process.client(this.service);
    const timeout = this.process.callTimeoutMs;
    if (c.kind === 'password') {
      password = c.password;
      res = await unaryCall(client, this.service, 'CheckUserAndPass', { ...base, password }, timeout);
    } else if (c.kind === 'publickey') {
      keyLine = authorizedKeyLine(c.keyBlob);
      res = await unaryCall(client, this.service, 'CheckUserAndPublicKey', { ...base, pubKey: keyLine }, timeout);
    } else if (c.kind === 'tls-certificate') {
      password = c.password ?? '';
      res = await unaryCall(client, this.service, 'CheckUserAndTLSCert', { ...base, tlsCert: c.cert.toString() }, timeout);
    } else {
      // SFTPGo: the plugin answers with the user first; the dialogue itself comes in the credentials slot
      res = await unaryCall(client, this.service, 'CheckUserAndKeyboardInteractive', base, timeout);
    }
    const answer = parseAuthAnswer(res.user);
    return applyExternalAuthAnswer(s.ctx.provider, { loginName: s.req.username, existing, password, publicKeyLine: keyLine }, answer, this.answers);
  }

  /** One step of the keyboard-interactive dialogue (SendKeyboardAuthRequest). */
  async keyboardStep(req: KiStepRequest): Promise<KiRound> {
    const res = await unaryCall<{ instructions: string; questions: string[]; echos: boolean[]; auth_result: number; check_password: number }>(
      this.process.client(this.service), this.service, 'SendKeyboardAuthRequest', {
        requestID: req.requestId, step: req.step, username: req.username, password: req.password, ip: req.ip ?? '',
        answers: req.answers ?? [], questions: req.questions ?? [],
      }, this.process.callTimeoutMs);
    return {
      instruction: res.instructions, questions: res.questions, echos: res.echos, checkPassword: res.check_password, authResult: res.auth_result,
    };
  }
}

/**
 * The keyboard-interactive dialogue through the plugin whose scope has 4
 * (SFTPGo's executeKeyboardInteractivePlugin): it runs before the
 * keyboard-interactive hook and the built-in dialogue, and on success the
 * SSH second factor (TOTP for SSH) is still asked, as SFTPGo does after a
 * plugin. Bounded by the same 60 s as the hook's dialogue.
 */
function keyboardPluginCheck(plugins: AuthPlugin[]): LoginCheck {
  return {
    name: 'auth-plugin-keyboard-interactive',
    async run(s) {
      const c = s.req.credentials;
      if (c.kind !== 'keyboard-interactive' || s.authenticated) return;
      const plugin = plugins.find((p) => p.covers(s));
      if (!plugin) return;
      const user = s.user;
      if (!user) throw new LoginRefusal('invalid_user', `user "${s.req.username}" does not exist`);
      if (user.filters?.hooks?.external_auth_disabled) return;
      const fail = (message: string): Error => new Error(`keyboard interactive plugin: ${message}`);
      let result: number;
      try {
        result = await withDeadline(runKeyboardSteps((req) => plugin.keyboardStep(req), keyboardDialogueContext(s, user, c.challenge), fail),
          KEYBOARD_INTERACTIVE_DEADLINE_MS, () => fail(`no result within ${KEYBOARD_INTERACTIVE_DEADLINE_MS / 1000} s`));
      } catch (e) {
        s.ctx.logger.warn(PLUGIN_SENDER, `keyboard interactive auth error for user "${s.req.username}": ${messageOf(e)}`, { ip: s.ip, protocol: s.req.protocol });
        throw new LoginRefusal('valid_user', `plugin keyboard interactive auth: ${messageOf(e)}`, e);
      }
      if (result !== 1) throw new LoginRefusal('valid_user', `keyboard interactive auth failed, result: ${result}`);
      s.authenticated = true;
    },
  };
}

export function installAuthPluginChecks(login: LoginService, plugins: AuthPlugin[]): void {
  const check: LoginCheck = {
    name: 'auth-plugin',
    async run(s) {
      const plugin = plugins.find((p) => p.covers(s));
      if (!plugin) return;
      const existing = s.user ?? await s.ctx.provider.getUser(s.req.username).catch(() => undefined);
      // SFTPGo skipExternalAuth: an account an admin marked local-only keeps the built-in check
      if (existing?.filters?.hooks?.external_auth_disabled) return;
      const started = Date.now();
      try {
        s.user = await plugin.authenticate(s, existing);
        s.userFromPlugin = true;
        s.ctx.logger.debug(PLUGIN_SENDER, `plugin auth completed for user "${s.req.username}", elapsed ${Date.now() - started} ms, auth scope ${plugin.scope}`);
      } catch (e) {
        const notFound = isFsError(e) && e.kind === 'NotFound';
        s.ctx.logger.warn(PLUGIN_SENDER, `plugin auth error for user "${s.req.username}": ${messageOf(e)}, elapsed ${Date.now() - started} ms`,
          { ip: s.ip, protocol: s.req.protocol });
        throw new LoginRefusal(notFound ? 'invalid_user' : 'valid_user', `plugin auth: ${messageOf(e)}`, e);
      }
    },
  };
  login.use('pre-login', check, 'first');
  // installed after the hooks: first in its slot, so it runs before the keyboard-interactive hook
  login.use('credentials', keyboardPluginCheck(plugins), 'first');
}
