/**
 * The built-in checks of the login sequence (login.ts), in SFTPGo's order:
 * login rate limits, user lookup, account conditions (enabled, expiration,
 * access_time), the FTP/HTTP passcode, the credentials (password, public key,
 * keyboard-interactive), the SSH second factor, per-user rules (protocol, login
 * method, IP, TLS, 2FA not set up), max_sessions, then the registered
 * connection and its home. Every refusal is a LoginRefusal with the
 * defender's kind and a message safe to log (never a password or a code).
 */
import { isAbsolute } from 'node:path';
import { checkAccessRules, checkAccountConditions, matchPublicKey, mustChangePassword, withAnonymousSettings } from '../dataprovider/auth';
import type { User } from '../dataprovider/models';
import { hasTotpFor, isPartialAuth, mustSetSecondFactor, nextAuthMethods, userTotp } from '../dataprovider/user-auth';
import { certificateMatches, certificateMismatch, isTlsVerificationEnabled } from '../dataprovider/user-certs';
import type { X509Certificate } from 'node:crypto';
import { LoginRefusal, PartialSuccess, type LoginCheck, type LoginSlot, type LoginState } from './login-types';
import type { ClusterPort } from '../cluster/sessions';
import type { ServerContext } from './context';

const refuse = (message: string, original?: unknown): LoginRefusal => new LoginRefusal('valid_user', message, original);
const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function userOf(s: LoginState): User {
  if (!s.user) throw new LoginRefusal('invalid_user', `user "${s.req.username}" does not exist`);
  return s.user;
}

/** Verifies a TOTP code with the user's secret (decrypted through the kms), refusing replays. */
export async function verifyPasscode(s: LoginState, code: string): Promise<void> {
  const user = userOf(s);
  const t = userTotp(user);
  if (!t) throw refuse('no TOTP configuration');
  let secret: string;
  try {
    secret = await s.ctx.kms.decrypt(t.secret);
  } catch (e) {
    s.ctx.logger.error('auth', `unable to decrypt the TOTP secret of user "${user.username}": ${messageOf(e)}`);
    throw refuse('unable to check the passcode', e);
  }
  let outcome;
  try {
    outcome = s.totp.check(t.configName, code, secret);
  } catch (e) {
    throw refuse(`invalid TOTP configuration: ${messageOf(e)}`, e);
  }
  if (outcome === 'replayed') throw refuse('passcode already used');
  if (outcome !== 'ok') throw refuse('invalid passcode');
  s.secondFactorDone = true;
}

/** SFTPGo's checkUserAndPass after the passcode: must-change, anonymous, empty, hooks, then the hash. */
export async function verifyPassword(s: LoginState, password: string): Promise<void> {
  const user = userOf(s);
  if (s.req.protocol !== 'HTTP' && mustChangePassword(user, Date.now())) {
    throw refuse('login not allowed, password change required');
  }
  // anonymous users (FTP/WebDAV only, see withAnonymousSettings) log in with any password
  if (user.filters?.is_anonymous) return;
  if (!user.password || password.trim() === '') throw refuse('credentials cannot be null or empty');
  for (const hook of s.passwordChecks) {
    const verdict = await hook(s, password);
    if (verdict === 'accept') return;
    if (typeof verdict === 'object') password = verdict.verify;
  }
  if (s.req.knownGoodPassword?.(user)) {
    s.cached = true;
    return;
  }
  if (!(await s.ctx.provider.verifyUserPassword(user, password))) throw refuse('invalid credentials');
}

/**
 * SFTPGo's certificate login: for a user with TLS verification (tls_certs or
 * tls_username CommonName) the certificate must be one of tls_certs or carry the
 * username as CommonName, then the password too for TLSCertificate+password. A
 * user without TLS verification is checked on the password alone and the
 * method becomes "password" (SFTPGo keeps this for 2.0.x compatibility).
 */
async function verifyCertificate(s: LoginState, cert: X509Certificate): Promise<void> {
  const user = userOf(s);
  if (!isTlsVerificationEnabled(user)) {
    if (s.password === undefined) throw refuse('TLS certificate logins are not enabled for this user');
    s.method = 'password';
    await verifyPassword(s, s.password);
    return;
  }
  if (!certificateMatches(user, cert)) throw refuse(certificateMismatch(user, cert));
  if (s.password !== undefined) await verifyPassword(s, s.password);
}

