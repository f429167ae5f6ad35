/**
 * OpenID Connect login for the web admin and the web client (SFTPGo's
 * /web/admin/oidclogin, /web/client/oidclogin, /web/oidc/redirect):
 *
 * login link → a pending login (state, nonce, PKCE verifier, audience; two
 * minutes, used once, its state also in a browser cookie so a callback that
 * another browser started is refused) → the provider → the redirect: code
 * exchanged, ID token verified (provider.ts), the role checked against the
 * link used, then the admin must exist and be allowed from this address, or
 * the user comes from the pre-login hook (method IDP, protocol OIDC, custom
 * fields as oidc_custom_fields) or the provider, and passes the HTTP login
 * conditions and the post-connect hook. The session cookie is the one the
 * password login issues; logging out calls the provider's end_session_endpoint.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { posix } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../../common/context';
import type { HttpdBinding } from '../../config/types';
import { checkAdminConditions } from '../../dataprovider/auth';
import type { Admin, User } from '../../dataprovider/models';
import type { IdpLoginOutcome } from '../../common/events';
import { parseCookies } from '../web/session';
import { OidcError, OidcProvider, opaque } from './provider';
import { normalizeWebRoot } from '../webroot';
import { type Audience, OidcState, PENDING_TTL_MS, type PendingLogin } from './state';
import { ADMIN_OIDC_LOGIN_PATH, CLIENT_OIDC_LOGIN_PATH, identityOf, OIDC_REDIRECT_PATH, oidcEnabled, oidcSettings, type OidcSettings } from './settings';


/** What the web admin and the web client lend to the OIDC login: their own session cookie and flash message. */
export interface OidcSessionSink {
  start(reply: FastifyReply, req: FastifyRequest, username: string, sid: string): Promise<void>;
  setFlash(reply: FastifyReply, kind: 'success' | 'error', text: string): void;
}

const STATE_COOKIE = 'sftpgo_oidc_state';
const LOGIN_PAGE: Record<Audience, string> = { admin: '/web/admin/login', client: '/web/client/login' };
const HOME_PAGE: Record<Audience, string> = { admin: '/web/admin/users', client: '/web/client/files' };
const MAX_NEXT_LENGTH = 4096;

const html = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * SFTPGo's safeRedirectTarget: a local path below /web/client/files, cleaned, else nothing.
 * Returned without httpd.web_root (continueTo adds it), which `next` may carry or not.
 */
