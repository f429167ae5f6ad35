/**
 * /api/v2/apikeys (JWT only). The plain key is shown once, in the creation
 * response (`{message, key}` + X-Object-ID), as SFTPGo; `id` is the key id.
 */
import type { FastifyInstance } from 'fastify';
import { FsError } from '../../../common/errors';
import type { ApiKey } from '../../../dataprovider/models';
import type { HttpDeps, ListQuery } from '../../deps';
import { executorOf, listOptions, message } from '../../deps';
import { apiKeyCreatedSchema, apiKeyInputSchema, apiKeySchema, apiKeyUpdateInputSchema } from '../../schemas/apikey';
import { apiResponseSchema, errorResponses, listQuerySchema, paramsFor } from '../../schemas/common';

interface KeyParams { id: string }

export interface PublicApiKey extends Omit<ApiKey, 'id' | 'key' | 'key_id'> { id: string }

export function toPublicApiKey(k: ApiKey): PublicApiKey {
  const { id: _numericId, key: _hash, key_id, ...rest } = k;
  return { ...rest, id: key_id };
}

const params = paramsFor('id');
const tags = ['API keys'];
const cfg = { perms: ['manage_apikeys'], noApiKey: true, allowPending2fa: true, tags } as const;

export function registerApiKeyRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const provider = deps.ctx.provider;

  app.get<{ Querystring: ListQuery }>('/api/v2/apikeys', {
    config: { ...cfg, perms: [...cfg.perms], tags: [...tags], summary: 'List API keys' },
    schema: { querystring: listQuerySchema, response: { 200: { type: 'array', items: apiKeySchema }, ...errorResponses } },
  }, async (req) => (await provider.listApiKeys(listOptions(req.query))).map(toPublicApiKey));

  app.post('/api/v2/apikeys', {
    config: { ...cfg, perms: [...cfg.perms], tags: [...tags], summary: 'Add an API key (the key is returned only here)' },
    schema: { body: apiKeyInputSchema, response: { 201: apiKeyCreatedSchema, 409: apiResponseSchema, ...errorResponses } },
  }, async (req, reply) => {
    const { apiKey, key } = await provider.addApiKey(req.body, executorOf(req));
    reply.header('location', `/api/v2/apikeys/${encodeURIComponent(apiKey.key_id)}`);
    reply.header('x-object-id', apiKey.key_id);
    return reply.code(201).send({ message: 'API key created. This is the only time the API key is visible, please save it.', key });
  });

  app.get<{ Params: KeyParams }>('/api/v2/apikeys/:id', {
    config: { ...cfg, perms: [...cfg.perms], tags: [...tags], summary: 'Get an API key' },
    schema: { params, response: { 200: apiKeySchema, ...errorResponses } },
  }, async (req) => {
    const k = await provider.getApiKey(req.params.id);
    if (!k) throw new FsError('NotFound', `API key ${req.params.id} not found`);
    return toPublicApiKey(k);
  });

  app.put<{ Params: KeyParams }>('/api/v2/apikeys/:id', {
    config: { ...cfg, perms: [...cfg.perms], tags: [...tags], summary: 'Update an API key' },
    schema: { params, body: apiKeyUpdateInputSchema, response: { 200: apiResponseSchema, ...errorResponses } },
  }, async (req) => {
    await provider.updateApiKey(req.params.id, req.body, executorOf(req));
    return message('API key updated');
  });

  app.delete<{ Params: KeyParams }>('/api/v2/apikeys/:id', {
    config: { ...cfg, perms: [...cfg.perms], tags: [...tags], summary: 'Delete an API key' },
    schema: { params, response: { 200: apiResponseSchema, ...errorResponses } },
  }, async (req) => {
    await provider.deleteApiKey(req.params.id, executorOf(req));
    return message('API key deleted');
  });
}
