/** /api/v2/folders CRUD. */
import type { FastifyInstance } from 'fastify';
import { FsError } from '../../../common/errors';
import { toPublicFolder } from '../../../dataprovider/models';
import type { HttpDeps, ListQuery } from '../../deps';
import { executorOf, listOptions, message } from '../../deps';
import { apiResponseSchema, errorResponses, listQuerySchema, paramsFor } from '../../schemas/common';
import { folderInputSchema, folderSchema, folderUpdateInputSchema } from '../../schemas/folder';

interface FolderParams { name: string }

const params = paramsFor('name');
const tags = ['folders'];
const perms = ['manage_folders'] as const;

export function registerFolderRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const provider = deps.ctx.provider;

  app.get<{ Querystring: ListQuery }>('/api/v2/folders', {
    config: { perms: [...perms], summary: 'List folders', tags },
    schema: { querystring: listQuerySchema, response: { 200: { type: 'array', items: folderSchema }, ...errorResponses } },
  }, async (req) => (await provider.listFolders(listOptions(req.query))).map(toPublicFolder));

  app.post('/api/v2/folders', {
    config: { perms: [...perms], summary: 'Add a folder', tags },
    schema: { body: folderInputSchema, response: { 201: folderSchema, 409: apiResponseSchema, ...errorResponses } },
  }, async (req, reply) => {
    const folder = await provider.addFolder(req.body, executorOf(req));
    reply.header('location', `/api/v2/folders/${encodeURIComponent(folder.name)}`);
    return reply.code(201).send(toPublicFolder(folder));
  });

  app.get<{ Params: FolderParams }>('/api/v2/folders/:name', {
    config: { perms: [...perms], summary: 'Get a folder', tags },
    schema: { params, response: { 200: folderSchema, ...errorResponses } },
  }, async (req) => {
    const folder = await provider.getFolder(req.params.name);
    if (!folder) throw new FsError('NotFound', `folder ${req.params.name} not found`);
    return toPublicFolder(folder);
  });

  app.put<{ Params: FolderParams }>('/api/v2/folders/:name', {
    config: { perms: [...perms], summary: 'Update a folder', tags },
    schema: { params, body: folderUpdateInputSchema, response: { 200: apiResponseSchema, ...errorResponses } },
  }, async (req) => {
    await provider.updateFolder(req.params.name, req.body, executorOf(req));
    return message('Folder updated');
  });

  app.delete<{ Params: FolderParams }>('/api/v2/folders/:name', {
    config: { perms: [...perms], summary: 'Delete a folder', tags },
    schema: { params, response: { 200: apiResponseSchema, ...errorResponses } },
  }, async (req) => {
    await provider.deleteFolder(req.params.name, executorOf(req));
    return message('Folder deleted');
  });
}
