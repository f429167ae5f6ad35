/**
 * Collects every route as it is registered (onRoute) and serves the OpenAPI
 * document built from them at /openapi/openapi.{json,yaml}, plus a browsable
 * page at /openapi. Must be installed before any other route.
 */
import type { FastifyInstance } from 'fastify';
import { lazy } from '../../util/lazy';
import { buildOpenApiDocument, type CollectedRoute } from '../openapi/document';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { renderOpenApiPage, SWAGGER_UI_BASE } from '../openapi/page';

// the YAML form is asked for rarely: its serializer loads on the first request
const jsYaml = lazy(() => require('js-yaml') as typeof import('js-yaml'));

export interface OpenApiCollector { routes: CollectedRoute[]; document(): Record<string, unknown> }

/**
 * What the document covers, as SFTPGo's openapi.yaml does: the REST API
 * (/api/v2/...) and /healthz. The web UIs and their assets, /metrics and the
 * documentation pages themselves are not API operations.
 */
export function isDocumented(url: string): boolean {
  return url === '/healthz' || url.startsWith('/api/v2/');
}

/** swagger-ui-dist's folder, or undefined when the package is not installed (the page then lists operations itself). */
function swaggerUiDir(): string | undefined {
  try {
    return dirname(require.resolve('swagger-ui-dist/package.json'));
  } catch {
    return undefined;
  }
}

/** Our own initializer: a file, not an inline script, so a strict CSP in front of us still allows it. */
const SWAGGER_INIT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({ url: '/openapi/openapi.json', dom_id: '#swagger-ui', deepLinking: true });
});
`;

function registerSwaggerUi(app: FastifyInstance, dir: string): void {
  const cfg = { auth: 'none', tags: ['openapi'] } as const;
  const schema = { response: { 200: { type: 'string' } } };
  // the two assets the page needs, read once on first use (the bundle is about 1.5 MB)
  const assets: Record<string, { file: string; type: string; body?: Promise<Buffer> }> = {
    'swagger-ui.css': { file: 'swagger-ui.css', type: 'text/css; charset=utf-8' },
    'swagger-ui-bundle.js': { file: 'swagger-ui-bundle.js', type: 'application/javascript; charset=utf-8' },
  };
  for (const [name, a] of Object.entries(assets)) {
    app.get(`${SWAGGER_UI_BASE}/${name}`, { config: { ...cfg, summary: `Swagger UI asset ${name}` }, schema }, async (_req, reply) => {
      a.body ??= readFile(join(dir, a.file));
      const body = await a.body.catch((e: unknown) => {
        a.body = undefined;
        throw e;
      });
      return reply.type(a.type).header('cache-control', 'public, max-age=3600').send(body);
    });
  }
  app.get(`${SWAGGER_UI_BASE}/init.js`, { config: { ...cfg, summary: 'Swagger UI initializer' }, schema },
    async (_req, reply) => reply.type('application/javascript; charset=utf-8').send(SWAGGER_INIT));
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
  const uiDir = swaggerUiDir();
  if (uiDir !== undefined) registerSwaggerUi(app, uiDir);
  app.get('/openapi', { config: { ...cfg, summary: 'Browsable API documentation' }, schema: { response: { 200: { type: 'string' } } } },
    async (_req, reply) => reply.type('text/html; charset=utf-8').send(renderOpenApiPage(document(), uiDir !== undefined)));
  app.get('/openapi/openapi.json', { config: { ...cfg, summary: 'OpenAPI document (JSON)' }, schema: { response: { 200: { type: 'object', additionalProperties: true } } } },
    async () => document());
  app.get('/openapi/openapi.yaml', { config: { ...cfg, summary: 'OpenAPI document (YAML)' }, schema: { response: { 200: { type: 'string' } } } },
    async (_req, reply) => reply.type('application/yaml').send(jsYaml().dump(document(), { noRefs: true })));
  return { routes, document };
}
