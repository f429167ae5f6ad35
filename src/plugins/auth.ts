/**
 * The auth plugin as a login source (SFTPGo doPluginAuth): for a method in
 * `auth_options.scope` it runs first in the pre-login slot, before the
 * external auth and pre-login hooks, exactly as SFTPGo checks plugins before
 * hooks. The plugin answers with the SFTPGo user as JSON (empty = accepted,
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
    return false;
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
      throw new Error('keyboard-interactive is not handled by the auth plugin');
    }
    const answer = parseAuthAnswer(res.user);
    return applyExternalAuthAnswer(s.ctx.provider, { loginName: s.req.username, existing, password, publicKeyLine: keyLine }, answer, this.answers);
  }
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
}