const perimeter: LoginCheck = {
  name: 'login-rate',
  run(s) {
    try {
      s.ctx.perimeter.checkLoginAttempt(s.ip, s.req.protocol);
    } catch (e) {
      throw new LoginRefusal('limit_exceeded', messageOf(e), e);
    }
  },
};

const lookup: LoginCheck = {
  name: 'provider',
  async run(s) {
    // a pre-login or external auth check may already have provided the user
    if (s.user) return;
    let user: User | undefined;
    try {
      user = await s.ctx.provider.getUser(s.req.username);
    } catch (e) {
      throw refuse(`unable to get user "${s.req.username}": ${messageOf(e)}`, e);
    }
    if (!user) throw new LoginRefusal('invalid_user', `user "${s.req.username}" does not exist`);
    s.user = user;
  },
};

/**
 * The user from then on is the merged one (SFTPGo applies group settings
 * before the login conditions: a group's allowed_ip or denied protocols count).
 */
const groupSettings: LoginCheck = {
  name: 'groups',
  async run(s) {
    const user = userOf(s);
    try {
      s.user = await s.ctx.provider.groups.withGroupSettings(user);
    } catch (e) {
      throw refuse(`unable to apply the group settings of user "${user.username}": ${messageOf(e)}`, e);
    }
  },
};

const conditions: LoginCheck = {
  name: 'account',
  run(s) {
    let user = userOf(s);
    if (user.filters?.is_anonymous) s.user = user = withAnonymousSettings(user);
    checkAccountConditions(user, Date.now(), s.ctx.config.common.tz);
    if (!isAbsolute(user.home_dir)) throw refuse(`cannot login user with invalid home dir: "${user.home_dir}"`);
  },
};

/** FTP: the code is the password's last six digits; HTTP: the code comes beside the password. */
const passcode: LoginCheck = {
  name: 'totp-passcode',
  async run(s) {
    const user = userOf(s);
    // only logins that carry a password (password, TLSCertificate+password)
    if (s.password === undefined || !hasTotpFor(user, s.req.protocol)) return;
    if (s.req.protocol === 'FTP') {
      const pw = s.password ?? '';
      if (pw.length < 7) throw refuse('password too short, cannot contain the passcode');
      s.password = pw.slice(0, -6);
      await verifyPasscode(s, pw.slice(-6));
    } else if (s.req.protocol === 'HTTP') {
      if (s.req.deferPasscode) s.pendingPasscode = true;
      else await verifyPasscode(s, s.req.passcode ?? '');
    }
  },
};

const credentials: LoginCheck = {
  name: 'builtin',
  async run(s) {
    if (s.authenticated) return;
    const user = userOf(s);
    const c = s.req.credentials;
    if (c.kind === 'password') {
      await verifyPassword(s, s.password ?? '');
    } else if (c.kind === 'publickey') {
      const info = matchPublicKey(user.public_keys ?? [], c.keyBlob);
      if (info === undefined) throw refuse('invalid credentials');
      s.info = info;
      if (s.req.protocol === 'SSH' && s.req.method === 'publickey' && isPartialAuth(user)) {
        s.authenticated = true;
        throw new PartialSuccess(nextAuthMethods(user));
      }
    } else if (c.kind === 'tls-certificate') {
      await verifyCertificate(s, c.cert);
    } else {
      // after an accepted key, a user with an SSH second factor is only asked the code (as SFTPGo)
      const codeOnly = s.req.firstStepKey !== undefined && hasTotpFor(user, 'SSH');
      if (!codeOnly) {
        const answers = await c.challenge([{ prompt: 'Password: ', echo: false }]);
        if (answers.length !== 1) throw refuse(`unexpected number of answers: ${answers.length}`);
        await verifyPassword(s, answers[0]!);
      }
    }
    s.authenticated = true;
  },
};

/**
 * SSH with TOTP for SSH: keyboard-interactive asks "Authentication code: " after
 * the password; the plain password method is refused so the code cannot be
 * skipped. A public key (alone or followed by a password) is accepted without a
 * code, as SFTPGo does: the key is the other factor.
 */
