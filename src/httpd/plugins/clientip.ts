/**
 * The client IP every rule uses (token binding, allow lists, rate limit,
 * logs). A proxy header is trusted only when the binding names it
 * (client_ip_proxy_header) and the connecting address is in proxy_allowed;
 * client_ip_header_depth counts from the right of a comma list, as SFTPGo.
 */
import { isIP } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { HttpdBinding } from '../../config/types';
import { ipAllowed, normalizeIp } from '../ipfilter';

export function resolveClientIp(req: FastifyRequest, binding: Pick<HttpdBinding, 'client_ip_proxy_header' | 'client_ip_header_depth' | 'proxy_allowed'>): string {
  const remote = normalizeIp(req.raw.socket.remoteAddress ?? '');
  const header = binding.client_ip_proxy_header?.toLowerCase();
  if (!header || !binding.proxy_allowed || binding.proxy_allowed.length === 0) return remote;
  if (!ipAllowed(remote, binding.proxy_allowed)) return remote;
  const raw = req.headers[header];
  const value = Array.isArray(raw) ? raw.join(',') : raw;
  if (!value) return remote;
  const parts = value.split(',').map((p) => p.trim()).filter((p) => p !== '');
  const idx = parts.length - 1 - Math.max(0, binding.client_ip_header_depth ?? 0);
  const candidate = idx >= 0 ? normalizeIp(parts[idx]) : '';
  return isIP(candidate) ? candidate : remote;
}

export function installClientIp(app: FastifyInstance, binding: HttpdBinding): void {
  app.decorateRequest('clientIp', '');
  app.addHook('onRequest', async (req) => {
    req.clientIp = resolveClientIp(req, binding);
  });
}
