/**
 * Route-level settings read by the auth and OpenAPI plugins, and the request
 * fields the auth plugin fills in.
 */
import type { Admin, AdminPermission } from '../dataprovider/models';

export interface HttpRouteConfig {
  /** 'none' = public; 'admin' (default for /api/v2) = admin JWT or admin API key */
  auth?: 'none' | 'admin';
  /** the admin needs at least one of these (or '*') */
  perms?: readonly AdminPermission[];
  /** JWT only: SFTPGo refuses API keys for logout, profile, changepwd and API key management */
  noApiKey?: boolean;
  /** one-line description for the OpenAPI document */
  summary?: string;
  tags?: readonly string[];
}

declare module 'fastify' {
  interface FastifyContextConfig extends HttpRouteConfig {}
  interface FastifyRequest {
    /** the client address after trusted proxy headers (plugins/clientip.ts) */
    clientIp: string;
    /** the authenticated admin, reloaded from the provider on every request */
    admin?: Admin;
    authMethod?: 'jwt' | 'apikey';
    /** JWT id and expiry (seconds), for logout */
    tokenId?: string;
    tokenExp?: number;
  }
}

export function hasPermission(admin: Admin, wanted: readonly AdminPermission[]): boolean {
  const perms = admin.permissions ?? [];
  if (perms.includes('*')) return true;
  return wanted.some((p) => perms.includes(p));
}