const secondFactor: LoginCheck = {
  name: 'ssh-totp',
  async run(s) {
    const user = userOf(s);
    if (s.req.protocol !== 'SSH' || !hasTotpFor(user, 'SSH')) return;
    const c = s.req.credentials;
    if (s.req.method === 'password') {
      throw refuse(`user "${user.username}" has two-factor authentication: use keyboard-interactive`);
    }
    if (c.kind !== 'keyboard-interactive' || s.secondFactorDone) return;
    const answers = await c.challenge([{ prompt: 'Authentication code: ', echo: false }]);
    if (answers.length !== 1) throw refuse(`unexpected number of answers: ${answers.length}`);
    await verifyPasscode(s, answers[0]!);
  },
};

const userRules: LoginCheck = {
  name: 'user-filters',
  run(s) {
    const user = userOf(s);
    const { protocol } = s.req;
    checkAccessRules(user, { ip: s.ip, protocol, method: s.method });
    if (protocol === 'FTP' && user.filters?.ftp_security === 1 && !s.req.encrypted) throw refuse('TLS is required');
    // HTTP lets such a user in to set 2FA up (the web client limits what it can do then)
    if (protocol !== 'HTTP' && mustSetSecondFactor(user, protocol)) {
      throw refuse(`second factor authentication is not set for user "${user.username}"`);
    }
  },
};

/** max_sessions before the login is logged (SFTPGo checks it in loginUser/validateUser). */
const sessionLimits: LoginCheck = {
  name: 'max-sessions',
  async run(s) {
    const user = userOf(s);
    const max = user.max_sessions ?? 0;
    if (max <= 0) return;
    const cluster = s.ctx.cluster;
    // with a shared provider the sessions of every node count (cluster/sessions.ts records them)
    const open = cluster ? await countClusterSessions(cluster, user.username)
      : s.ctx.connections.list().filter((c) => c.username === user.username).length;
    if (open >= max) throw new LoginRefusal('limit_exceeded', `too many open sessions: ${open}/${max}`);
  },
};

/** Registers the connection (the manager enforces max_sessions again, atomically) and creates the home. */
const register: LoginCheck = {
  name: 'connection',
  async run(s) {
    const r = s.req.register;
    if (!r) return;
    const user = userOf(s);
    try {
      s.ops = s.ctx.connections.add({
        protocol: r.protocol, user, remoteAddr: r.remoteAddr, localAddr: r.localAddr,
        clientVersion: r.clientVersion, session: r.handle, ...(r.id ? { id: r.id } : {}), ...(r.connectedAt ? { connectedAt: r.connectedAt } : {}),
      });
    } catch (e) {
      throw new LoginRefusal('limit_exceeded', messageOf(e), e);
    }
    if (s.ctx.cluster) await admitAcrossNodes(s.ctx, s.ctx.cluster, s.ops.id, user.max_sessions ?? 0);
    try {
      await s.ops.ensureRoots?.();
    } catch (e) {
      s.ctx.logger.warn('auth', `unable to create the root dirs for user "${user.username}": ${messageOf(e)}`, { connection_id: s.ops.id });
      throw refuse('unable to access the home directory', e);
    }
  },
};

export function builtinChecks(): [LoginSlot, LoginCheck][] {
  return [
    ['perimeter', perimeter],
    ['lookup', lookup],
    ['conditions', groupSettings],
    ['conditions', conditions],
    ['passcode', passcode],
    ['credentials', credentials],
    ['second-factor', secondFactor],
    ['user-rules', userRules],
    ['session-limits', sessionLimits],
    ['register', register],
  ];
}

async function countClusterSessions(cluster: ClusterPort, username: string): Promise<number> {
  try {
    return await cluster.node.countSessions(username);
  } catch (e) {
    // fail closed: without the count the limit cannot be honoured
    throw new LoginRefusal('limit_exceeded', `unable to count the sessions across nodes: ${messageOf(e)}`, e);
  }
}

/**
 * The session is recorded cluster-wide, then counted: two nodes admitting the
 * same user at once both see both rows and refuse, so the limit is never exceeded.
 */
async function admitAcrossNodes(ctx: ServerContext, cluster: ClusterPort, connectionId: string, max: number): Promise<void> {
  let open: number;
  try {
    open = await cluster.admitted(connectionId);
  } catch (e) {
    if (max <= 0) return;
    await ctx.connections.remove(connectionId);
    throw new LoginRefusal('limit_exceeded', `unable to count the sessions across nodes: ${messageOf(e)}`, e);
  }
  if (max > 0 && open > max) {
    await ctx.connections.remove(connectionId);
    throw new LoginRefusal('limit_exceeded', `too many open sessions: ${open - 1}/${max}`);
  }
}
