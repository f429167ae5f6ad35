/**
 * The login hooks of `data_provider`, with SFTPGo's variables, bodies and
 * answers (reference: sftpgo-interface.md §5, dataprovider.go):
 * external_auth_hook, pre_login_hook, check_password_hook, post_login_hook.
 * These clients only talk to the hook and interpret its answer; writing a
 * returned user to the provider is user-sync.ts. Every failure is a
 * HookError whose message names the hook and never holds a password.
 */
import { canonicalUser } from '../dataprovider/canonical';
import type { User } from '../dataprovider/models';
import { HookExecutor, parseJsonObject } from './executor';
import { HOOK_SENDER, HookError, isEmptyResponse, type HookName } from './types';

/** SFTPGo login method names (SFTPGO_LOGIND_METHOD, login_method). */
export type LoginMethod =
  | 'password' | 'publickey' | 'keyboard-interactive' | 'publickey+password' | 'publickey+keyboard-interactive'
  | 'TLSCertificate' | 'TLSCertificate+password' | 'no_auth_tried' | 'IDP' | '';

/** A user JSON object a hook returned, with a non-empty username. */
export type HookUser = Record<string, unknown> & { username: string };

export type HookUserAnswer = { kind: 'unchanged' } | { kind: 'user'; user: HookUser };

/** The user JSON hooks receive: the stored user, or SFTPGo's empty user (id 0) for an unknown name. */
export function userJsonForHook(existing: User | undefined, username: string): string {
  const u = existing ?? canonicalUser({ id: 0, status: 0, username, home_dir: '', permissions: {} });
  return JSON.stringify({ ...u, id: u.id ?? 0 });
}

/** SFTPGo hides the password hash from the post-login hook (PrepareForRendering). */
function userJsonForPostLogin(user: User | undefined, username: string): string {
  const u = user ?? canonicalUser({ id: 0, status: 0, username, home_dir: '', permissions: {} });
  const { password: _hidden, ...rest } = u;
  return JSON.stringify({ ...rest, id: u.id ?? 0 });
}

/** ssh.MarshalAuthorizedKey of an SSH wire-format key: "<type> <base64>\n". */
export function authorizedKeyLine(blob: Buffer | undefined): string {
  if (!blob || blob.length === 0) return '';
  const len = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
  if (len === 0 || 4 + len > blob.length) throw new Error('malformed public key');
  return `${blob.subarray(4, 4 + len).toString('latin1')} ${blob.toString('base64')}\n`;
}

function userAnswer(hook: HookName, body: Buffer): HookUserAnswer {
  if (isEmptyResponse(body)) return { kind: 'unchanged' };
  const obj = parseJsonObject(hook, body);
  if (typeof obj.username !== 'string' || obj.username === '') {
    // SFTPGo: an empty username means the hook refused the login
    throw new HookError(hook, 'bad-response', `${HOOK_SENDER[hook]}: the returned user has an empty username, login refused`);
  }
  return { kind: 'user', user: obj as HookUser };
}

function requireStatus(hook: HookName, status: number, expected: number[]): void {
  if (!expected.includes(status)) {
    throw new HookError(hook, 'http-status', `${HOOK_SENDER[hook]}: HTTP status ${status}, expected ${expected.join(' or ')}`);
  }
}

// --- external auth ---

export interface ExternalAuthRequest {
  username: string;
  ip: string;
  protocol: string;
  password: string;
  /** SSH wire-format key blob the client offered */
  publicKey?: Buffer;
  keyboardInteractive: boolean;
  /** PEM of the client's TLS certificate */
  tlsCertPem?: string;
  /** the stored user, if any */
  existing?: User;
}

/** external_auth_scope: 0 = every method, else bits 1 password, 2 public key, 4 keyboard-interactive, 8 TLS certificate. */
export function externalAuthApplies(scope: number, method: LoginMethod): boolean {
  if (scope === 0) return true;
  switch (method) {
    case 'password': return (scope & 1) !== 0;
    case 'publickey': return (scope & 2) !== 0;
    case 'keyboard-interactive': return (scope & 4) !== 0;
    case 'TLSCertificate': return (scope & 8) !== 0;
    case 'TLSCertificate+password': return (scope & 9) !== 0;
    default: return false;
  }
}

export async function callExternalAuth(ex: HookExecutor, target: string, r: ExternalAuthRequest): Promise<HookUserAnswer> {
  const hook: HookName = 'external_auth';
  const pkey = authorizedKeyLine(r.publicKey);
  const tlsCert = r.tlsCertPem ?? '';
  const existing = r.existing && (r.existing.id ?? 0) > 0 ? r.existing : undefined;
  const body: Record<string, unknown> = {
    username: r.username, ip: r.ip, password: r.password, public_key: pkey, protocol: r.protocol,
    keyboard_interactive: r.keyboardInteractive ? '1' : '', tls_cert: tlsCert,
  };
  if (existing) body.user = existing;
  const answer = await ex.call({
    hook, target,
    vars: {
      SFTPGO_AUTHD_USERNAME: r.username,
      SFTPGO_AUTHD_USER: existing ? JSON.stringify(existing) : '',
      SFTPGO_AUTHD_IP: r.ip,
      SFTPGO_AUTHD_PASSWORD: r.password,
      SFTPGO_AUTHD_PUBLIC_KEY: pkey,
      SFTPGO_AUTHD_PROTOCOL: r.protocol,
      // SFTPGo passes the PEM on one line with literal "\n"
      SFTPGO_AUTHD_TLS_CERT: tlsCert.replaceAll('\n', '\\n'),
      SFTPGO_AUTHD_KEYBOARD_INTERACTIVE: r.keyboardInteractive ? '1' : '',
    },
    http: { method: 'POST', body: JSON.stringify(body), retry: false },
  });
  if (answer.kind === 'http') {
    requireStatus(hook, answer.response.status, [200]);
    return userAnswer(hook, answer.response.body);
  }
  return userAnswer(hook, answer.stdout);
}

