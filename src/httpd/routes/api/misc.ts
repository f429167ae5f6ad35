/** /healthz, /api/v2/version, /api/v2/status. */
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../../deps';
import { errorResponses, openObject, stringArray } from '../../schemas/common';

const open = openObject;
const active = { type: 'object', properties: { is_active: { type: 'boolean' } } } as const;
const nullableArray = (items: unknown) => ({ type: 'array', nullable: true, items }) as const;

/** SFTPGo's ServicesStatus (bindings are the configured binding objects of the running service). */
const statusSchema = {
  type: 'object',
  properties: {
    ssh: {
      type: 'object',
      properties: {
        is_active: { type: 'boolean' },
        bindings: nullableArray({ type: 'object', properties: { address: { type: 'string' }, port: { type: 'integer' }, apply_proxy_config: { type: 'boolean' } } }),
        host_keys: nullableArray({ type: 'object', properties: { path: { type: 'string' }, fingerprint: { type: 'string' }, algorithms: stringArray } }),
        ssh_commands: stringArray,
        authentications: stringArray,
        public_key_algorithms: stringArray,
        macs: stringArray,
        kex_algorithms: stringArray,
        ciphers: stringArray,
      },
    },
    ftp: {
      type: 'object',
      properties: {
        is_active: { type: 'boolean' },
        bindings: nullableArray(open),
        passive_port_range: { type: 'object', properties: { start: { type: 'integer' }, end: { type: 'integer' } } },
      },
    },
    webdav: { type: 'object', properties: { is_active: { type: 'boolean' }, bindings: nullableArray(open) } },
    data_provider: { type: 'object', properties: { is_active: { type: 'boolean' }, driver: { type: 'string' }, error: { type: 'string' } } },
    defender: active,
    mfa: {
      type: 'object',
      properties: {
        is_active: { type: 'boolean' },
        totp_configs: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, issuer: { type: 'string' }, algo: { type: 'string' } } } },
      },
    },
    allow_list: active,
    rate_limiters: { type: 'object', properties: { is_active: { type: 'boolean' }, protocols: stringArray } },
  },
} as const;

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
    config: { allowPending2fa: true, summary: 'Version info', tags: ['maintenance'] },
    schema: { response: { 200: versionSchema, ...errorResponses } },
  }, async () => deps.ctx.version);

  app.get('/api/v2/status', {
    config: { perms: ['view_status'], summary: 'Services status', tags: ['maintenance'] },
    schema: { response: { 200: statusSchema, ...errorResponses } },
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
