/**
 * The per-request pipeline in front of webdav-server: connection limits,
 * prefix, CORS, body-size bound, Basic auth (cached), one registered
 * connection per request (as SFTPGo does for WebDAV), then the library.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { v2 } from 'webdav-server';
import type { ServerContext } from '../common/context';
import type { WebdavdBinding, CorsConfig } from '../config/types';
import { isFsError } from '../common/errors';
import { davCredentials, type LoginCache } from './auth';
import type { User } from '../dataprovider/models';
import { loginService } from '../common/login';
import { DavUser } from './davfs';
import { MAX_XML_BODY } from './request';
import type { DavStates } from './state';
import { httpStatusOf } from './status';

const SENDER = 'webdavd';

export interface HandlerDeps {
  ctx: ServerContext;
  binding: WebdavdBinding;
  cors: CorsConfig;
  library: v2.WebDAVServer;
  users: WeakMap<IncomingMessage, DavUser>;
  states: DavStates;
  logins: LoginCache;
  /** the client address after the binding's proxy settings (perimeter/http-client.ts) */
  clientIp: (req: IncomingMessage) => string;
}

function normalizePrefix(p: string): string {
  const t = p.replace(/\/+$/, '');
  return t === '' ? '' : t.startsWith('/') ? t : `/${t}`;
}

function plain(res: ServerResponse, status: number, extra?: Record<string, string>): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...extra });
  res.end(`${status}\n`);
}

/** CORS headers per config; the library's own blanket `*` headers are suppressed. Returns true when a preflight was answered. */
function applyCors(cors: CorsConfig, req: IncomingMessage, res: ServerResponse): boolean {
  const origSet = res.setHeader.bind(res);
  // also: the library sometimes sets headers after answering; ignore instead of throwing
  res.setHeader = ((name: string, value: number | string | readonly string[]) =>
    /^access-control-/i.test(name) || res.headersSent ? res : origSet(name, value)) as ServerResponse['setHeader'];
  const origin = req.headers.origin;
  if (!cors.enabled || !origin) return false;
  const allowed = cors.allowed_origins.length === 0 || cors.allowed_origins.includes('*') || cors.allowed_origins.includes(origin);
  if (!allowed) return false;
  origSet('Access-Control-Allow-Origin', cors.allowed_origins.includes('*') && !cors.allow_credentials ? '*' : origin);
  origSet('Vary', 'Origin');
  if (cors.allow_credentials) origSet('Access-Control-Allow-Credentials', 'true');
  if (cors.exposed_headers.length) origSet('Access-Control-Expose-Headers', cors.exposed_headers.join(', '));
  if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] && !cors.options_passthrough) {
    const methods = cors.allowed_methods.length ? cors.allowed_methods.join(', ')
      : 'GET, HEAD, PUT, DELETE, OPTIONS, PROPFIND, PROPPATCH, MKCOL, COPY, MOVE, LOCK, UNLOCK';
    origSet('Access-Control-Allow-Methods', methods);
    const reqHeaders = req.headers['access-control-request-headers'];
    if (cors.allowed_headers.length) origSet('Access-Control-Allow-Headers', cors.allowed_headers.join(', '));
    else if (reqHeaders) origSet('Access-Control-Allow-Headers', reqHeaders);
    if (cors.max_age > 0) origSet('Access-Control-Max-Age', String(cors.max_age));
    res.writeHead(cors.options_success_status || 204);
    res.end();
    return true;
  }
  return false;
}

export function createHandler(deps: HandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { ctx, binding } = deps;
  const prefix = normalizePrefix(binding.prefix);
  return (req, res) => {
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    handle(deps, prefix, req, res).catch((e: unknown) => {
      ctx.logger.error(SENDER, `unexpected error: ${e instanceof Error ? e.message : String(e)}`);
      plain(res, 500);
    });
  };
}

