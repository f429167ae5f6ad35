/**
 * The web client's request pipeline: user session cookie → user reload and
 * HTTP login conditions (disabled, expired, IP filters, protocol) → the
 * two-factor requirement (only profile/MFA pages until it is met) →
 * filters.web_client restriction → CSRF on every POST (form field or
 * X-CSRF-Token header) → handler. Pages are server-rendered (eta).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../../../common/context';
import type { FileOps } from '../../../common/types';
import type { User } from '../../../dataprovider/models';
import type { HttpdBinding } from '../../../config/types';
import type { HttpDeps } from '../../deps';
import { LoginLimiter } from '../../ratelimit';
import { openUserSession, userRestricted, type WebClientRestriction } from '../../routes/user/session';
import { userMustSetSecondFactor } from '../../tokens';
import { mustChangePassword } from '../../../dataprovider/auth';
import { Form } from '../form';
import { Views } from '../view';
import type { OidcLogins } from '../../oidc/routes';
import { CLIENT_BASE, type ClientClaims, ClientSessions } from './session';

export const CSRF_FIELD = '_form_token';
const CSRF_HEADER = 'x-csrf-token';
/** Reachable while an HTTP two-factor requirement is not met (SFTPGo: profile, MFA, logout). */
const PENDING_2FA = new Set(['/profile', '/changepwd', '/mfa', '/mfa/generate', '/mfa/save', '/logout']);
/** Reachable while the password must be changed (require_password_change or password_expiration), as SFTPGo. */
const PENDING_PASSWORD = new Set(['/changepwd', '/logout']);

export interface ClientRequest {
  req: FastifyRequest;
  reply: FastifyReply;
  user: User;
  session: ClientClaims;
  csrf: string;
  flash?: { kind: string; text: string };
}

export interface RouteOptions { deny?: WebClientRestriction; bodyLimit?: number }

export class ClientApp {
  readonly limiter = new LoginLimiter({ maxFailures: 5, windowMs: 15 * 60_000 });
  readonly ctx: ServerContext;

  constructor(readonly app: FastifyInstance, readonly deps: HttpDeps, readonly views: Views, readonly sessions: ClientSessions, readonly binding: HttpdBinding,
    /** the binding's OpenID Connect login, when configured */
    readonly oidc?: OidcLogins) {
    this.ctx = deps.ctx;
  }

  async authenticate(req: FastifyRequest): Promise<{ user: User; session: ClientClaims } | undefined> {
    const session = await this.sessions.read(req);
    if (!session) return undefined;
    const user = await this.ctx.provider.getUser(session.username);
    if (!user) return undefined;
    try {
      this.ctx.provider.checkLoginConditions(user, { ip: req.clientIp, protocol: 'HTTP', method: 'password' });
    } catch {
      return undefined;
    }
    return { user, session };
  }

  render(reply: FastifyReply, name: string, data: Record<string, unknown>, status = 200): FastifyReply {
    const base = { base: CLIENT_BASE };
    return this.views.send(reply, name, { csrf: String(data.csrf ?? '') }, { ...base, ...data }, status);
  }

  page(r: ClientRequest, name: string, data: Record<string, unknown>, status = 200): FastifyReply {
    const flash = (data.flash as ClientRequest['flash']) ?? r.flash;
    return this.render(r.reply, name, {
      ...data, csrf: r.csrf, user: r.user, flash,
      restricted: (w: WebClientRestriction) => userRestricted(r.user, w),
    }, status);
  }

  errorPage(reply: FastifyReply, status: number, title: string, text: string, r?: ClientRequest): FastifyReply {
    if (r) return this.page(r, 'error', { title, status, text }, status);
    return this.render(reply, 'error', { title, status, text }, status);
  }

