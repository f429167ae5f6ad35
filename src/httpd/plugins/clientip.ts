/**
 * The client IP every rule uses (token binding, allow lists, rate limit,
 * defender, logs): the binding's proxy settings decide (perimeter/http-client.ts,
 * shared with WebDAV). Every request then passes the perimeter (banned,
 * allow list, rate limiters) before any route runs, as SFTPGo's checkConnection
 * middleware: 403 when refused, 429 when rate limited.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { HttpdBinding } from '../../config/types';
import type { Perimeter } from '../../common/perimeter';
import { clientIpResolver, type ClientIpResolver } from '../../perimeter/http-client';

type ProxyFields = Pick<HttpdBinding, 'client_ip_proxy_header' | 'client_ip_header_depth' | 'proxy_allowed'> & { proxy_mode?: number };

export function httpClientIpResolver(binding: ProxyFields): ClientIpResolver {
  return clientIpResolver({
    proxy_mode: binding.proxy_mode ?? 0,
    proxy_allowed: binding.proxy_allowed ?? [],
    client_ip_proxy_header: binding.client_ip_proxy_header ?? '',
    client_ip_header_depth: binding.client_ip_header_depth ?? 0,
  }, `httpd binding`);
}

/** One-off resolution (tests); the service builds one resolver per binding. */
export function resolveClientIp(req: FastifyRequest, binding: ProxyFields): string {
  return httpClientIpResolver(binding)(req.raw.socket, req.headers);
}

export function installClientIp(app: FastifyInstance, resolver: ClientIpResolver, perimeter: Perimeter): void {
  app.decorateRequest('clientIp', '');
  app.addHook('onRequest', async (req) => {
    req.clientIp = resolver(req.raw.socket, req.headers);
    await perimeter.checkConnection(req.clientIp, 'HTTP');
  });
}
