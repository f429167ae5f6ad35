/**
 * Route-level settings read by the auth and OpenAPI plugins, and the request
 * fields the auth plugin fills in.
 */
import type { Admin, AdminPermission, User } from '../dataprovider/models';

export interface HttpRouteConfig {
  /** 'none' = public; 'admin' (default for /api/v2) = admin JWT or admin API key; 'user' = user JWT (audience APIUser) */
  auth?: 'none' | 'admin' | 'user';
  /**
   * Reachable by an account that must still set up its second factor (admin
   * require_two_factor, user two_factor_protocols): SFTPGo's routes outside
   * checkAuthRequirements (logout, profile read, password, TOTP and recovery codes).
   */
  allowPending2fa?: boolean;
  /** the admin needs at least one of these (or '*') */
  perms?: readonly AdminPermission[];
  /** JWT only: SFTPGo refuses API keys for logout, profile, changepwd and API key management */
  noApiKey?: boolean;
  /** one-line description for the OpenAPI document */
  summary?: string;
  /**
   * A body that is not JSON (read as a stream by the handler: uploads), or
   * none at all (POSTs driven by the query string): how the document shows it.
   */
  body?: 'none' | 'multipart' | 'binary';
  tags?: readonly string[];
}

declare module 'fastify' {
  interface FastifyContextConfig extends HttpRouteConfig {}
  interface FastifyRequest {
    /** the client address after trusted proxy headers (plugins/clientip.ts) */
    clientIp: string;
    /** the authenticated admin, reloaded from the provider on every request */
    admin?: Admin;
    /** the authenticated user (auth: 'user'), reloaded on every request */
    user?: User;
    /** 'node': another cluster node acting for an admin (X-SFTPGO-Node) */
    authMethod?: 'jwt' | 'apikey' | 'node';
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
