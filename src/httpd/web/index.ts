/**
 * The web admin console (/web/admin): server-rendered pages from
 * templates/webadmin, assets from static/webadmin, cookie sessions with CSRF
 * tokens and strict security headers. Everything is registered inside its own
 * Fastify scope so the REST API keeps its JSON error handlers and hooks.
 */
import { join } from 'node:path';
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ServerContext } from '../../common/context';
import { classifyError } from '../errors';
import { resolveAssetDir, staticRoots } from './assets';
import { brandOf, type BrandDefaults } from './branding';
import { normalizeWebRoot } from '../webroot';
import { boundaryOf, MultipartError, parseMultipart } from './multipart';
import { registerApiKeyPages } from './routes/apikeys';
import { registerAuthPages } from './routes/auth';
import { registerAdminPages } from './routes/admins';
import { registerEventPages } from './routes/events';
import { registerFolderPages } from './routes/folders';
import { registerGroupPages, registerRolePages } from './routes/groups';
import { registerMfaPages } from './routes/mfa';
import { registerTwoFactorPages } from './routes/twofactor';
import { registerProfilePages } from './routes/profile';
import { registerPerimeterPages } from './routes/perimeter';
import { registerResetPages } from './pwreset-pages';
import { registerSystemPages } from './routes/system';
import { registerUserPages } from './routes/users';
import { WebSessions } from './session';
import { Views } from './view';
import { BASE, FORM_LIMIT, WebApp, type WebAppOptions } from './webapp';
import { signingPassphrase } from '../signing';

export { BASE } from './webapp';

const ADMIN_BRAND: BrandDefaults = { name: 'SFTPGo-ts', shortName: 'SFTPGo-ts', favicon: '/static/webadmin/favicon.svg', css: ['/static/webadmin/admin.css'] };
export type { WebAppOptions } from './webapp';


const CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
  "connect-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'", "object-src 'none'",
].join('; ');

function secureHeaders(reply: FastifyReply): void {
  void reply.header('content-security-policy', CSP);
  void reply.header('x-frame-options', 'DENY');
  void reply.header('x-content-type-options', 'nosniff');
  void reply.header('referrer-policy', 'same-origin');
  void reply.header('cross-origin-opener-policy', 'same-origin');
  void reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=()');
  if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
}

/**
 * Called by httpd/app.ts for every binding with enable_web_admin. `opts` is
 * optional: with serviceStatus the status page shows the live service state,
 * otherwise the configured bindings.
 */
export async function registerWebAdmin(app: FastifyInstance, ctx: ServerContext, opts: WebAppOptions = {}): Promise<void> {
  const templatesDir = resolveAssetDir(ctx, ctx.config.httpd.templates_path, 'templates', join('webadmin', 'layout.eta'));
  const webRoot = normalizeWebRoot(ctx.config.httpd.web_root);
  const brand = brandOf(opts.branding, ADMIN_BRAND, `${opts.bindingKey ?? 'httpd.bindings[0]'}.branding.web_admin`, webRoot, staticRoots(ctx));
  const views = new Views(join(templatesDir, 'webadmin'), ctx.version.version, { webRoot, brand });
  const sessions = new WebSessions({
    passphrase: signingPassphrase(ctx),
    lifetimeMinutes: ctx.config.httpd.cookie_lifetime,
    skipIpBinding: (ctx.config.httpd.token_validation & 1) !== 0,
    revocations: opts.revocations,
  });

  if (opts.oidc) opts.oidc.sinks.admin = sessions;
  await app.register(async (scope) => {
    scope.addHook('onSend', async (_req, reply, payload) => {
      secureHeaders(reply);
      return payload;
    });
    // no web client yet: everything lands on the admin console
    for (const p of ['/', '/web', '/web/']) {
      scope.get(p, { config: { auth: 'none' } }, async (_req, reply) => reply.redirect(BASE, 302));
    }

    await scope.register(async (web) => {
      await web.register(formbody, { bodyLimit: FORM_LIMIT });
      // the size limit is the route's (Fastify uses the route bodyLimit over the parser's)
      web.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (req, body, done) => {
        try {
          done(null, parseMultipart(body as Buffer, boundaryOf(String(req.headers['content-type'] ?? ''))));
        } catch (e) {
          const err = e instanceof MultipartError ? Object.assign(new Error(e.message), { statusCode: 400 }) : (e as Error);
          done(err, undefined);
        }
      });
      const w = new WebApp(web, ctx, views, sessions, opts);
      web.setErrorHandler((err, req, reply) => {
        const { status, detail, internal } = classifyError(err);
        if (internal) ctx.logger.error('httpd', `web admin ${req.method} ${req.url} failed: ${err instanceof Error ? err.message : String(err)}`);
        const title = status === 404 ? 'Not found' : status === 413 ? 'Too large' : status >= 500 ? 'Internal error' : 'Request error';
        return w.errorPage(reply, status, title, internal ? 'Something went wrong on the server; the details are in the log.' : detail);
      });
      web.setNotFoundHandler((_req, reply) => w.errorPage(reply, 404, 'Not found', 'This page does not exist.'));
      registerAuthPages(w);
      registerUserPages(w);
      registerFolderPages(w);
      registerGroupPages(w);
      registerRolePages(w);
      registerAdminPages(w);
      registerApiKeyPages(w);
      registerSystemPages(w);
      registerProfilePages(w);
      registerTwoFactorPages(w);
      registerMfaPages(w);
      registerPerimeterPages(w);
      registerEventPages(w);
      if (opts.resetCodes) {
        registerResetPages({
          app: web, ctx, kind: 'admin', base: BASE, codes: opts.resetCodes, limiter: w.limiter, sessions,
          render: (reply, name, page, data, status) => views.send(reply, name, page, data, status),
        });
      }
    }, { prefix: BASE });
  });
}
