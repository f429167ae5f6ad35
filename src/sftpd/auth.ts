/**
 * SSH user authentication for one client connection: password, publickey and
 * keyboard-interactive (a single "Password: " prompt, SFTPGo's default flow
 * without a hook). The data provider decides who may log in; this layer owns
 * the SSH-specific part: public key signature verification, max_auth_tries,
 * connection_failed logs and login metrics.
 */
import type { AuthContext, Connection, KeyboardAuthContext, PasswordAuthContext, PublicKeyAuthContext } from 'ssh2';
import { utils } from 'ssh2';
import type { ServerContext } from '../common/context';
import { isFsError } from '../common/errors';
import type { User } from '../dataprovider/models';
import type { LoginMethodMetric } from '../metrics/types';
import { publicKeyAlgoName } from './algorithms';

type SshMethod = 'password' | 'publickey' | 'keyboard-interactive';

export interface AuthSuccess {
  user: User;
  method: SshMethod;
  /** the matched key's comment/fingerprint (publickey only) */
  keyInfo?: string;
}

export interface AuthOptions {
  ctx: ServerContext;
  client: Connection;
  ip: string;
  /** allowed client public key signature algorithms */
  publicKeyAlgos: string[];
  onSuccess(result: AuthSuccess): void;
}

export interface AuthState {
  /** true once the client tried any method other than "none" */
  readonly tried: boolean;
  readonly authenticated: boolean;
}

/** SFTPGo: max_auth_tries 0 means 6 (OpenSSH's default MaxAuthTries). */
export function effectiveMaxAuthTries(configured: number): number {
  return configured > 0 ? configured : 6;
}

/** The key type stored in an SSH wire-format public key blob. */
function blobKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) return undefined;
  return blob.subarray(4, 4 + len).toString('latin1');
}

/**
 * Verifies a publickey request's signature with the key the client offered
 * (the provider has already confirmed this exact blob belongs to the user).
 * ssh2's verify() returns an Error object on failure: only `true` counts.
 */
export function verifyPublicKeySignature(keyBlob: Buffer, signedData: Buffer, signature: Buffer, hashAlgo?: string): boolean {
  const type = blobKeyType(keyBlob);
  if (!type) return false;
  const parsed = utils.parseKey(`${type} ${keyBlob.toString('base64')}`);
  if (parsed instanceof Error) return false;
  const key = Array.isArray(parsed) ? (parsed as typeof parsed[])[0] : parsed;
  if (!key || !key.getPublicSSH().equals(keyBlob)) return false;
  try {
    return key.verify(signedData, signature, hashAlgo) === true;
  } catch {
    return false;
  }
}

function errorMessage(e: unknown): string {
  if (isFsError(e)) return e.message;
  return e instanceof Error ? `unexpected error: ${e.message}` : 'unexpected error';
}

