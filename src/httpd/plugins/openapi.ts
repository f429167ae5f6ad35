/**
 * Collects every route as it is registered (onRoute) and serves the OpenAPI
 * document built from them at /openapi/openapi.{json,yaml}, plus a browsable
 * page at /openapi. Must be installed before any other route.
 */
import type { FastifyInstance } from 'fastify';
import * as yaml from 'js-yaml';
import { buildOpenApiDocument, type CollectedRoute } from '../openapi/document';
import { renderOpenApiPage } from '../openapi/page';

export interface OpenApiCollector { routes: CollectedRoute[]; document(): Record<string, unknown> }

/**
 * What the document covers, as SFTPGo's openapi.yaml does: the REST API
 * (/api/v2/...) and /healthz. The web UIs and their assets, /metrics and the
 * documentation pages themselves are not API operations.
 */
export function isDocumented(url: string): boolean {
  return url === '/healthz' || url.startsWith('/api/v2/');
}

export function installOpenApi(app: FastifyInstance, version: string): OpenApiCollector {
  const routes: CollectedRoute[] = [];
  app.addHook('onRoute', (opts) => {
    if (!isDocumented(opts.url ?? opts.path)) return;
    const methods = Array.isArray(opts.method) ? opts.method : [opts.method];
    for (const method of methods) {
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      routes.push({
        method,
        url: opts.url ?? opts.path,
        schema: opts.schema as CollectedRoute['schema'],
        config: (opts.config ?? {}) as CollectedRoute['config'],
      });
    }
  });
  let cached: Record<string, unknown> | undefined;
  let cachedCount = -1;
  const document = (): Record<string, unknown> => {
    if (!cached || cachedCount !== routes.length) {
      cached = buildOpenApiDocument(routes, version);
      cachedCount = routes.length;
    }
    return cached;
  };
  const cfg = { auth: 'none', tags: ['openapi'] } as const;
  app.get('/openapi', { config: { ...cfg, summary: 'Browsable API documentation' }, schema: { response: { 200: { type: 'string' } } } },
    async (_req, reply) => reply.type('text/html; charset=utf-8').send(renderOpenApiPage(document())));
  app.get('/openapi/openapi.json', { config: { ...cfg, summary: 'OpenAPI document (JSON)' }, schema: { response: { 200: { type: 'object', additionalProperties: true } } } },
    async () => document());
  app.get('/openapi/openapi.yaml', { config: { ...cfg, summary: 'OpenAPI document (YAML)' }, schema: { response: { 200: { type: 'string' } } } },
    async (_req, reply) => reply.type('application/yaml').send(yaml.dump(document(), { noRefs: true })));
  return { routes, document };
}
