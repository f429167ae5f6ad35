/**
 * Role scoping of the admin API (SFTPGo's `claims.Role`): an admin with a
 * role sees and manages only the users of that role. A user outside the
 * scope answers 404, exactly as a user that does not exist.
 */
import type { FastifyRequest } from 'fastify';
import { FsError } from '../common/errors';
import type { User } from '../dataprovider/models';
import type { DataProviderService } from '../dataprovider/types';

/** The requesting admin's role, '' for an admin without one (sees everything). */
export function adminRoleOf(req: FastifyRequest): string {
  return req.admin?.role ?? '';
}

/** The stored user when the requesting admin may see it, else NotFound. */
export async function userInScope(provider: DataProviderService, req: FastifyRequest, username: string): Promise<User> {
  const user = await provider.getUser(username);
  const role = adminRoleOf(req);
  if (!user || (role && user.role !== role)) throw new FsError('NotFound', `user ${username} not found`);
  return user;
}

/** What the input of an admin with a role may say about roles: the admin's own role, always. */
export function withAdminRole(req: FastifyRequest, body: unknown): unknown {
  const role = adminRoleOf(req);
  if (!role || typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  return { ...(body as Record<string, unknown>), role };
}
