/**
 * /api/v2/defender/hosts (view_defender / manage_defender) and
 * /api/v2/iplists/{type} (every permission, as SFTPGo), in SFTPGo's JSON.
 * IP list writes go to the provider, then the running perimeter reloads
 * its lookup tables, so a new deny entry applies to the next connection.
 */
import type { FastifyInstance } from 'fastify';
import { FsError } from '../../../common/errors';
import { canonicalIpOrNet, ipListTypeOf, validateIpListEntry, type IpListEntry } from '../../../dataprovider/iplist';
import { asObj, ValidationError } from '../../../dataprovider/validation';
import { ipBytes } from '../../../util/ipnet';
import type { HttpDeps } from '../../deps';
import { message } from '../../deps';
import { ApiError } from '../../errors';
import { apiResponseSchema, errorResponses, intString } from '../../schemas/common';

const hostSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, ip: { type: 'string' }, score: { type: 'integer' }, ban_time: { type: 'string' } },
} as const;

const entrySchema = {
  type: 'object',
  properties: {
    ipornet: { type: 'string' }, description: { type: 'string' }, type: { type: 'integer' }, mode: { type: 'integer' },
    protocols: { type: 'integer' }, created_at: { type: 'integer' }, updated_at: { type: 'integer' },
  },
} as const;

const typeParam = { type: 'string', pattern: '^[0-9]{1,2}$' } as const;
const netParam = { type: 'string', pattern: '^[0-9a-fA-F:./]{2,64}$' } as const;
const listParams = { type: 'object', properties: { type: typeParam }, required: ['type'] } as const;
const entryParams = { type: 'object', properties: { type: typeParam, ipornet: netParam }, required: ['type', 'ipornet'] } as const;
const idParams = { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9a-fA-F]{2,128}$' } }, required: ['id'] } as const;
const listQuery = {
  type: 'object',
  properties: { filter: { type: 'string', maxLength: 64 }, from: { type: 'string', maxLength: 64 }, order: { type: 'string', enum: ['ASC', 'DESC'] }, limit: intString },
  additionalProperties: false,
} as const;

interface ListParams { type: string }
interface EntryParams { type: string; ipornet: string }
interface ListQuery { filter?: string; from?: string; order?: 'ASC' | 'DESC'; limit?: string }

/** The IP a defender host id (hex of the IP text) stands for; 400 when it is no IP. */
function ipOfId(id: string): string {
  const ip = Buffer.from(id, 'hex').toString('utf8');
  if (!ipBytes(ip)) throw new ApiError(400, `ip address "${ip}" is not valid`);
  return ip;
}

export function registerPerimeterRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const { perimeter, provider } = deps.ctx;
  const store = provider.backend.perimeter;
  const tags = ['defender'];

  app.get('/api/v2/defender/hosts', {
    config: { perms: ['view_defender'], tags, summary: 'Banned hosts and hosts with a score' },
    schema: { response: { 200: { type: 'array', items: hostSchema }, ...errorResponses } },
  }, () => perimeter.defenderHosts());

  app.get<{ Params: { id: string } }>('/api/v2/defender/hosts/:id', {
    config: { perms: ['view_defender'], tags, summary: 'One defender host by id (hex-encoded IP)' },
    schema: { params: idParams, response: { 200: hostSchema, ...errorResponses } },
  }, async (req) => {
    const host = await perimeter.defenderHost(ipOfId(req.params.id));
    if (!host) throw new FsError('NotFound', 'host not found');
    return host;
  });

  app.delete<{ Params: { id: string } }>('/api/v2/defender/hosts/:id', {
    config: { perms: ['manage_defender'], tags, summary: 'Unban / forget a host' },
    schema: { params: idParams, response: { 200: apiResponseSchema, ...errorResponses } },
  }, async (req) => {
    if (!(await perimeter.deleteDefenderHost(ipOfId(req.params.id)))) throw new FsError('NotFound', 'Not found');
    return message('OK');
  });

  const listTags = ['IP lists'];
  const cfg = { perms: ['*'], tags: listTags } as const;

  app.get<{ Params: ListParams; Querystring: ListQuery }>('/api/v2/iplists/:type', {
    config: { ...cfg, perms: [...cfg.perms], tags: [...listTags], summary: 'List IP list entries' },
    schema: { params: listParams, querystring: listQuery, response: { 200: { type: 'array', items: entrySchema }, ...errorResponses } },
  }, async (req) => {
    const q = req.query;
    const limit = q.limit !== undefined ? Math.min(Number(q.limit), 500) : 100;
    return store.listIpListEntries(ipListTypeOf(req.params.type), { filter: q.filter, from: q.from, order: q.order ?? 'ASC', limit: limit > 0 ? limit : 100 });
  });

  app.post<{ Params: ListParams }>('/api/v2/iplists/:type', {
    config: { ...cfg, perms: [...cfg.perms], tags: [...listTags], summary: 'Add an IP list entry' },
    schema: { params: listParams, body: { type: 'object' }, response: { 201: apiResponseSchema, 409: apiResponseSchema, ...errorResponses } },
  }, async (req, reply) => {
    const type = ipListTypeOf(req.params.type);
    const body = asObj(req.body, 'IP list entry');
    if (body.type !== undefined && body.type !== type) throw new ValidationError(`type ${String(body.type)} does not match the list ${type}`);
    const entry = validateIpListEntry({ ...body, type }, Date.now());
    await store.addIpListEntry(entry);
    await perimeter.reloadIpLists();
    reply.header('location', `/api/v2/iplists/${type}/${encodeURIComponent(entry.ipornet)}`);
    return reply.code(201).send(message('Entry added'));
  });

  const existing = async (p: EntryParams): Promise<IpListEntry> => {
    const type = ipListTypeOf(p.type);
    const e = await store.getIpListEntry(type, canonicalIpOrNet(p.ipornet));
    if (!e) throw new FsError('NotFound', `IP list entry ${p.ipornet} does not exist`);
    return e;
  };

  app.get<{ Params: EntryParams }>('/api/v2/iplists/:type/:ipornet', {
    config: { ...cfg, perms: [...cfg.perms], tags: [...listTags], summary: 'Get an IP list entry' },
    schema: { params: entryParams, response: { 200: entrySchema, ...errorResponses } },
  }, (req) => existing(req.params));

  app.put<{ Params: EntryParams }>('/api/v2/iplists/:type/:ipornet', {
    config: { ...cfg, perms: [...cfg.perms], tags: [...listTags], summary: 'Update an IP list entry (type and ipornet stay)' },
    schema: { params: entryParams, body: { type: 'object' }, response: { 200: apiResponseSchema, ...errorResponses } },
  }, async (req) => {
    const prev = await existing(req.params);
    const entry = validateIpListEntry({ ...asObj(req.body, 'IP list entry'), type: prev.type, ipornet: prev.ipornet }, Date.now(), prev);
    await store.updateIpListEntry(entry);
    await perimeter.reloadIpLists();
    return message('Entry updated');
  });

  app.delete<{ Params: EntryParams }>('/api/v2/iplists/:type/:ipornet', {
    config: { ...cfg, perms: [...cfg.perms], tags: [...listTags], summary: 'Delete an IP list entry' },
    schema: { params: entryParams, response: { 200: apiResponseSchema, ...errorResponses } },
  }, async (req) => {
    const prev = await existing(req.params);
    await store.deleteIpListEntry(prev.type, prev.ipornet);
    await perimeter.reloadIpLists();
    return message('Entry deleted');
  });
}