// --- pre-login ---

export interface PreLoginRequest {
  username: string;
  /** '' after an FTP USER command */
  method: LoginMethod;
  ip: string;
  protocol: string;
  existing?: User;
  /** after an OpenID Connect login: the configured custom_fields found in the ID token (SFTPGo's oidc_custom_fields) */
  oidcCustomFields?: Record<string, unknown>;
}

export async function callPreLogin(ex: HookExecutor, target: string, r: PreLoginRequest): Promise<HookUserAnswer> {
  const hook: HookName = 'pre_login';
  const plain = userJsonForHook(r.existing, r.username);
  const userJson = r.oidcCustomFields
    ? JSON.stringify({ ...(JSON.parse(plain) as Record<string, unknown>), oidc_custom_fields: r.oidcCustomFields }) : plain;
  const answer = await ex.call({
    hook, target,
    vars: {
      SFTPGO_LOGIND_USER: userJson,
      SFTPGO_LOGIND_METHOD: r.method,
      SFTPGO_LOGIND_IP: r.ip,
      SFTPGO_LOGIND_PROTOCOL: r.protocol,
    },
    http: { method: 'POST', query: { login_method: r.method, ip: r.ip, protocol: r.protocol }, body: userJson, retry: false },
  });
  if (answer.kind === 'http') {
    if (answer.response.status === 204) return { kind: 'unchanged' };
    requireStatus(hook, answer.response.status, [200, 204]);
    return userAnswer(hook, answer.response.body);
  }
  return userAnswer(hook, answer.stdout);
}

// --- check password ---

/** check_password_scope: 0 = every protocol, else bits 1 SSH, 2 FTP, 4 WebDAV. */
export function checkPasswordApplies(scope: number, protocol: string): boolean {
  if (scope === 0) return true;
  switch (protocol) {
    case 'SSH': return (scope & 1) !== 0;
    case 'FTP': return (scope & 2) !== 0;
    case 'DAV': return (scope & 4) !== 0;
    default: return false;
  }
}

export type CheckPasswordVerdict = { status: 'ok' } | { status: 'partial'; toVerify: string } | { status: 'refused'; code: number };

export async function callCheckPassword(ex: HookExecutor, target: string,
  r: { username: string; password: string; ip: string; protocol: string }): Promise<CheckPasswordVerdict> {
  const hook: HookName = 'check_password';
  const answer = await ex.call({
    hook, target,
    vars: {
      SFTPGO_AUTHD_USERNAME: r.username,
      SFTPGO_AUTHD_PASSWORD: r.password,
      SFTPGO_AUTHD_IP: r.ip,
      SFTPGO_AUTHD_PROTOCOL: r.protocol,
    },
    http: { method: 'POST', body: JSON.stringify({ username: r.username, password: r.password, ip: r.ip, protocol: r.protocol }), retry: false },
  });
  let body: Buffer;
  if (answer.kind === 'http') {
    requireStatus(hook, answer.response.status, [200]);
    body = answer.response.body;
  } else {
    body = answer.stdout;
  }
  const obj = parseJsonObject(hook, body);
  const status = obj.status ?? 0;
  if (typeof status !== 'number' || !Number.isInteger(status)) {
    throw new HookError(hook, 'bad-response', `${HOOK_SENDER[hook]}: "status" must be an integer`);
  }
  if (status === 1) return { status: 'ok' };
  if (status === 2) {
    const toVerify = obj.to_verify ?? '';
    if (typeof toVerify !== 'string') throw new HookError(hook, 'bad-response', `${HOOK_SENDER[hook]}: "to_verify" must be a string`);
    return { status: 'partial', toVerify };
  }
  return { status: 'refused', code: status };
}

// --- post-login ---

/** post_login_scope: 0 every login, 1 only failed ones, 2 only successful ones. */
export function postLoginApplies(scope: number, success: boolean): boolean {
  if (scope === 1) return !success;
  if (scope === 2) return success;
  return true;
}

export interface PostLoginEvent {
  username: string;
  /** the logged-in (or attempted) user, as stored; absent when unknown */
  user?: User;
  method: LoginMethod;
  ip: string;
  protocol: string;
  success: boolean;
}

/** Notification: never rejects, failures are logged (SFTPGo runs it in the background). */
export async function notifyPostLogin(ex: HookExecutor, target: string, e: PostLoginEvent): Promise<void> {
  const hook: HookName = 'post_login';
  const userJson = userJsonForPostLogin(e.user, e.username);
  const status = e.success ? '1' : '0';
  const started = Date.now();
  try {
    const answer = await ex.call({
      hook, target,
      vars: {
        SFTPGO_LOGIND_USER: userJson,
        SFTPGO_LOGIND_IP: e.ip,
        SFTPGO_LOGIND_METHOD: e.method,
        SFTPGO_LOGIND_STATUS: status,
        SFTPGO_LOGIND_PROTOCOL: e.protocol,
      },
      http: { method: 'POST', query: { login_method: e.method, ip: e.ip, protocol: e.protocol, status }, body: userJson, retry: true },
    });
    ex.logger.debug(HOOK_SENDER[hook], 'post login hook executed', {
      username: e.username, ip: e.ip, protocol: e.protocol, elapsed_ms: Date.now() - started,
      response_code: answer.kind === 'http' ? answer.response.status : undefined,
    });
  } catch (err) {
    ex.logger.warn(HOOK_SENDER[hook], `post login hook failed: ${(err as Error).message}`, { username: e.username, ip: e.ip, protocol: e.protocol });
  }
}
