/**
 * SSH user authentication for one client connection: password, publickey,
 * keyboard-interactive, and SFTPGo's multi-step publickey+password /
 * publickey+keyboard-interactive (partial success after the key). Who gets in
 * is decided by the login sequence (common/login.ts); this layer owns the SSH
 * part: the method list, public key signature verification, max_auth_tries,
 * keyboard-interactive rounds, and the "no method tried" report.
 */
import type { AuthContext, Connection, KeyboardAuthContext, PasswordAuthContext, PublicKeyAuthContext } from 'ssh2';
import { utils } from 'ssh2';
import type { ServerContext } from '../common/context';
import { loginService, type Credentials, type KeyboardQuestion, type LoginMethodName } from '../common/login';
import { matchPublicKey } from '../dataprovider/auth';
import type { User } from '../dataprovider/models';
import { publicKeyAlgoName } from './algorithms';

type SshMethod = 'password' | 'publickey' | 'keyboard-interactive';

export interface AuthSuccess {
  user: User;
  method: LoginMethodName;
}

export interface AuthOptions {
  ctx: ServerContext;
  client: Connection;
  ip: string;
  /** the SSH connection id for the login log (`SSH_<id>`) */
  connectionId: string;
  clientVersion: string;
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

export function attachAuthentication(opts: AuthOptions): AuthState {
  const { ctx, client, ip } = opts;
  const cfg = ctx.config.sftpd;
  const maxTries = effectiveMaxAuthTries(cfg.max_auth_tries);
  const methods: SshMethod[] = ['publickey'];
  if (cfg.password_authentication) methods.push('password');
  if (cfg.keyboard_interactive_authentication) methods.push('keyboard-interactive');
  const login = loginService(ctx);

  let failures = 0;
  let tried = false;
  let authenticated = false;
  let closed = false;
  /** after a key accepted with partial success: the second methods offered, and the key's log info */
  let partial: { username: string; methods: SshMethod[]; keyInfo: string } | undefined;
  /** keyboard-interactive rounds waiting for answers: a closed client must not leave them pending */
  const pendingRounds = new Set<(e: Error) => void>();
  client.once('close', () => {
    closed = true;
    for (const abort of pendingRounds) abort(new Error('the client disconnected'));
    pendingRounds.clear();
  });

  const offered = (): SshMethod[] => partial?.methods ?? methods;

  const countFailure = (): void => {
    failures++;
    if (failures >= maxTries && !closed) {
      ctx.logger.warn('sftpd', `too many authentication failures (${failures}) from ${ip}, disconnecting`);
      // requests already in flight are ignored from now on
      closed = true;
      client.end();
    }
  };

  /** A refusal decided here, before the login sequence (method disabled, bad signature...). */
  const refuseLocally = (authCtx: AuthContext, method: string, error: string): void => {
    ctx.logger.connectionFailed({ clientIp: ip, username: authCtx.username, loginType: method, protocol: 'SSH', error });
    authCtx.reject(offered());
    countFailure();
  };

  /** The method name for logs and denied_login_methods: the second step of a multi-step login is e.g. publickey+password. */
  const methodName = (authCtx: AuthContext, method: 'password' | 'keyboard-interactive'): LoginMethodName | undefined => {
    if (!partial) return method;
    if (partial.username !== authCtx.username || !partial.methods.includes(method)) return undefined;
    return method === 'password' ? 'publickey+password' : 'publickey+keyboard-interactive';
  };

  const run = async (authCtx: AuthContext, method: LoginMethodName, credentials: Credentials): Promise<void> => {
    const result = await login.login({
      protocol: 'SSH', method, ip, username: authCtx.username, credentials,
      connectionId: `SSH_${opts.connectionId}`, clientVersion: opts.clientVersion, encrypted: true,
      ...(partial && method.startsWith('publickey+') ? { firstStepKey: partial.keyInfo } : {}),
    });
    if (closed) return;
    if (result.ok) {
      authenticated = true;
      opts.onSuccess({ user: result.user, method });
      authCtx.accept();
      return;
    }
    if (result.kind === 'partial') {
      const next = result.nextMethods.filter((m) => methods.includes(m));
      partial = { username: authCtx.username, methods: next, keyInfo: result.info };
      authCtx.reject(next, true);
      return;
    }
    authCtx.reject(offered());
    countFailure();
  };

  const onPassword = (authCtx: PasswordAuthContext): void => {
    const method = methodName(authCtx, 'password');
    if (!cfg.password_authentication || !method) {
      refuseLocally(authCtx, 'password', cfg.password_authentication ? 'password is not the next step' : 'password authentication is disabled');
      return;
    }
    void run(authCtx, method, { kind: 'password', password: authCtx.password });
  };

  const onKeyboard = (authCtx: KeyboardAuthContext): void => {
    const method = methodName(authCtx, 'keyboard-interactive');
    if (!cfg.keyboard_interactive_authentication || !method) {
      refuseLocally(authCtx, 'keyboard-interactive', cfg.keyboard_interactive_authentication
        ? 'keyboard-interactive is not the next step' : 'keyboard-interactive authentication is disabled');
      return;
    }
    const challenge = (questions: KeyboardQuestion[]): Promise<string[]> => new Promise((resolve, reject) => {
      if (closed) { reject(new Error('the client disconnected')); return; }
      pendingRounds.add(reject);
      authCtx.prompt(questions, '', '', (answers: string[] | Error) => {
        pendingRounds.delete(reject);
        // an Error means the client aborted this attempt with a new request
        if (!Array.isArray(answers)) { reject(answers); return; }
        resolve(answers.map((a) => (typeof a === 'string' ? a : '')));
      });
    });
    void run(authCtx, method, { kind: 'keyboard-interactive', challenge });
  };

  const onPublicKey = async (authCtx: PublicKeyAuthContext): Promise<void> => {
    const algo = publicKeyAlgoName(authCtx.key.algo, authCtx.hashAlgo);
    const signed = authCtx.signature !== undefined && authCtx.blob !== undefined;
    if (partial) {
      refuseLocally(authCtx, 'publickey', 'a public key was already accepted');
      return;
    }
    if (!opts.publicKeyAlgos.includes(algo)) {
      if (signed) { ctx.metrics.loginAttempt('publickey'); ctx.metrics.loginResult('publickey', false); }
      refuseLocally(authCtx, 'publickey', `public key algorithm "${algo}" is not allowed`);
      return;
    }
    if (!signed) {
      // the "is this key acceptable" query (PK_OK): no login yet, nothing logged;
      // ssh2's accept() without a signature does not authenticate
      const user = await ctx.provider.getUser(authCtx.username).catch(() => undefined);
      if (closed) return;
      if (!user) refuseLocally(authCtx, 'publickey', `user "${authCtx.username}" does not exist`);
      else if (matchPublicKey(user.public_keys ?? [], authCtx.key.data) === undefined) refuseLocally(authCtx, 'publickey', 'invalid credentials');
      else authCtx.accept();
      return;
    }
    if (!verifyPublicKeySignature(authCtx.key.data, authCtx.blob!, authCtx.signature!, authCtx.hashAlgo)) {
      ctx.metrics.loginAttempt('publickey');
      ctx.metrics.loginResult('publickey', false);
      refuseLocally(authCtx, 'publickey', 'invalid public key signature');
      return;
    }
    await run(authCtx, 'publickey', { kind: 'publickey', keyBlob: authCtx.key.data });
  };

  client.on('authentication', (authCtx: AuthContext) => {
    if (authenticated || closed) { authCtx.reject(); return; }
    switch (authCtx.method) {
      case 'none':
        // the method list query every client starts with: not a failure
        authCtx.reject(offered());
        return;
      case 'password': tried = true; onPassword(authCtx); return;
      case 'keyboard-interactive': tried = true; onKeyboard(authCtx); return;
      case 'publickey': tried = true; void onPublicKey(authCtx); return;
      default:
        tried = true;
        ctx.logger.connectionFailed({ clientIp: ip, username: authCtx.username, loginType: authCtx.method, protocol: 'SSH', error: 'unsupported method' });
        authCtx.reject(offered());
    }
  });

  return {
    get tried() { return tried; },
    get authenticated() { return authenticated; },
  };
}
