/**
 * The web client (/web/client): end users log in, browse, upload, download,
 * share. Server-rendered pages from templates/webclient, assets from
 * static/webclient (served under /web/client/static, nothing from a CDN),
 * strict security headers, its own session cookies (session.ts). Registered
 * by httpd/app.ts for bindings with enable_web_client.
 */
import { join } from 'node:path';
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { HttpdBinding } from '../../../config/types';
import { bindingKey, type HttpDeps } from '../../deps';
import { classifyError } from '../../errors';
import { signingPassphrase } from '../../signing';
import { registerStatic, resolveAssetDir, staticRoots } from '../assets';
import { brandOf, type BrandDefaults } from '../branding';
import { normalizeWebRoot } from '../../webroot';
import { registerResetPages } from '../pwreset-pages';
import { Views } from '../view';
import { registerClientActions, registerClientUploads } from './actions';
import { ClientApp } from './app';
import { registerClientAuth } from './auth';
import { registerClientFiles, MAX_EDIT_SIZE } from './files';
import { registerClientProfile } from './profile';
import { registerPublicSharePages } from './pubshares';
import { CLIENT_BASE, ClientSessions } from './session';
import { registerClientShares } from './shares';
import { registerTus, TusUploads } from './tus';
import type { OidcLogins } from '../../oidc/routes';

const CLIENT_BRAND: BrandDefaults = { name: 'SFTPGo', shortName: 'SFTPGo', favicon: '/web/client/static/favicon.svg', css: ['/web/client/static/client.css'] };

const CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "media-src 'self'", "font-src 'self'",
  "connect-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'", "object-src 'none'",
].join('; ');

function secureHeaders(reply: FastifyReply): void {
  if (!reply.hasHeader('content-security-policy')) void reply.header('content-security-policy', CSP);
  void reply.header('x-frame-options', 'DENY');
  void reply.header('x-content-type-options', 'nosniff');
  void reply.header('referrer-policy', 'same-origin');
  void reply.header('cross-origin-opener-policy', 'same-origin');
  if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
}

export async function registerWebClient(app: FastifyInstance, deps: HttpDeps, binding: HttpdBinding, oidc?: OidcLogins): Promise<void> {
  const ctx = deps.ctx;
  const templatesDir = resolveAssetDir(ctx, ctx.config.httpd.templates_path, 'templates', join('webclient', 'layout.eta'));
  const staticDir = resolveAssetDir(ctx, ctx.config.httpd.static_files_path, 'static', join('webclient', 'client.css'));
  const webRoot = normalizeWebRoot(ctx.config.httpd.web_root);
  const brand = brandOf(binding.branding?.web_client, CLIENT_BRAND, `${bindingKey(deps, binding)}.branding.web_client`, webRoot, staticRoots(ctx));
  const views = new Views(join(templatesDir, 'webclient'), ctx.version.version, { webRoot, brand });
  const sessions = new ClientSessions({
    passphrase: signingPassphrase(ctx), lifetimeMinutes: ctx.config.httpd.cookie_lifetime,
    shareLifetimeMinutes: ctx.config.httpd.share_cookie_lifetime, skipIpBinding: (ctx.config.httpd.token_validation & 1) !== 0,
    revocations: deps.revocations,
  });

  if (oidc) oidc.sinks.client = sessions;
  await app.register(async (scope) => {
    scope.addHook('onSend', async (_req, reply, payload) => { secureHeaders(reply); return payload; });
    let client: ClientApp | undefined;
    scope.setErrorHandler((err, req, reply) => {
      const { status, detail, internal } = classifyError(err);
      if (internal) ctx.logger.error('httpd', `web client ${req.method} ${req.url.split('?')[0]} failed: ${err instanceof Error ? err.message : String(err)}`);
      if (reply.sent || reply.raw.headersSent) { reply.raw.destroy(); return; }
      const title = status === 404 ? 'Not found' : status === 413 ? 'Too large' : status >= 500 ? 'Internal error' : 'Request error';
      if (String(req.headers.accept ?? '').includes('application/json')) return reply.code(status).send({ error: detail, message: title });
      return client?.errorPage(reply, status, title, internal ? 'Something went wrong on the server; the details are in the log.' : detail);
    });
    await scope.register(async (web) => {
      registerStatic(web, join(staticDir, 'webclient'));
      await web.register(formbody, { bodyLimit: MAX_EDIT_SIZE * 4 });
      const c = new ClientApp(web, deps, views, sessions, binding, oidc);
      client = c;
      web.setNotFoundHandler((_req, reply) => c.errorPage(reply, 404, 'Not found', 'This page does not exist.'));
      registerClientAuth(c);
      registerClientFiles(c);
      registerClientActions(c);
      registerClientShares(c);
      registerClientProfile(c);
      registerResetPages({
        app: web, ctx, kind: 'user', base: CLIENT_BASE, codes: deps.resetCodes, limiter: c.limiter, sessions,
        render: (reply, name, page, data, status) => c.render(reply, name, { ...data, ...page }, status),
      });
      await web.register(async (raw) => {
        raw.removeAllContentTypeParsers();
        raw.addContentTypeParser('*', (_req, _payload, done) => { done(null, undefined); });
        registerClientUploads(c, raw);
        registerPublicSharePages(c, raw);
        const uploads = new TusUploads(ctx);
        raw.addHook('onClose', async () => { await uploads.close(); });
        registerTus(c, raw, uploads);
      });
    }, { prefix: CLIENT_BASE });
  });
}
