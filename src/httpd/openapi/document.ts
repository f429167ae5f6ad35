/**
 * Builds the OpenAPI 3 document from the routes Fastify registered (their
 * JSON schemas and route config), so the document cannot drift from the code.
 */
import { STATUS_CODES } from 'node:http';
import type { HttpRouteConfig } from '../types';

export interface CollectedRoute {
  method: string;
  /** Fastify syntax: /api/v2/users/:username */
  url: string;
  schema?: {
    params?: unknown; querystring?: unknown; body?: unknown; response?: Record<string, unknown>;
  };
  config: HttpRouteConfig;
}

type JsonObject = Record<string, unknown>;

export function toOpenApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{wildcard}');
}

function asObject(v: unknown): JsonObject | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : undefined;
}

function parameters(schema: unknown, where: 'path' | 'query'): JsonObject[] {
  const s = asObject(schema);
  const props = asObject(s?.['properties']);
  if (!props) return [];
  const required = Array.isArray(s?.['required']) ? (s?.['required'] as string[]) : [];
  return Object.entries(props).map(([name, sch]) => ({
    name,
    in: where,
    required: where === 'path' ? true : required.includes(name),
    schema: sch,
  }));
}

function isTextSchema(schema: unknown): boolean {
  return asObject(schema)?.['type'] === 'string';
}

function responses(resp: Record<string, unknown> | undefined): JsonObject {
  const out: JsonObject = {};
  for (const [code, schema] of Object.entries(resp ?? {})) {
    const media = isTextSchema(schema) ? 'text/plain' : 'application/json';
    out[code] = { description: STATUS_CODES[Number(code)] ?? 'response', content: { [media]: { schema } } };
  }
  if (Object.keys(out).length === 0) out['200'] = { description: 'OK' };
  return out;
}

function security(r: CollectedRoute): JsonObject[] | undefined {
  if (r.url === '/api/v2/token') return [{ BasicAuth: [] }];
  if (r.config.auth === 'none') return [];
  if (!r.url.startsWith('/api/v2/')) return undefined;
  return r.config.noApiKey ? [{ BearerAuth: [] }] : [{ BearerAuth: [] }, { APIKeyAuth: [] }];
}

export function buildOpenApiDocument(routes: readonly CollectedRoute[], version: string): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const r of routes) {
    const p = toOpenApiPath(r.url);
    const op: JsonObject = {
      summary: r.config.summary ?? `${r.method} ${p}`,
      operationId: `${r.method.toLowerCase()}${p.replace(/[^A-Za-z0-9]+/g, '_')}`,
      tags: [...(r.config.tags ?? [])],
      parameters: [...parameters(r.schema?.params, 'path'), ...parameters(r.schema?.querystring, 'query')],
      responses: responses(r.schema?.response),
    };
    if (r.schema?.body !== undefined) {
      op['requestBody'] = { required: true, content: { 'application/json': { schema: r.schema.body } } };
    } else if (r.config.body === 'multipart') {
      op['requestBody'] = { required: true, content: { 'multipart/form-data': { schema: {
        type: 'object', properties: { filenames: { type: 'array', items: { type: 'string', format: 'binary' } } },
      } } } };
    } else if (r.config.body === 'binary') {
      op['requestBody'] = { required: true, content: { '*/*': { schema: { type: 'string', format: 'binary' } } } };
    } else if (r.config.body === 'none') {
      // an explicit "takes no body" for readers (and the test that every other POST/PUT documents one)
      op['x-bodiless'] = true;
    }
    const sec = security(r);
    if (sec !== undefined) op['security'] = sec;
    (paths[p] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'sftpgo-ts',
      description: 'SFTPGo-compatible REST API v2',
      version,
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: {
        BasicAuth: { type: 'http', scheme: 'basic' },
        BearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        APIKeyAuth: { type: 'apiKey', in: 'header', name: 'X-SFTPGO-API-KEY' },
      },
    },
  };
}