function safeNext(next: string | undefined, webRoot: string): string | undefined {
  if (!next || next.length > MAX_NEXT_LENGTH || next.includes('\\')) return undefined;
  let u: URL;
  try {
    u = new URL(next, 'http://local.invalid');
  } catch {
    return undefined;
  }
  if (u.host !== 'local.invalid' || !next.startsWith('/') || next.startsWith('//')) return undefined;
  let path = posix.normalize(u.pathname);
  if (webRoot !== '' && path.startsWith(`${webRoot}/`)) path = path.slice(webRoot.length);
  if (path !== HOME_PAGE.client && !path.startsWith(`${HOME_PAGE.client}/`)) return undefined;
  return `${path}${u.search}`;
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class OidcLogins {
  readonly sinks: Partial<Record<Audience, OidcSessionSink>> = {};
  private constructor(private readonly ctx: ServerContext, private readonly s: OidcSettings, private readonly provider: OidcProvider,
    /** pending logins and, per web session, its ID token (id_token_hint at logout) */
    private readonly state: OidcState,
    /** httpd.web_root: the pages this flow sends the browser to are under it */
    private readonly webRoot: string) {}

  /** undefined when the binding has no oidc.config_url; throws (start-up error) when it has one that cannot work. */
  static async create(ctx: ServerContext, binding: HttpdBinding): Promise<OidcLogins | undefined> {
    if (!oidcEnabled(binding)) return undefined;
    const index = Math.max(0, ctx.config.httpd.bindings.indexOf(binding));
    const webRoot = normalizeWebRoot(ctx.config.httpd.web_root);
    const s = oidcSettings(binding, index, ctx.runtime.configDir, webRoot);
    try {
      return new OidcLogins(ctx, s, await OidcProvider.discover(s), OidcState.for(ctx), webRoot);
    } catch (e) {
      throw new Error(`httpd.bindings[${index}].oidc.config_url: ${(e as Error).message}`);
    }
  }

  /** Adds the three routes; call after the web admin and web client registered their sinks. */
  register(app: FastifyInstance): void {
    for (const [audience, path] of [['admin', ADMIN_OIDC_LOGIN_PATH], ['client', CLIENT_OIDC_LOGIN_PATH]] as const) {
      if (!this.sinks[audience]) continue;
      app.get<{ Querystring: { next?: string } }>(path, { config: { auth: 'none' } }, async (req, reply) => this.startLogin(req, reply, audience));
    }
    app.get<{ Querystring: Record<string, string | undefined> }>(OIDC_REDIRECT_PATH, { config: { auth: 'none' } }, async (req, reply) => this.finishLogin(req, reply));
  }

  /** Called by the web admin and web client logout: ends the provider session when this one came from it. */
  loggedOut(sid: string): void {
    this.state.takeToken(sid).then(async (idToken) => {
      if (idToken === undefined) return;
      const status = await this.provider.endSession(idToken);
      this.ctx.logger.debug('httpd', `oidc: end session endpoint answered ${String(status)}`);
    }).catch((e: unknown) => this.ctx.logger.warn('httpd', `oidc: error calling the end session endpoint: ${(e as Error).message}`));
  }

  private stateCookie(req: FastifyRequest, reply: FastifyReply, value: string, maxAge: number): void {
    const secure = req.protocol === 'https' ? '; Secure' : '';
    // Lax: the provider sends the browser back with a top-level GET from another site
    void reply.header('set-cookie', `${STATE_COOKIE}=${value}; Path=${OIDC_REDIRECT_PATH}; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure}`);
  }

  private async startLogin(req: FastifyRequest<{ Querystring: { next?: string } }>, reply: FastifyReply, audience: Audience): Promise<FastifyReply> {
    const state = opaque();
    const p: PendingLogin = { nonce: opaque(), verifier: opaque(), audience };
    const next = audience === 'client' ? safeNext(req.query.next, this.webRoot) : undefined;
    if (next !== undefined) p.next = next;
    if (!(await this.state.addPending(state, p))) return reply.code(429).type('text/plain').send('Too many pending OpenID logins, retry later');
    this.stateCookie(req, reply, state, PENDING_TTL_MS / 1000);
    return reply.redirect(this.provider.authorizationUrl(state, p.nonce, p.verifier), 302);
  }

  private badRequest(reply: FastifyReply, text: string): FastifyReply {
    return reply.code(400).type('text/html; charset=utf-8').header('cache-control', 'no-store')
      .send(`<!DOCTYPE html><html><head><title>Invalid authentication request</title></head><body><h1>Invalid authentication request</h1><p>${html(text)}</p></body></html>`);
  }

  private async finishLogin(req: FastifyRequest<{ Querystring: Record<string, string | undefined> }>, reply: FastifyReply): Promise<FastifyReply> {
    const state = req.query.state ?? '';
    const cookieState = parseCookies(req.headers.cookie).get(STATE_COOKIE) ?? '';
    // used once, whatever happens next
    const p = await this.state.takePending(state);
    if (!p || !sameString(state, cookieState)) {
      this.ctx.logger.debug('httpd', 'oidc authentication state did not match', { ip: req.clientIp });
      return this.badRequest(reply, 'The authentication state is unknown, expired or was started by another browser. Please log in again.');
    }
    this.stateCookie(req, reply, '', 0);
    const sink = this.sinks[p.audience];
    if (!sink) return this.badRequest(reply, 'This login is not enabled on this server.');
    const fail = (text: string, detail: string, idToken?: string): FastifyReply => {
      this.ctx.logger.warn('httpd', `oidc login refused: ${detail}`, { ip: req.clientIp });
      if (idToken) this.provider.endSession(idToken).catch(() => undefined);
      sink.setFlash(reply, 'error', text);
      return this.continueTo(reply, LOGIN_PAGE[p.audience]);
    };
    if (req.query.error) return fail('The OpenID provider refused the login.', `provider error "${req.query.error}"`);
    try {
      // a banned or rate-limited address gets no session, whatever the provider says
      this.ctx.perimeter.checkLoginAttempt(req.clientIp, 'HTTP');
    } catch (e) {
      return fail('Login refused from this address.', (e as Error).message);
    }
    let idToken: string;
    let claims: Record<string, unknown>;
    try {
      idToken = (await this.provider.exchange(req.query.code ?? '', p.verifier)).idToken;
    } catch (e) {
      return fail('Failed to exchange OpenID token', (e as Error).message);
    }
    if (this.s.debug) this.ctx.logger.debug('httpd', `oidc: raw id token "${idToken}"`);
    try {
      claims = await this.provider.verifyIdToken(idToken, p.nonce);
    } catch (e) {
      if (e instanceof OidcError) return fail('Failed to verify OpenID token', e.message, idToken);
      throw e;
    }
    const who = identityOf(claims, this.s, p.audience);
    if (typeof who === 'string') return fail('Unable to parse OpenID token claims', who, idToken);
    if (who.admin !== (p.audience === 'admin')) {
      return fail(who.admin ? 'Wrong OpenID role, the logged in user is an SFTPGo admin'
        : 'Wrong OpenID role, the logged in user is not an SFTPGo admin', `role mismatch for "${who.username}"`, idToken);
    }
    // the event manager's IDP login rules first: an IDP account check creates or updates the account (SFTPGo's getUser)
    let checked: IdpLoginOutcome;
    try {
      checked = await this.ctx.eventManager.idpLogin({
        username: who.username, admin: who.admin, ip: req.clientIp, role: '', customFields: who.customFields,
      });
    } catch (e) {
      return fail('Unable to get the user associated with the OpenID token', `IDP account check: ${(e as Error).message}`, idToken);
    }
    const refused = p.audience === 'admin' ? await this.adminRefusal(who.username, req.clientIp, checked.admin)
      : await this.userRefusal(who.username, req.clientIp, who.customFields, checked.user);
    if (refused) return fail('Unable to get the user associated with the OpenID token', refused, idToken);
    const sid = randomUUID();
    await sink.start(reply, req, who.username, sid);
    try {
      await this.state.rememberToken(sid, idToken);
    } catch (e) {
      // the login stands; only the provider-side logout at the end of this session is lost
      this.ctx.logger.warn('httpd', `oidc: unable to remember the session's id token: ${(e as Error).message}`);
    }
    this.ctx.logger.info('httpd', `oidc login succeeded for ${p.audience === 'admin' ? 'admin' : 'user'} "${who.username}"`, { ip: req.clientIp });
    return this.continueTo(reply, p.next ?? HOME_PAGE[p.audience]);
  }

  /**
   * The provider sent the browser here from its own site: a 302 from this
   * response would still be a cross-site navigation, and the SameSite=Strict
   * session and flash cookies just set would not be sent with it. A page that
   * navigates by itself is same-site.
   */
  private continueTo(reply: FastifyReply, target: string): FastifyReply {
    // a page body, not a Location header: the web_root hook (webroot.ts) does not see it
    const to = html(`${this.webRoot}${target}`);
    return reply.code(200).type('text/html; charset=utf-8').header('cache-control', 'no-store')
      .header('content-security-policy', "default-src 'none'; frame-ancestors 'none'")
      .send(`<!DOCTYPE html><html><head><meta http-equiv="refresh" content="0;url=${to}"><title>Continue</title></head><body><p><a href="${to}">Continue</a></p></body></html>`);
  }

  /** SFTPGo: the admin must exist and be allowed to log in from this address. */
  private async adminRefusal(username: string, ip: string, checked: Admin | undefined): Promise<string | undefined> {
    const admin = checked ?? await this.ctx.provider.getAdmin(username);
    if (!admin) return `admin "${username}" does not exist`;
    try {
      checkAdminConditions(admin, ip);
    } catch (e) {
      return (e as Error).message;
    }
    return undefined;
  }

  /** SFTPGo's getUser for an IDP login, reported like every user login (connection_failed line, metrics, last login). */
  private async userRefusal(username: string, ip: string, customFields: Record<string, unknown> | undefined, checked: User | undefined): Promise<string | undefined> {
    const { ctx } = this;
    const refuse = (reason: string): string => {
      ctx.metrics.loginResult('IDP', false);
      ctx.logger.connectionFailed({ clientIp: ip, username, loginType: 'IDP', protocol: 'OIDC', error: reason });
      return reason;
    };
    ctx.metrics.loginAttempt('IDP');
    let user: User | undefined;
    try {
      if (checked) user = checked;
      else user = ctx.hooks?.hasPreLogin ? await ctx.hooks.preLogin(username, 'IDP', ip, 'OIDC', customFields) : await ctx.provider.getUser(username);
    } catch (e) {
      return refuse((e as Error).message);
    }
    if (!user) return refuse(`username "${username}" does not exist`);
    if (ctx.hooks && !(await ctx.hooks.postConnect(ip, 'OIDC'))) return refuse('access denied by the post-connect hook');
    try {
      ctx.provider.checkLoginConditions(user, { ip, protocol: 'HTTP', method: 'IDP' });
    } catch (e) {
      return refuse((e as Error).message);
    }
    ctx.metrics.loginResult('IDP', true);
    try {
      await ctx.provider.updateLastLogin(user);
    } catch (e) {
      ctx.logger.warn('httpd', `unable to update the last login of user "${username}": ${(e as Error).message}`);
    }
    return undefined;
  }
}
