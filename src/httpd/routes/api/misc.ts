/** /healthz, /api/v2/version, /api/v2/status. */
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../../deps';
import { errorResponses, openObject, stringArray } from '../../schemas/common';

const versionSchema = {
  type: 'object',
  properties: {
    version: { type: 'string' },
    build_date: { type: 'string' },
    commit_hash: { type: 'string' },
    features: stringArray,
  },
} as const;

/** Served on every binding, even with the REST API disabled. */
export function registerHealthRoute(app: FastifyInstance): void {
  app.get('/healthz', {
    config: { auth: 'none', summary: 'Health check', tags: ['healthcheck'] },
    schema: { response: { 200: { type: 'string' } } },
  }, async (_req, reply) => reply.type('text/plain; charset=utf-8').send('ok'));
}

export function registerMiscRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/api/v2/version', {
    config: { summary: 'Version info', tags: ['maintenance'] },
    schema: { response: { 200: versionSchema, ...errorResponses } },
  }, async () => deps.ctx.version);

  app.get('/api/v2/status', {
    config: { perms: ['view_status'], summary: 'Services status', tags: ['maintenance'] },
    schema: { response: { 200: openObject, ...errorResponses } },
  }, async () => {
    const provider = deps.ctx.provider;
    let error = '';
    try {
      await provider.backend.checkAvailability();
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    deps.ctx.metrics.providerAvailability(error === '');
    return {
      ...deps.serviceStatus(),
      data_provider: { is_active: error === '', driver: provider.backend.driver, error },
    };
  });
}
