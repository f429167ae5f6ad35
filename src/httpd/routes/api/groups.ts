/** /api/v2/groups and /api/v2/roles CRUD (SFTPGo's api_group.go / api_role.go). */
import type { FastifyInstance } from 'fastify';
import { FsError } from '../../../common/errors';
import type { AdminPermission } from '../../../dataprovider/models';
import type { HttpDeps, ListQuery } from '../../deps';
import { executorOf, listOptions, message } from '../../deps';
import { apiResponseSchema, errorResponses, listQuerySchema, paramsFor } from '../../schemas/common';
import {
  groupInputSchema, groupSchema, groupUpdateInputSchema, roleInputSchema, roleSchema, roleUpdateInputSchema,
} from '../../schemas/group';

interface NameParams { name: string }

const params = paramsFor('name');

export function registerGroupRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const groups = deps.ctx.provider.groups;
  const tags = ['groups'];
  const perms: AdminPermission[] = ['manage_groups'];

  app.get<{ Querystring: ListQuery }>('/api/v2/groups', {
    config: { perms, summary: 'List groups', tags },
    schema: { querystring: listQuerySchema, response: { 200: { type: 'array', items: groupSchema }, ...errorResponses } },
  }, async (req) => groups.listGroups(listOptions(req.query)));

  app.post('/api/v2/groups', {
    config: { perms, summary: 'Add a group', tags },
    schema: { body: groupInputSchema, response: { 201: groupSchema, 409: apiResponseSchema, ...errorResponses } },
  }, async (req, reply) => {
    const group = await groups.addGroup(req.body, executorOf(req));
    reply.header('location', `/api/v2/groups/${encodeURIComponent(group.name)}`);
    return reply.code(201).send(group);
  });

  app.get<{ Params: NameParams }>('/api/v2/groups/:name', {
    config: { perms, summary: 'Get a group', tags },
    schema: { params, response: { 200: groupSchema, ...errorResponses } },
  }, async (req) => {
    const group = await groups.getGroup(req.params.name);
    if (!group) throw new FsError('NotFound', `group ${req.params.name} not found`);
    return group;
  });

  app.put<{ Params: NameParams }>('/api/v2/groups/:name', {
    config: { perms, summary: 'Update a group (members get the new settings at their next login)', tags },
    schema: { params, body: groupUpdateInputSchema, response: { 200: apiResponseSchema, ...errorResponses } },
  }, async (req) => {
    await groups.updateGroup(req.params.name, req.body, executorOf(req));
    return message('Group updated');
  });

  app.delete<{ Params: NameParams }>('/api/v2/groups/:name', {
    config: { perms, summary: 'Delete a group (refused while users are members)', tags },
    schema: { params, response: { 200: apiResponseSchema, ...errorResponses } },
  }, async (req) => {
    await groups.deleteGroup(req.params.name, executorOf(req));
    return message('Group deleted');
  });
}

export function registerRoleRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const groups = deps.ctx.provider.groups;
  const tags = ['roles'];
  const perms: AdminPermission[] = ['manage_roles'];

  app.get<{ Querystring: ListQuery }>('/api/v2/roles', {
    config: { perms, summary: 'List roles', tags },
    schema: { querystring: listQuerySchema, response: { 200: { type: 'array', items: roleSchema }, ...errorResponses } },
  }, async (req) => groups.listRoles(listOptions(req.query)));

  app.post('/api/v2/roles', {
    config: { perms, summary: 'Add a role', tags },
    schema: { body: roleInputSchema, response: { 201: roleSchema, 409: apiResponseSchema, ...errorResponses } },
  }, async (req, reply) => {
    const role = await groups.addRole(req.body, executorOf(req));
    reply.header('location', `/api/v2/roles/${encodeURIComponent(role.name)}`);
    return reply.code(201).send(role);
  });

  app.get<{ Params: NameParams }>('/api/v2/roles/:name', {
    config: { perms, summary: 'Get a role', tags },
    schema: { params, response: { 200: roleSchema, ...errorResponses } },
  }, async (req) => {
    const role = await groups.getRole(req.params.name);
    if (!role) throw new FsError('NotFound', `role ${req.params.name} not found`);
    return role;
  });

  app.put<{ Params: NameParams }>('/api/v2/roles/:name', {
    config: { perms, summary: 'Update a role', tags },
    schema: { params, body: roleUpdateInputSchema, response: { 200: apiResponseSchema, ...errorResponses } },
  }, async (req) => {
    await groups.updateRole(req.params.name, req.body, executorOf(req));
    return message('Role updated');
  });

  app.delete<{ Params: NameParams }>('/api/v2/roles/:name', {
    config: { perms, summary: 'Delete a role (refused while admins hold it; its users lose it)', tags },
    schema: { params, response: { 200: apiResponseSchema, ...errorResponses } },
  }, async (req) => {
    await groups.deleteRole(req.params.name, executorOf(req));
    return message('Role deleted');
  });
}