export function attachAuthentication(opts: AuthOptions): AuthState {
  const { ctx, client, ip } = opts;
  const cfg = ctx.config.sftpd;
  const maxTries = effectiveMaxAuthTries(cfg.max_auth_tries);
  const methods: ('publickey' | 'password' | 'keyboard-interactive')[] = ['publickey'];
  if (cfg.password_authentication) methods.push('password');
  if (cfg.keyboard_interactive_authentication) methods.push('keyboard-interactive');
  const loginCtx = { ip, protocol: 'SSH' as const };

  let failures = 0;
  let tried = false;
  let authenticated = false;
  let closed = false;
  client.once('close', () => { closed = true; });

  const fail = (authCtx: AuthContext, method: SshMethod, username: string, error: string, metric = true): void => {
    failures++;
    if (metric) ctx.metrics.loginResult(method as LoginMethodMetric, false);
    ctx.logger.connectionFailed({ clientIp: ip, username, loginType: method, protocol: 'SSH', error });
    authCtx.reject(methods);
    if (failures >= maxTries && !closed) {
      ctx.logger.warn('sftpd', `too many authentication failures (${failures}) from ${ip}, disconnecting`);
      // requests already in flight are ignored from now on
      closed = true;
      client.end();
    }
  };

  const succeed = (authCtx: AuthContext, result: AuthSuccess): void => {
    if (closed) return;
    try {
      ctx.provider.checkLoginConditions(result.user, { ...loginCtx, method: result.method });
    } catch (e) {
      fail(authCtx, result.method, result.user.username, errorMessage(e));
      return;
    }
    authenticated = true;
    ctx.metrics.loginResult(result.method as LoginMethodMetric, true);
    opts.onSuccess(result);
    authCtx.accept();
  };

  const checkPassword = async (authCtx: AuthContext, method: SshMethod, password: string): Promise<void> => {
    ctx.metrics.loginAttempt(method as LoginMethodMetric);
    try {
      const user = await ctx.provider.checkUserAndPass(authCtx.username, password, loginCtx);
      succeed(authCtx, { user, method });
    } catch (e) {
      fail(authCtx, method, authCtx.username, errorMessage(e));
    }
  };

  const onPassword = (authCtx: PasswordAuthContext): void => {
    if (!cfg.password_authentication) {
      fail(authCtx, 'password', authCtx.username, 'password authentication is disabled', false);
      return;
    }
    void checkPassword(authCtx, 'password', authCtx.password);
  };

  const onKeyboard = (authCtx: KeyboardAuthContext): void => {
    if (!cfg.keyboard_interactive_authentication) {
      fail(authCtx, 'keyboard-interactive', authCtx.username, 'keyboard-interactive authentication is disabled', false);
      return;
    }
    authCtx.prompt([{ prompt: 'Password: ', echo: false }], '', '', (answers: string[] | Error) => {
      // an Error means the client aborted this attempt with a new request: nothing to answer
      if (!Array.isArray(answers)) return;
      if (answers.length !== 1 || typeof answers[0] !== 'string') {
        fail(authCtx, 'keyboard-interactive', authCtx.username, 'unexpected number of keyboard-interactive answers');
        return;
      }
      void checkPassword(authCtx, 'keyboard-interactive', answers[0]);
    });
  };

  const onPublicKey = async (authCtx: PublicKeyAuthContext): Promise<void> => {
    const algo = publicKeyAlgoName(authCtx.key.algo, authCtx.hashAlgo);
    const signed = authCtx.signature !== undefined && authCtx.blob !== undefined;
    if (signed) ctx.metrics.loginAttempt('publickey');
    if (!opts.publicKeyAlgos.includes(algo)) {
      fail(authCtx, 'publickey', authCtx.username, `public key algorithm "${algo}" is not allowed`, signed);
      return;
    }
    let result;
    try {
      result = await ctx.provider.checkUserAndPubKey(authCtx.username, authCtx.key.data, loginCtx);
    } catch (e) {
      fail(authCtx, 'publickey', authCtx.username, errorMessage(e), signed);
      return;
    }
    if (!signed) {
      // Only the "key acceptable" (PK_OK) reply: ssh2's accept() without a
      // signature does not authenticate, the client must now prove possession.
      if (!closed) authCtx.accept();
      return;
    }
    if (!verifyPublicKeySignature(authCtx.key.data, authCtx.blob!, authCtx.signature!, authCtx.hashAlgo)) {
      fail(authCtx, 'publickey', authCtx.username, 'invalid public key signature');
      return;
    }
    succeed(authCtx, { user: result.user, method: 'publickey', keyInfo: result.keyInfo });
  };

  client.on('authentication', (authCtx: AuthContext) => {
    if (authenticated || closed) { authCtx.reject(); return; }
    switch (authCtx.method) {
      case 'none':
        // the method list query every client starts with: not a failure
        authCtx.reject(methods);
        return;
      case 'password': tried = true; onPassword(authCtx); return;
      case 'keyboard-interactive': tried = true; onKeyboard(authCtx); return;
      case 'publickey': tried = true; void onPublicKey(authCtx); return;
      default:
        tried = true;
        ctx.logger.connectionFailed({ clientIp: ip, username: authCtx.username, loginType: authCtx.method, protocol: 'SSH', error: 'unsupported method' });
        authCtx.reject(methods);
    }
  });

  return {
    get tried() { return tried; },
    get authenticated() { return authenticated; },
  };
}
