/**
 * Builds the Fastify instance for one binding: plugins first (OpenAPI
 * collector, errors, logging, metrics, auth), then the REST routes, then the
 * optional web admin (src/httpd/web, registered only when present).
 */
import { existsSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { ServerContext } from '../common/context';
import type { HttpdBinding } from '../config/types';
import { bindingKey, type HttpDeps } from './deps';
import type { WebAppOptions } from './web/webapp';
import { registerStatic, staticRoots } from './web/assets';
import { installWebRootReplies, normalizeWebRoot, webRootRewriter } from './webroot';
import type { TlsMaterial } from './tls';
import { errorBody } from './errors';
import { installAuth } from './plugins/auth';
import { httpClientIpResolver, installClientIp } from './plugins/clientip';
import type { ClientIpResolver } from '../perimeter/http-client';
import { installCors } from './plugins/cors';
import { installErrorHandlers } from './plugins/errors';
import { installAccessLog } from './plugins/logging';
import { installMetrics } from './plugins/metrics';
import { installOpenApi, type OpenApiCollector } from './plugins/openapi';
import { registerAdminRoutes } from './routes/api/admins';
import { registerApiKeyRoutes } from './routes/api/apikeys';
import { registerConnectionRoutes } from './routes/api/connections';
import { registerFolderRoutes } from './routes/api/folders';
import { registerEventManagerRoutes } from './routes/api/eventmanager';
import { registerGroupRoutes, registerRoleRoutes } from './routes/api/groups';
import { registerMaintenanceRoutes } from './routes/api/maintenance';
import { registerMfaRoutes } from './routes/api/mfa';
import { registerPerimeterRoutes } from './routes/api/perimeter';
import { registerHealthRoute, registerMiscRoutes } from './routes/api/misc';
import { registerProfileRoutes } from './routes/api/profile';
import { registerQuotaRoutes } from './routes/api/quotas';
import { registerTokenRoutes } from './routes/api/token';
import { registerUserRoutes } from './routes/api/users';
import { registerUserTokenRoutes } from './routes/api/usertoken';
import { registerUserApi } from './routes/user';
import { registerWebClient } from './web/client';
import { OidcLogins } from './oidc/routes';
import './types';
import { createLazySchemaCompilers } from './lazy-schemas';

/** httpd.bindings[].disabled_login_methods bits (SFTPGo): admin token endpoint, admin API keys. */
export const DISABLED_ADMIN_TOKEN = 16;
export const DISABLED_ADMIN_API_KEY = 64;
export const DISABLED_USER_TOKEN = 32;
export const DISABLED_USER_API_KEY = 128;

/** 1 MiB for every JSON body but loaddata (10 MiB, set on that route). */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** The hook the web admin module (src/httpd/web/index.ts) exports. */
export type WebAdminRegistrar = (
  app: FastifyInstance, ctx: ServerContext, opts: WebAppOptions,
) => Promise<void> | void;

export interface BuildAppOptions {
  binding: HttpdBinding;
  tls?: TlsMaterial;
  /** called before any route is registered (tests add their own onRoute spy) */
  beforeRoutes?: (app: FastifyInstance) => void;
}

export interface BuiltApp {
  app: FastifyInstance;
  openapi?: OpenApiCollector;
  /** the HTTPS server, for setSecureContext on reload */
  httpsServer?: HttpsServer;
  /** the binding's client address rule; proxy_mode 1 listeners register PROXY peers in it */
  clientIp: ClientIpResolver;
  /** compiles every route schema not compiled yet (they compile on first use: lazy-schemas.ts); returns how many */
  compilePendingSchemas(): number;
}

function loadWebAdmin(): WebAdminRegistrar | undefined {
  // compiled layout: dist/src/httpd/app.js → dist/src/httpd/web/index.js
  const file = join(__dirname, 'web', 'index.js');
  if (!existsSync(file)) return undefined;
  let mod: { registerWebAdmin?: unknown };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(file) as { registerWebAdmin?: unknown };
  } catch (e) {
    // present but broken: refuse to start rather than silently serve without it
    throw new Error(`the web admin module (${file}) failed to load: ${e instanceof Error ? e.message : String(e)}`);
  }
  return typeof mod.registerWebAdmin === 'function' ? (mod.registerWebAdmin as WebAdminRegistrar) : undefined;
}

