/** /api/v2/admins CRUD (manage_admins). An admin cannot delete, disable or re-permission itself. */
import type { FastifyInstance } from 'fastify';
import { FsError } from '../../../common/errors';
import { toPublicAdmin } from '../../../dataprovider/models';
import type { HttpDeps, ListQuery } from '../../deps';
import { executorOf, listOptions, message } from '../../deps';
import { ApiError } from '../../errors';
import { adminInputSchema, adminSchema, adminUpdateInputSchema } from '../../schemas/admin';
import { apiResponseSchema, errorResponses, listQuerySchema, paramsFor } from '../../schemas/common';

interface AdminParams { username: string }

const params = paramsFor('username');
const tags = ['admins'];
const perms = ['manage_admins'] as const;

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
}

export function registerAdminRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const provider = deps.ctx.provider;

  app.get<{ Querystring: ListQuery }>('/api/v2/admins', {
    config: { perms: [...perms], summary: 'List admins', tags },
    schema: { querystring: listQuerySchema, response: { 200: { type: 'array', items: adminSchema }, ...errorResponses } },
  }, async (req) => (await provider.listAdmins(listOptions(req.query))).map(toPublicAdmin));

  app.post('/api/v2/admins', {
    config: { perms: [...perms], summary: 'Add an admin', tags },
    schema: { body: adminInputSchema, response: { 201: adminSchema, 409: apiResponseSchema, ...errorResponses } },
  }, async (req, reply) => {
    const admin = await provider.addAdmin(req.body, executorOf(req));
    reply.header('location', `/api/v2/admins/${encodeURIComponent(admin.username)}`);
    return reply.code(201).send(toPublicAdmin(admin));
  });

  app.get<{ Params: AdminParams }>('/api/v2/admins/:username', {
    config: { perms: [...perms], summary: 'Get an admin', tags },
    schema: { params, response: { 200: adminSchema, ...errorResponses } },
  }, async (req) => {
    const admin = await provider.getAdmin(req.params.username);
    if (!admin) throw new FsError('NotFound', `admin ${req.params.username} not found`);
    return toPublicAdmin(admin);
  });

  app.put<{ Params: AdminParams; Body: { status?: number; permissions?: string[] } }>('/api/v2/admins/:username', {
    config: { perms: [...perms], summary: 'Update an admin', tags },
    schema: { params, body: adminUpdateInputSchema, response: { 200: apiResponseSchema, ...errorResponses } },
  }, async (req) => {
    const self = req.admin;
    if (self && self.username === req.params.username) {
      if (req.body.status !== undefined && req.body.status !== 1) throw new ApiError(400, 'you cannot disable yourself');
      if (req.body.permissions !== undefined && !sameSet(req.body.permissions, self.permissions)) {
        throw new ApiError(400, 'you cannot change your own permissions');
      }
    }
    await provider.updateAdmin(req.params.username, req.body, executorOf(req));
    return message('Admin updated');
  });

  app.delete<{ Params: AdminParams }>('/api/v2/admins/:username', {
    config: { perms: [...perms], summary: 'Delete an admin', tags },
    schema: { params, response: { 200: apiResponseSchema, ...errorResponses } },
  }, async (req) => {
    if (req.admin?.username === req.params.username) throw new ApiError(400, 'you cannot delete yourself');
    await provider.deleteAdmin(req.params.username, executorOf(req));
    return message('Admin deleted');
  });
}
