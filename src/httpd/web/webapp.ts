/**
 * The web admin's request pipeline: session cookie → admin reload (status,
 * allow list) → permission check (403 page) → CSRF check on every POST →
 * handler. Handlers get the page context (admin, CSRF token, flash) and a
 * typed form; thrown errors become an HTML error page.
 */
import type { RevocationList } from '../revocations';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../../common/context';
import type { Admin, AdminPermission } from '../../dataprovider/models';
import type { Executor } from '../../dataprovider/types';
import type { OidcLogins } from '../oidc/routes';
import type { ResetCodes } from '../pwreset';
import type { BrandingConfig } from '../../config/types-ops';
import { LoginLimiter } from '../ratelimit';
import { ipAllowed } from '../ipfilter';
import { adminMustSetSecondFactor } from '../tokens';
import { hasPermission } from '../types';
import { Form } from './form';
import { CSRF_FIELD, type SessionClaims, WebSessions } from './session';
import type { PageContext } from './view';
import { Views } from './view';

export const BASE = '/web/admin';
/** urlencoded forms; the restore upload sets its own limit */
export const FORM_LIMIT = 1024 * 1024;
export const UPLOAD_LIMIT = 10 * 1024 * 1024;
/** What an admin with require_two_factor and no TOTP yet may open (SFTPGo: the MFA page, profile, password, logout). */
const PENDING_2FA_PAGES = new Set(['/mfa', '/mfa/generate', '/mfa/save', '/profile', '/changepwd', '/logout']);

export interface WebRequest {
  req: FastifyRequest;
  reply: FastifyReply;
  admin: Admin;
  session: SessionClaims;
  page: Omit<PageContext, 'version'>;
  executor: Executor;
}

export type GetHandler<P> = (w: WebRequest, params: P, query: Record<string, string | undefined>) => Promise<FastifyReply>;
export type PostHandler<P> = (w: WebRequest, params: P, form: Form) => Promise<FastifyReply>;

export interface WebAppOptions {
  serviceStatus?: () => Record<string, unknown>;
  /** the binding's OpenID Connect login, when configured: it starts sessions of this console */
  oidc?: OidcLogins;
  /** emailed password reset codes (httpd's, shared with the web client); without them no "forgot password" pages */
  resetCodes?: ResetCodes;
  /** logged-out sessions (httpd's list: shared by the bindings, and the nodes of a shared provider) */
  revocations?: RevocationList;
  /** the binding's branding.web_admin and where it is in the config (for start-up errors) */
  branding?: BrandingConfig;
  bindingKey?: string;
}

export class WebApp {
  readonly limiter: LoginLimiter;

  constructor(
    readonly app: FastifyInstance,
    readonly ctx: ServerContext,
    readonly views: Views,
    readonly sessions: WebSessions,
    readonly opts: WebAppOptions,
  ) {
    // 5 failed logins per IP in 15 minutes, then 429 until the window ends
    this.limiter = new LoginLimiter({ maxFailures: 5, windowMs: 15 * 60_000 });
  }

  /** The logged-in, enabled admin allowed from this IP, or undefined. */
  async authenticate(req: FastifyRequest): Promise<{ admin: Admin; session: SessionClaims } | undefined> {
    const session = await this.sessions.read(req);
    if (!session) return undefined;
    const admin = await this.ctx.provider.getAdmin(session.username);
    if (!admin || admin.status !== 1 || !ipAllowed(req.ip, admin.filters?.allow_list)) return undefined;
    return { admin, session };
  }

  errorPage(reply: FastifyReply, status: number, title: string, text: string, admin?: Admin, csrf = ''): FastifyReply {
    return this.views.send(reply, 'error', { admin, csrf }, { title, status, text }, status);
  }

  private async prepare(req: FastifyRequest, reply: FastifyReply, perms: readonly AdminPermission[]): Promise<WebRequest | undefined> {
    const auth = await this.authenticate(req);
    if (!auth) {
      if (req.method === 'GET') void reply.redirect(`${BASE}/login`, 303);
      else this.errorPage(reply, 401, 'Session expired', 'Your session has expired or is not valid. Please log in again.');
      return undefined;
    }
    const { admin, session } = auth;
    const csrf = this.sessions.csrfFor(session.sid);
    const page = (req.routeOptions.url ?? '').slice(BASE.length);
    if (adminMustSetSecondFactor(admin) && !PENDING_2FA_PAGES.has(page)) {
      if (req.method === 'GET') void reply.redirect(`${BASE}/mfa`, 303);
      else this.errorPage(reply, 403, 'Two-factor authentication required', 'Set up two-factor authentication before using the console.', admin, csrf);
      return undefined;
    }
    if (perms.length > 0 && !hasPermission(admin, perms)) {
      this.errorPage(reply, 403, 'Forbidden', `You do not have the permission to access this page (one of: ${perms.join(', ')}).`, admin, csrf);
      return undefined;
    }
    if (this.sessions.needsRefresh(session)) await this.sessions.start(reply, req, admin.username, session.sid);
    const flash = this.sessions.takeFlash(req, reply);
    return {
      req, reply, admin, session,
      page: { admin, csrf, flash },
      executor: { username: admin.username, ip: req.ip, role: admin.role },
    };
  }

  get<P = Record<string, string>>(path: string, perms: readonly AdminPermission[], handler: GetHandler<P>): void {
    this.app.get(path, { config: { auth: 'none' } }, async (req, reply) => {
      const w = await this.prepare(req, reply, perms);
      if (!w) return reply;
      return handler(w, req.params as P, req.query as Record<string, string | undefined>);
    });
  }

  post<P = Record<string, string>>(path: string, perms: readonly AdminPermission[], handler: PostHandler<P>, bodyLimit = FORM_LIMIT): void {
    // the session is checked before the body is read, so anonymous clients cannot make us buffer uploads
    const onRequest = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
      if (!(await this.sessions.read(req))) {
        this.errorPage(reply, 401, 'Session expired', 'Your session has expired or is not valid. Please log in again.');
      }
    };
    this.app.post(path, { config: { auth: 'none' }, bodyLimit, onRequest }, async (req, reply) => {
      const w = await this.prepare(req, reply, perms);
      if (!w) return reply;
      const form = Form.of(req.body);
      if (!this.sessions.checkCsrf(w.session.sid, form.str(CSRF_FIELD))) {
        this.ctx.logger.warn('httpd', `web admin: CSRF token missing or invalid for ${req.method} ${req.url}`, { username: w.admin.username });
        return this.errorPage(reply, 403, 'Invalid form token', 'The form token is missing or not valid. Reload the page and try again.', w.admin, w.page.csrf);
      }
      return handler(w, req.params as P, form);
    });
  }

  /** post/redirect/get with a one-shot message */
  done(w: WebRequest, to: string, text: string, kind: 'success' | 'error' = 'success'): FastifyReply {
    this.sessions.setFlash(w.reply, kind, text);
    return w.reply.redirect(`${BASE}${to}`, 303);
  }
}
