/**
 * The admin's view of users' shares (not in SFTPGo's REST API, which only has
 * them in dumps): GET /api/v2/users/{username}/shares lists them (passwords
 * redacted), DELETE /api/v2/users/{username}/shares/{id} revokes one, e.g. a
 * link that leaked. Role-bound admins see only users of their role.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { redactShare } from '../../../dataprovider/shares';
import type { HttpDeps, ListQuery } from '../../deps';
import { listOptions, message } from '../../deps';
import { ApiError } from '../../errors';
import { errorResponses, listQuerySchema, paramsFor } from '../../schemas/common';
import { shareSchema } from './shares';

const tags = ['users'];

export function registerAdminShareRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const provider = deps.ctx.provider;
  const owner = async (req: FastifyRequest<{ Params: { username: string } }>): Promise<string> => {
    const user = await provider.getUser(req.params.username);
    const role = req.admin?.role;
    if (!user || (role && user.role !== role)) throw new ApiError(404, `user "${req.params.username}" not found`);
    return user.username;
  };

  app.get<{ Params: { username: string }; Querystring: ListQuery }>('/api/v2/users/:username/shares', {
    config: { perms: ['view_users'], summary: "List a user's shares (passwords redacted)", tags },
    schema: { params: paramsFor('username'), querystring: listQuerySchema, response: { 200: { type: 'array', items: shareSchema }, ...errorResponses } },
  }, async (req) => (await provider.shares.list(await owner(req), listOptions(req.query))).map(redactShare));

  app.delete<{ Params: { username: string; id: string } }>('/api/v2/users/:username/shares/:id', {
    config: { perms: ['edit_users'], summary: "Delete one of a user's shares", tags },
    schema: { params: { type: 'object', properties: { username: { type: 'string' }, id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } }, required: ['username', 'id'] } },
  }, async (req) => {
    await provider.shares.delete(req.params.id, await owner(req));
    return message('Share deleted');
  });
}
