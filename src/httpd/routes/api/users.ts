/** /api/v2/users CRUD. Output always goes through toPublicUser and the user schema (no hash). */
import type { FastifyInstance } from 'fastify';
import { toPublicUser } from '../../../dataprovider/models';
import type { HttpDeps, ListQuery } from '../../deps';
import { executorOf, listOptions, message } from '../../deps';
import { apiResponseSchema, errorResponses, listQuerySchema, paramsFor } from '../../schemas/common';
import { userInputSchema, userSchema, userUpdateInputSchema } from '../../schemas/user';
import { adminRoleOf, userInScope, withAdminRole } from '../../scope';

interface UserParams { username: string }

/** SFTPGo's addUser starts every user without 2FA: the user enrols through /api/v2/user/totp. */
function withoutSecondFactor(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const input = body as Record<string, unknown>;
  const filters = input.filters;
  if (typeof filters !== 'object' || filters === null || Array.isArray(filters)) return body;
  const { totp_config: _t, recovery_codes: _r, ...rest } = filters as Record<string, unknown>;
  return { ...input, filters: rest };
}

const params = paramsFor('username');
const tags = ['users'];

export function registerUserRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const provider = deps.ctx.provider;

  app.get<{ Querystring: ListQuery }>('/api/v2/users', {
    config: { perms: ['view_users'], summary: 'List users', tags },
    schema: { querystring: listQuerySchema, response: { 200: { type: 'array', items: userSchema }, ...errorResponses } },
  }, async (req) => {
    const role = adminRoleOf(req);
    return (await provider.listUsers({ ...listOptions(req.query), ...(role ? { role } : {}) })).map(toPublicUser);
  });

  app.post('/api/v2/users', {
    config: { perms: ['add_users'], summary: 'Add a user', tags },
    schema: { body: userInputSchema, response: { 201: userSchema, 409: apiResponseSchema, ...errorResponses } },
  }, async (req, reply) => {
    // an admin with a role creates users of its role (SFTPGo addUser)
    const user = await provider.addUser(withAdminRole(req, withoutSecondFactor(req.body)), executorOf(req));
    reply.header('location', `/api/v2/users/${encodeURIComponent(user.username)}`);
    return reply.code(201).send(toPublicUser(user));
  });

  app.get<{ Params: UserParams }>('/api/v2/users/:username', {
    config: { perms: ['view_users'], summary: 'Get a user', tags },
    schema: { params, response: { 200: userSchema, ...errorResponses } },
  }, async (req) => toPublicUser(await userInScope(provider, req, req.params.username)));

  app.put<{ Params: UserParams; Querystring: { disconnect?: string } }>('/api/v2/users/:username', {
    config: { perms: ['edit_users'], summary: 'Update a user (disconnect=1 closes its sessions)', tags },
    schema: {
      params,
      querystring: { type: 'object', properties: { disconnect: { type: 'string', enum: ['0', '1'] } }, additionalProperties: false },
      body: userUpdateInputSchema,
      response: { 200: apiResponseSchema, ...errorResponses },
    },
  }, async (req) => {
    await userInScope(provider, req, req.params.username);
    const updated = await provider.updateUser(req.params.username, withAdminRole(req, req.body), executorOf(req));
    // a disabled account must not keep its open sessions
    if (req.query.disconnect === '1' || updated.status !== 1) deps.ctx.connections.closeUser(updated.username);
    return message('User updated');
  });

  app.delete<{ Params: UserParams }>('/api/v2/users/:username', {
    config: { perms: ['del_users'], summary: 'Delete a user and close its sessions', tags },
    schema: { params, response: { 200: apiResponseSchema, ...errorResponses } },
  }, async (req) => {
    await userInScope(provider, req, req.params.username);
    await provider.deleteUser(req.params.username, executorOf(req));
    deps.ctx.connections.closeUser(req.params.username);
    return message('User deleted');
  });
}