export async function buildApp(deps: HttpDeps, opts: BuildAppOptions): Promise<BuiltApp> {
  let httpsServer: HttpsServer | undefined;
  const tls = opts.tls;
  const webRoot = normalizeWebRoot(deps.ctx.config.httpd.web_root);
  const rewrite = webRootRewriter(webRoot);
  const schemas = createLazySchemaCompilers();
  const app = Fastify({
    ...(rewrite ? { rewriteUrl: (req: { url?: string }) => rewrite(req.url ?? '/') } : {}),
    logger: false,
    bodyLimit: DEFAULT_BODY_LIMIT,
    exposeHeadRoutes: false,
    // names may be up to 255 characters (percent-encoded longer): let the schema reject, with a message
    routerOptions: { maxParamLength: 2048 },
    // malformed URLs get the same error body as everything else
    frameworkErrors: (err, _req, reply) => {
      void (reply as FastifyReply).code(400).type('application/json').send(errorBody(400, err.message));
    },
    return503OnClosing: true,
    genReqId: () => randomBytes(10).toString('hex'),
    // JSON bodies are never coerced nor silently trimmed: a wrong type is a 400
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
    // schemas compile on their route's first request (start-up CPU): see lazy-schemas.ts
    schemaController: { compilersFactory: schemas.compilersFactory },
    serverFactory: (handler): HttpServer => {
      if (!tls) return createHttpServer(handler);
      httpsServer = createHttpsServer({ cert: tls.cert, key: tls.key, minVersion: tls.minVersion, ciphers: tls.ciphers, ALPNProtocols: tls.ALPNProtocols }, handler);
      return httpsServer;
    },
  });
  // malformed HTTP is answered by Fastify's own clientError handler; failed TLS
  // handshakes only concern that client
  if (httpsServer) httpsServer.on('tlsClientError', () => undefined);

  const binding = opts.binding;
  opts.beforeRoutes?.(app);
  const openapi = binding.render_openapi === false ? undefined : installOpenApi(app, deps.ctx.version.version);
  const clientIp = httpClientIpResolver(binding);
  installClientIp(app, clientIp, deps.ctx.perimeter);
  installWebRootReplies(app, webRoot);
  installCors(app, deps.ctx.config.httpd.cors);
  installErrorHandlers(app, deps.ctx.logger);
  installAccessLog(app, deps.ctx.logger, tls ? 'https' : 'http');
  installMetrics(app, deps.ctx.metrics);
  installAuth(app, deps, {
    apiKeys: (binding.disabled_login_methods & DISABLED_ADMIN_API_KEY) === 0,
    userApiKeys: (binding.disabled_login_methods & DISABLED_USER_API_KEY) === 0,
  });
  registerHealthRoute(app);
  if (binding.enable_rest_api !== false) {
    registerMiscRoutes(app, deps);
    if ((binding.disabled_login_methods & DISABLED_ADMIN_TOKEN) === 0) registerTokenRoutes(app, deps);
    registerUserRoutes(app, deps);
    registerFolderRoutes(app, deps);
    registerGroupRoutes(app, deps);
    registerRoleRoutes(app, deps);
    registerAdminRoutes(app, deps);
    registerProfileRoutes(app, deps);
    registerApiKeyRoutes(app, deps);
    registerConnectionRoutes(app, deps);
    registerQuotaRoutes(app, deps);
    registerMaintenanceRoutes(app, deps);
    registerMfaRoutes(app, deps);
    registerPerimeterRoutes(app, deps);
    registerEventManagerRoutes(app, deps);
    // SFTPGo's disabled_login_methods bit 32 disables the user token endpoint
    if ((binding.disabled_login_methods & DISABLED_USER_TOKEN) === 0) registerUserTokenRoutes(app, deps);
    registerUserApi(app, deps);
  }
  // /static: the UIs' assets and branding files (static_files_path, then the package's own)
  if (binding.enable_web_client !== false || binding.enable_web_admin !== false) registerStatic(app, staticRoots(deps.ctx));
  // OpenID Connect: discovery at start-up (a provider that cannot be read stops the server, as in SFTPGo)
  const oidc = await OidcLogins.create(deps.ctx, binding);
  if (binding.enable_web_client !== false) {
    await registerWebClient(app, deps, binding, oidc);
    // with the console on, "/" goes there (web/index.ts); without it, to the client
    if (binding.enable_web_admin === false) {
      for (const p of ['/', '/web', '/web/']) app.get(p, { config: { auth: 'none' } }, async (_req, reply) => reply.redirect('/web/client/login', 302));
    }
  }
  if (binding.enable_web_admin !== false) {
    const web = loadWebAdmin();
    // the status page shows the live service state, as GET /api/v2/status does
    if (web) await web(app, deps.ctx, { serviceStatus: deps.serviceStatus, oidc, resetCodes: deps.resetCodes, revocations: deps.revocations, branding: binding.branding?.web_admin, bindingKey: bindingKey(deps, binding) });
  }
  oidc?.register(app);
  await app.ready();
  return { app, openapi, httpsServer, clientIp, compilePendingSchemas: schemas.compilePendingSchemas };
}