  private async prepare(req: FastifyRequest, reply: FastifyReply, opts: RouteOptions): Promise<ClientRequest | undefined> {
    const auth = await this.authenticate(req);
    if (!auth) {
      if (req.method === 'GET') void reply.redirect(`${CLIENT_BASE}/login`, 303);
      else this.errorPage(reply, 401, 'Session expired', 'Your session has expired or is not valid. Please log in again.');
      return undefined;
    }
    const { user, session } = auth;
    const r: ClientRequest = { req, reply, user, session, csrf: this.sessions.csrfFor(session.sid) };
    const page = (req.routeOptions.url ?? '').slice(CLIENT_BASE.length);
    // before the 2FA gate: the password page is reachable there, the 2FA pages are not reachable here (no loop)
    if (mustChangePassword(user, Date.now()) && !PENDING_PASSWORD.has(page)) {
      if (req.method === 'GET') void reply.redirect(`${CLIENT_BASE}/changepwd`, 303);
      else this.errorPage(reply, 403, 'Password change required', 'Please set a new password to continue to use your account.', r);
      return undefined;
    }
    if (userMustSetSecondFactor(user) && (user.filters?.two_factor_protocols ?? []).includes('HTTP') && !PENDING_2FA.has(page)) {
      if (req.method === 'GET') void reply.redirect(`${CLIENT_BASE}/mfa`, 303);
      else this.errorPage(reply, 403, 'Two-factor authentication required', 'Set up two-factor authentication first.', r);
      return undefined;
    }
    if (opts.deny && userRestricted(user, opts.deny)) {
      this.errorPage(reply, 403, 'Forbidden', "You don't have permission for this action.", r);
      return undefined;
    }
    if (this.sessions.needsRefresh(session)) await this.sessions.start(reply, req, user.username, session.sid);
    r.flash = this.sessions.takeFlash(req, reply);
    return r;
  }

  get<Q = Record<string, string | undefined>>(path: string, handler: (r: ClientRequest, query: Q) => Promise<FastifyReply | void>, opts: RouteOptions = {}): void {
    this.app.get(path, { config: { auth: 'none' } }, async (req, reply) => {
      const r = await this.prepare(req, reply, opts);
      if (!r) return reply;
      return handler(r, req.query as Q);
    });
  }

  /** A form post (urlencoded body parsed by the scope). */
  post(path: string, handler: (r: ClientRequest, form: Form) => Promise<FastifyReply | void>, opts: RouteOptions = {}): void {
    const onRequest = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
      if (!(await this.sessions.read(req))) this.errorPage(reply, 401, 'Session expired', 'Your session has expired or is not valid. Please log in again.');
    };
    this.app.post(path, { config: { auth: 'none' }, onRequest, bodyLimit: opts.bodyLimit }, async (req, reply) => {
      const r = await this.prepare(req, reply, opts);
      if (!r) return reply;
      const form = Form.of(req.body);
      if (!this.csrfOk(r, form.str(CSRF_FIELD))) return this.errorPage(reply, 403, 'Invalid form token', 'The form token is missing or not valid. Reload the page and try again.', r);
      return handler(r, form);
    });
  }

  /** Token from the form, the X-CSRF-Token header or (streamed uploads) the query string. */
  csrfOk(r: ClientRequest, fromForm?: string): boolean {
    const header = r.req.headers[CSRF_HEADER];
    const query = (r.req.query as Record<string, unknown> | undefined)?.[CSRF_FIELD];
    const submitted = fromForm || (typeof header === 'string' ? header : '') || (typeof query === 'string' ? query : '');
    const ok = this.sessions.checkCsrf(r.session.sid, submitted);
    if (!ok) this.ctx.logger.warn('httpd', `web client: CSRF token missing or invalid for ${r.req.method} ${r.req.url.split('?')[0]}`, { username: r.user.username });
    return ok;
  }

  /** A route whose body is read by the handler (uploads): session and CSRF are checked before any byte. */
  rawPost(scope: FastifyInstance, path: string, handler: (r: ClientRequest) => Promise<FastifyReply | void>, opts: RouteOptions = {}): void {
    scope.post(path, { config: { auth: 'none' } }, async (req, reply) => {
      const r = await this.prepare(req, reply, opts);
      if (!r) return reply;
      if (!this.csrfOk(r)) return this.errorPage(reply, 403, 'Invalid form token', 'The form token is missing or not valid.', r);
      return handler(r);
    });
  }

  fileSession(r: ClientRequest, ensureRoots = true): Promise<FileOps> {
    return openUserSession(this.ctx, r.req, r.reply, r.user, { ensureRoots });
  }

  done(r: ClientRequest, to: string, text: string, kind: 'success' | 'error' = 'success'): FastifyReply {
    this.sessions.setFlash(r.reply, kind, text);
    return r.reply.redirect(`${CLIENT_BASE}${to}`, 303);
  }
}
