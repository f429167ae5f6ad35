/**
 * CORS for the REST API (httpd.cors), with the semantics of the library
 * SFTPGo uses: origins may be "*" or contain one "*" wildcard, preflights are
 * answered here (before auth) unless options_passthrough is set.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { CorsConfig } from '../../config/types';

const DEFAULT_METHODS = ['GET', 'POST', 'HEAD'];
const DEFAULT_HEADERS = ['origin', 'accept', 'content-type', 'x-requested-with'];

export function originAllowed(origin: string, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  const o = origin.toLowerCase();
  return allowed.some((a) => {
    const pat = a.toLowerCase();
    if (pat === '*') return true;
    const star = pat.indexOf('*');
    if (star < 0) return pat === o;
    const prefix = pat.slice(0, star);
    const suffix = pat.slice(star + 1);
    return o.length >= prefix.length + suffix.length && o.startsWith(prefix) && o.endsWith(suffix);
  });
}

function allowOrigin(reply: FastifyReply, origin: string, cfg: CorsConfig): void {
  const any = cfg.allowed_origins.length === 0 || cfg.allowed_origins.includes('*');
  reply.header('access-control-allow-origin', any && !cfg.allow_credentials ? '*' : origin);
  reply.header('vary', 'Origin');
  if (cfg.allow_credentials) reply.header('access-control-allow-credentials', 'true');
}

export function installCors(app: FastifyInstance, cfg: CorsConfig): void {
  if (!cfg.enabled) return;
  const methods = (cfg.allowed_methods.length > 0 ? cfg.allowed_methods : DEFAULT_METHODS).map((m) => m.toUpperCase());
  const headers = cfg.allowed_headers.length > 0 ? cfg.allowed_headers.map((h) => h.toLowerCase()) : DEFAULT_HEADERS;
  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin;
    if (typeof origin !== 'string' || origin === '') return;
    const wanted = req.headers['access-control-request-method'];
    const preflight = req.method === 'OPTIONS' && typeof wanted === 'string';
    if (!preflight) {
      if (!originAllowed(origin, cfg.allowed_origins)) return;
      allowOrigin(reply, origin, cfg);
      if (cfg.exposed_headers.length > 0) reply.header('access-control-expose-headers', cfg.exposed_headers.join(', '));
      return;
    }
    if (cfg.options_passthrough) return;
    const reqHeaders = String(req.headers['access-control-request-headers'] ?? '')
      .split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== '');
    const ok = originAllowed(origin, cfg.allowed_origins)
      && methods.includes(wanted.toUpperCase())
      && (headers.includes('*') || reqHeaders.every((h) => headers.includes(h)));
    reply.header('vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
    if (ok) {
      allowOrigin(reply, origin, cfg);
      reply.header('access-control-allow-methods', wanted.toUpperCase());
      if (reqHeaders.length > 0) reply.header('access-control-allow-headers', reqHeaders.join(', '));
      if (cfg.max_age > 0) reply.header('access-control-max-age', String(cfg.max_age));
      if (cfg.allow_private_network && req.headers['access-control-request-private-network'] === 'true') {
        reply.header('access-control-allow-private-network', 'true');
      }
    }
    return reply.code(cfg.options_success_status > 0 ? cfg.options_success_status : 204).send();
  });
}
