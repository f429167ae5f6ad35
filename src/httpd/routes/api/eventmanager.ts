/**
 * /api/v2/eventactions, /api/v2/eventrules and /api/v2/eventrules/run/{name}
 * (SFTPGo's event manager API, permission manage_event_rules). Validation,
 * secrets and execution live behind ctx.eventManager; objects come out with
 * the HTTP action password reduced to its status.
 */
import type { FastifyInstance } from 'fastify';
import { FsError } from '../../../common/errors';
import type { AdminPermission } from '../../../dataprovider/models';
import type { HttpDeps } from '../../deps';
import { executorOf, message } from '../../deps';
import { apiResponseSchema, errorResponses, openObject, paramsFor } from '../../schemas/common';

interface NameParams { name: string }

const params = paramsFor('name');
const perms: AdminPermission[] = ['manage_event_rules'];
const list = { type: 'array', items: openObject } as const;

export function registerEventManagerRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const em = deps.ctx.eventManager;
  const kinds = [
    { path: 'eventactions', tag: 'event manager', what: 'event action', list: () => em.listActions(), get: (n: string) => em.getAction(n),
      add: em.addAction.bind(em), update: em.updateAction.bind(em), del: em.deleteAction.bind(em) },
    { path: 'eventrules', tag: 'event manager', what: 'event rule', list: () => em.listRules(), get: (n: string) => em.getRule(n),
      add: em.addRule.bind(em), update: em.updateRule.bind(em), del: em.deleteRule.bind(em) },
  ] as const;
  for (const k of kinds) {
    const tags = [k.tag];
    app.get(`/api/v2/${k.path}`, {
      config: { perms, summary: `List ${k.what}s`, tags },
      schema: { response: { 200: list, ...errorResponses } },
    }, async () => k.list());

    app.post(`/api/v2/${k.path}`, {
      config: { perms, summary: `Add an ${k.what}`, tags },
      schema: { body: openObject, response: { 201: openObject, 409: apiResponseSchema, ...errorResponses } },
    }, async (req, reply) => {
      const out = await k.add(req.body, executorOf(req));
      reply.header('location', `/api/v2/${k.path}/${encodeURIComponent(out.name)}`);
      return reply.code(201).send(out);
    });

    app.get<{ Params: NameParams }>(`/api/v2/${k.path}/:name`, {
      config: { perms, summary: `Get an ${k.what}`, tags },
      schema: { params, response: { 200: openObject, ...errorResponses } },
    }, async (req) => {
      const out = await k.get(req.params.name);
      if (!out) throw new FsError('NotFound', `${k.what} ${req.params.name} not found`);
      return out;
    });

    app.put<{ Params: NameParams }>(`/api/v2/${k.path}/:name`, {
      config: { perms, summary: `Update an ${k.what}`, tags },
      schema: { params, body: openObject, response: { 200: apiResponseSchema, ...errorResponses } },
    }, async (req) => {
      await k.update(req.params.name, req.body, executorOf(req));
      return message(k.what === 'event rule' ? 'Event rules updated' : 'Event action updated');
    });

    app.delete<{ Params: NameParams }>(`/api/v2/${k.path}/:name`, {
      config: { perms, summary: `Delete an ${k.what}`, tags },
      schema: { params, response: { 200: apiResponseSchema, ...errorResponses } },
    }, async (req) => {
      await k.del(req.params.name, executorOf(req));
      return message(k.what === 'event rule' ? 'Event rule deleted' : 'Event action deleted');
    });
  }

  app.post<{ Params: NameParams }>('/api/v2/eventrules/run/:name', {
    config: { perms, summary: 'Run an on-demand event rule', tags: ['event manager'] },
    schema: { params, response: { 202: apiResponseSchema, ...errorResponses } },
  }, async (req, reply) => {
    await deps.ctx.eventManager.runRule(req.params.name);
    return reply.code(202).send(message('Event rule started'));
  });
}