async function handle(deps: HandlerDeps, prefix: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { ctx } = deps;
  const ip = deps.clientIp(req);
  let release: () => void;
  try {
    // banned, not in the allow list, or rate limited: refused before any work
    await ctx.perimeter.checkConnection(ip, 'DAV');
    release = ctx.connections.acceptClient(ip);
  } catch (e) {
    plain(res, isFsError(e) ? httpStatusOf(e) : 503);
    return;
  }
  res.on('close', release);
  // SFTPGo runs the post-connect hook for every WebDAV request, before authentication
  if (ctx.hooks?.hasPostConnect && !(await ctx.hooks.postConnect(ip, 'DAV'))) return plain(res, 403);

  if (prefix) {
    const url = req.url ?? '/';
    if (url !== prefix && !url.startsWith(`${prefix}/`) && !url.startsWith(`${prefix}?`)) return plain(res, 404);
    req.url = url.slice(prefix.length) || '/';
  }
  if (applyCors(deps.cors, req, res)) return;

  const method = (req.method ?? '').toUpperCase();
  const declared = Number(req.headers['content-length'] ?? 0);
  if (method !== 'PUT' && (!Number.isFinite(declared) || declared > MAX_XML_BODY)) {
    return plain(res, 413, { Connection: 'close' });
  }

  const challenge: Record<string, string> = deps.binding.disable_www_auth_header
    ? {} : { 'WWW-Authenticate': 'Basic realm="SFTPGo WebDAV"' };
  const creds = davCredentials(req, deps.binding.client_auth_type);
  if ('refused' in creds) {
    ctx.logger.connectionFailed({ clientIp: ip, username: '', loginType: creds.loginType, protocol: 'DAV', error: creds.refused });
    return plain(res, creds.loginType === 'no_auth_tried' ? 401 : 403, creds.loginType === 'no_auth_tried' ? challenge : undefined);
  }
  const basic = creds.basic;
  const userAgent = String(req.headers['user-agent'] ?? '');
  const result = await loginService(ctx).login({
    protocol: 'DAV', method: creds.method, ip, username: creds.username, credentials: creds.credentials,
    connectionId: '', clientVersion: userAgent, encrypted: 'encrypted' in req.socket,
    ...(basic && creds.method === 'password' ? { knownGoodPassword: (user: User) => deps.logins.knownGood(basic, user) } : {}),
    register: {
      protocol: 'DAV', remoteAddr: `${ip}:${req.socket.remotePort ?? 0}`,
      localAddr: `${req.socket.localAddress ?? ''}:${req.socket.localPort ?? 0}`,
      clientVersion: userAgent, handle: { disconnect: () => { res.destroy(); } },
    },
  });
  if (!result.ok) {
    if (result.kind === 'limit_exceeded') return plain(res, isFsError(result.error) ? httpStatusOf(result.error) : 503);
    ctx.logger.warn(SENDER, `login failed for user "${creds.username}" from ${ip}: ${result.message}`);
    return plain(res, 401, challenge);
  }
  const ops = result.ops;
  if (!ops) return plain(res, 500);
  if (!result.cached && basic && creds.method === 'password') deps.logins.remember(basic, result.user);
  res.on('close', () => { void ctx.connections.remove(ops.id).catch(() => undefined); });
  ops.setCommand(method);
  if (refusesInfiniteDepth(req)) {
    res.writeHead(403, { 'Content-Type': 'application/xml; charset=utf-8' });
    res.end('<?xml version="1.0" encoding="utf-8"?>\n<D:error xmlns:D="DAV:"><D:propfind-finite-depth/></D:error>');
    return;
  }
  if (method === 'MKCOL' && (declared > 0 || req.headers['transfer-encoding'] !== undefined)) {
    // RFC 4918 §9.3: no MKCOL body format is defined
    return plain(res, 415, { Connection: 'close' });
  }
  normalizeHeaders(req, method);
  deps.users.set(req, new DavUser(ops, deps.states.forUser(result.user.username)));
  // the library's dispatch runs our methods (request.ts wraps them); a synchronous throw is caught by createHandler
  deps.library.executeRequest(req, res, prefix || undefined);
}

/**
 * Fills in RFC defaults the library gets wrong: a missing Overwrite means T;
 * a PROPFIND without Depth is served as depth 1, and depth infinity is
 * refused (403, RFC 4918 §9.1 propfind-finite-depth) so one request cannot walk a whole tree.
 */
function normalizeHeaders(req: IncomingMessage, method: string): void {
  if ((method === 'COPY' || method === 'MOVE') && req.headers.overwrite === undefined) req.headers.overwrite = 'T';
  if (method === 'PROPFIND' && req.headers.depth === undefined) req.headers.depth = '1';
}

export function refusesInfiniteDepth(req: IncomingMessage): boolean {
  return (req.method ?? '').toUpperCase() === 'PROPFIND' && String(req.headers.depth ?? '').toLowerCase() === 'infinity';
}
