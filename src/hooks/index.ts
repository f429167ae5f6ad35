/**
 * The hooks a server runs, built once in service/app.ts from the config and
 * handed to the login pipeline and the listeners. Each method answers one
 * question of SFTPGo's login flow; an unset hook is a no-op that keeps the
 * built-in behaviour. Failures of gating hooks (post-connect, external auth,
 * pre-login, check-password, keyboard-interactive) are refusals with a log
 * line naming the hook; notification hooks (post-login, post-disconnect,
 * startup) run in the background and only log.
 */
import { existsSync } from 'node:fs';
import type { AppConfig } from '../config/types';
import { ConfigError } from '../config/errors';
import type { AppLogger } from '../logger/types';
import type { User } from '../dataprovider/models';
import type { DataProviderService } from '../dataprovider/types';
import { FsError } from '../common/errors';
import {
  authorizedKeyLine, callCheckPassword, callExternalAuth, callPreLogin, checkPasswordApplies, externalAuthApplies,
  notifyPostLogin, postLoginApplies, type CheckPasswordVerdict, type LoginMethod, type PostLoginEvent,
} from './auth-hooks';
import { parseHookTarget, validateCommandConfig } from './command-config';
import { checkPostConnect, notifyPostDisconnect, runStartupHook, type DisconnectEvent } from './connection-hooks';
import { HookExecutor } from './executor';
import { HookHttpClient, type HttpClientOptions } from './http-client';
import { runKeyboardInteractiveHook, type KiContext } from './keyboard-interactive';
import { HookError } from './types';
import { applyExternalAuthAnswer, applyPreLoginAnswer, HookAnswerMemo } from './user-sync';

export { HookError } from './types';
export type { LoginMethod, CheckPasswordVerdict } from './auth-hooks';
export type { KiChallenge, KiContext } from './keyboard-interactive';

const HOOK_KEYS: { key: string; get: (c: AppConfig) => string }[] = [
  { key: 'common.startup_hook', get: (c) => c.common.startup_hook },
  { key: 'common.post_connect_hook', get: (c) => c.common.post_connect_hook },
  { key: 'common.post_disconnect_hook', get: (c) => c.common.post_disconnect_hook },
  { key: 'sftpd.keyboard_interactive_auth_hook', get: (c) => c.sftpd.keyboard_interactive_auth_hook },
  { key: 'data_provider.external_auth_hook', get: (c) => c.data_provider.external_auth_hook },
  { key: 'data_provider.pre_login_hook', get: (c) => c.data_provider.pre_login_hook },
  { key: 'data_provider.post_login_hook', get: (c) => c.data_provider.post_login_hook },
  { key: 'data_provider.check_password_hook', get: (c) => c.data_provider.check_password_hook },
];

/** Start-up checks (fail closed): every hook is a URL or an existing absolute program; scopes and sections valid. */
export function validateHooksConfig(c: AppConfig): void {
  validateCommandConfig(c.command);
  for (const { key, get } of HOOK_KEYS) {
    const v = get(c);
    if (v === '') continue;
    const t = parseHookTarget(v);
    if (!t) throw new ConfigError(`${key}: invalid hook "${v}": must be an http(s) URL or an absolute path`);
    if (t.kind === 'program' && !existsSync(t.path)) throw new ConfigError(`${key}: hook program "${t.path}" does not exist`);
    if (t.kind === 'http') {
      try {
        new URL(t.url);
      } catch {
        throw new ConfigError(`${key}: invalid hook URL`);
      }
    }
  }
  const scope = (key: string, v: number, max: number): void => {
    if (!Number.isInteger(v) || v < 0 || v > max) throw new ConfigError(`${key}: invalid scope ${v}, must be between 0 and ${max}`);
  };
  scope('data_provider.external_auth_scope', c.data_provider.external_auth_scope, 15);
  scope('data_provider.check_password_scope', c.data_provider.check_password_scope, 7);
  scope('data_provider.post_login_scope', c.data_provider.post_login_scope, 2);
}

export interface HooksDeps {
  config: AppConfig;
  configDir: string;
  logger: AppLogger;
  provider: DataProviderService;
  http?: HttpClientOptions;
  /** the server's one hook HTTP client (its connection pool is shared with the event actions); built here when absent */
  httpClient?: HookHttpClient;
}

export interface ExternalAuthAttempt {
  username: string;
  method: LoginMethod;
  ip: string;
  protocol: string;
  password?: string;
  publicKey?: Buffer;
  tlsCertPem?: string;
}

const isLastLoginRecent = (lastLogin: number | undefined, windowMs: number, now: number): boolean => {
  const diff = now - (lastLogin ?? 0);
  return diff >= -10_000 && diff < windowMs;
};

export class Hooks {
  readonly executor: HookExecutor;
  private readonly cfg: AppConfig;
  /** background notifications still running (stop() waits for them, tests too) */
  private readonly pending = new Set<Promise<void>>();
  /** skips rewriting a user a hook answered the same way for (see user-sync.ts) */
  private readonly answers = new HookAnswerMemo();

  constructor(private readonly deps: HooksDeps) {
    this.cfg = deps.config;
    validateHooksConfig(deps.config);
    const http = deps.httpClient ?? new HookHttpClient(deps.config.http, deps.configDir, deps.http);
    this.executor = new HookExecutor({ command: deps.config.command, http, logger: deps.logger });
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /**
   * Waits for running notification hooks (each bounded by its own timeout and
   * retries); with `maxMs`, gives up waiting after that long (a stopping server
   * does not wait minutes for an unreachable endpoint). Resolves true when all ended.
   */
  async drain(maxMs?: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = maxMs === undefined ? undefined
      : new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), maxMs); });
    try {
      while (this.pending.size > 0) {
        const all = Promise.allSettled([...this.pending]);
        if ((await (deadline ? Promise.race([all, deadline]) : all)) === 'timeout') return false;
      }
      return true;
    } finally {
      clearTimeout(timer);
    }
  }

  // --- connection ---
  runStartup(): void {
    if (this.cfg.common.startup_hook !== '') this.track(runStartupHook(this.executor, this.cfg.common.startup_hook));
  }

  get hasPostConnect(): boolean { return this.cfg.common.post_connect_hook !== ''; }

  /** true = accept the connection */
  postConnect(ip: string, protocol: string): Promise<boolean> {
    if (!this.hasPostConnect) return Promise.resolve(true);
    return checkPostConnect(this.executor, this.cfg.common.post_connect_hook, ip, protocol);
  }

  postDisconnect(e: DisconnectEvent): void {
    if (this.cfg.common.post_disconnect_hook !== '') this.track(notifyPostDisconnect(this.executor, this.cfg.common.post_disconnect_hook, e));
  }

  // --- login ---
  /** SFTPGo skipExternalAuth: disabled per user, or the user logged in within filters.external_auth_cache_time. */
  private skipExternalAuth(user: User | undefined, now: number): boolean {
    if (!user) return false;
    const f = user.filters;
    if (f?.hooks?.external_auth_disabled) return true;
    if ((user.id ?? 0) <= 0 || !f?.external_auth_cache_time || f.external_auth_cache_time <= 0) return false;
    return isLastLoginRecent(user.last_login, f.external_auth_cache_time * 1000, now);
  }

  /** True when the external auth hook decides this login (then the pre-login hook is not run, as in SFTPGo). */
  externalAuthApplies(method: LoginMethod): boolean {
    return this.cfg.data_provider.external_auth_hook !== '' && externalAuthApplies(this.cfg.data_provider.external_auth_scope, method);
  }

  /**
   * Runs the external auth hook (when it applies and is not skipped for the
   * user) and returns the user to check the credentials against: the stored
   * one, or the one the hook returned, saved. Throws HookError/FsError.
   */
  async externalAuth(a: ExternalAuthAttempt): Promise<User> {
    const existing = await this.deps.provider.getUser(a.username);
    if (this.skipExternalAuth(existing, Date.now())) {
      if (!existing) throw new FsError('NotFound', `username "${a.username}" does not exist`);
      return existing;
    }
    const answer = await callExternalAuth(this.executor, this.cfg.data_provider.external_auth_hook, {
      username: a.username, ip: a.ip, protocol: a.protocol, password: a.password ?? '', publicKey: a.publicKey,
      keyboardInteractive: a.method === 'keyboard-interactive', tlsCertPem: a.tlsCertPem, existing,
    });
    return applyExternalAuthAnswer(this.deps.provider, {
      loginName: a.username, existing, password: a.password ?? '', publicKeyLine: authorizedKeyLine(a.publicKey),
    }, answer, this.answers);
  }

  get hasPreLogin(): boolean { return this.cfg.data_provider.pre_login_hook !== ''; }

  /**
   * True when a hook, not the stored keys, decides whether a public key is
   * accepted: the SSH "is this key acceptable?" query must then be answered
   * yes, so the client signs and the login sequence (with the hook) decides.
   */
  get decidesPublicKeys(): boolean { return this.externalAuthApplies('publickey') || this.hasPreLogin || this.publicKeysFromSource; }

  private publicKeysFromSource = false;

  /**
   * A login source outside the hooks (the LDAP source, src/auth/ldap) brings
   * the user's keys at login time: the key query must then be answered yes
   * too, or a directory user's first key login would be refused before the
   * source runs.
   */
  keysComeFromLoginSource(): void { this.publicKeysFromSource = true; }

  /**
   * Pre-login hook (also after FTP USER with method '', and after an OpenID
   * Connect login with method IDP, protocol OIDC and the token's custom fields): returns the user to log in.
   */
  async preLogin(username: string, method: LoginMethod, ip: string, protocol: string, oidcCustomFields?: Record<string, unknown>): Promise<User> {
    const existing = await this.deps.provider.getUser(username);
    if (!this.hasPreLogin || existing?.filters?.hooks?.pre_login_disabled) {
      if (!existing) throw new FsError('NotFound', `username "${username}" does not exist`);
      return existing;
    }
    const answer = await callPreLogin(this.executor, this.cfg.data_provider.pre_login_hook, { username, method, ip, protocol, existing, oidcCustomFields });
    return applyPreLoginAnswer(this.deps.provider, username, existing, answer, this.answers);
  }

  /** undefined = no check-password hook for this user/protocol: use the built-in check only. */
  async checkPassword(user: User, password: string, ip: string, protocol: string): Promise<CheckPasswordVerdict | undefined> {
    const dp = this.cfg.data_provider;
    if (dp.check_password_hook === '' || user.filters?.hooks?.check_password_disabled) return undefined;
    if (!checkPasswordApplies(dp.check_password_scope, protocol)) return undefined;
    return callCheckPassword(this.executor, dp.check_password_hook, { username: user.username, password, ip, protocol });
  }

  postLogin(e: PostLoginEvent): void {
    const dp = this.cfg.data_provider;
    if (dp.post_login_hook === '' || !postLoginApplies(dp.post_login_scope, e.success)) return;
    this.track(notifyPostLogin(this.executor, dp.post_login_hook, e));
  }

  get hasKeyboardInteractive(): boolean { return this.cfg.sftpd.keyboard_interactive_auth_hook !== ''; }

  /** Runs the keyboard-interactive hook; resolves true only for auth_result 1. */
  async keyboardInteractive(ctx: KiContext): Promise<boolean> {
    if (!this.hasKeyboardInteractive) throw new HookError('keyboard_interactive', 'invalid-hook', 'no keyboard interactive hook configured');
    return (await runKeyboardInteractiveHook(this.executor, this.cfg.sftpd.keyboard_interactive_auth_hook, ctx)) === 1;
  }
}
