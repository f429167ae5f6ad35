/** Quota scans and usage updates for users and folders (quota_scans). */
import type { FastifyInstance } from 'fastify';
import { FsError } from '../../../common/errors';
import { userInScope } from '../../scope';
import type { HttpDeps } from '../../deps';
import { message } from '../../deps';
import { ApiError } from '../../errors';
import { apiResponseSchema, errorResponses, paramsFor } from '../../schemas/common';

const cfg = { perms: ['quota_scans' as const], tags: ['quota'] };
const modeQuery = {
  type: 'object',
  properties: { mode: { type: 'string', enum: ['add', 'reset'] } },
  additionalProperties: false,
} as const;
const usageBody = {
  type: 'object',
  properties: { used_quota_size: { type: 'integer' }, used_quota_files: { type: 'integer' } },
  additionalProperties: false,
} as const;
const transferBody = {
  type: 'object',
  properties: { used_upload_data_transfer: { type: 'integer' }, used_download_data_transfer: { type: 'integer' } },
  additionalProperties: false,
} as const;
const scanResponses = { 202: apiResponseSchema, 409: apiResponseSchema, ...errorResponses };
const updateResponses = { 200: apiResponseSchema, 409: apiResponseSchema, ...errorResponses };

interface UsageBody { used_quota_size?: number; used_quota_files?: number }
interface TransferBody { used_upload_data_transfer?: number; used_download_data_transfer?: number }
type Mode = { mode?: 'add' | 'reset' };

/** reset (the default) sets absolute values, which cannot be negative; add accepts signed deltas */
function checkValues(reset: boolean, values: number[]): void {
  if (reset && values.some((v) => v < 0)) throw new ApiError(400, 'invalid usage: values cannot be negative in reset mode');
}

export function registerQuotaRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const { provider } = deps.ctx;
  const scans = deps.scans;

  app.get('/api/v2/quotas/users/scans', {
    config: { ...cfg, summary: 'Active user quota scans' },
    schema: { response: { 200: { type: 'array', items: { type: 'object', properties: { username: { type: 'string' }, start_time: { type: 'integer' } } } }, ...errorResponses } },
  }, async () => scans.activeUserScans().map((s) => ({ username: s.name, start_time: s.start_time })));

  app.post<{ Params: { username: string } }>('/api/v2/quotas/users/:username/scan', {
    config: { ...cfg, summary: 'Start a user quota scan' },
    schema: { params: paramsFor('username'), response: scanResponses },
  }, async (req, reply) => {
    // the scan walks the home the user logs in with: a group may set it
    const user = await provider.groups.withGroupSettings(await userInScope(provider, req, req.params.username));
    scans.startUserScan(user);
    return reply.code(202).send(message('Scan started'));
  });

  app.put<{ Params: { username: string }; Querystring: Mode; Body: UsageBody }>('/api/v2/quotas/users/:username/usage', {
    config: { ...cfg, summary: 'Update (mode=reset, default) or add to (mode=add) the used quota of a user' },
    schema: { params: paramsFor('username'), querystring: modeQuery, body: usageBody, response: updateResponses },
  }, async (req) => {
    const reset = req.query.mode !== 'add';
    const size = req.body.used_quota_size ?? 0;
    const files = req.body.used_quota_files ?? 0;
    checkValues(reset, [size, files]);
    await userInScope(provider, req, req.params.username);
    if (scans.isScanningUser(req.params.username)) throw new ApiError(409, 'a quota scan is in progress for this user');
    await provider.updateUserQuota(req.params.username, size, files, reset);
    return message('Quota updated');
  });

  app.put<{ Params: { username: string }; Querystring: Mode; Body: TransferBody }>('/api/v2/quotas/users/:username/transfer-usage', {
    config: { ...cfg, summary: 'Update (mode=reset, default) or add to (mode=add) the used data transfer of a user' },
    schema: { params: paramsFor('username'), querystring: modeQuery, body: transferBody, response: updateResponses },
  }, async (req) => {
    const reset = req.query.mode !== 'add';
    const up = req.body.used_upload_data_transfer ?? 0;
    const down = req.body.used_download_data_transfer ?? 0;
    checkValues(reset, [up, down]);
    await userInScope(provider, req, req.params.username);
    await provider.updateUserTransferQuota(req.params.username, up, down, reset);
    return message('Quota updated');
  });

  app.get('/api/v2/quotas/folders/scans', {
    config: { ...cfg, summary: 'Active folder quota scans' },
    schema: { response: { 200: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, start_time: { type: 'integer' } } } }, ...errorResponses } },
  }, async () => scans.activeFolderScans());

  app.post<{ Params: { name: string } }>('/api/v2/quotas/folders/:name/scan', {
    config: { ...cfg, summary: 'Start a folder quota scan' },
    schema: { params: paramsFor('name'), response: scanResponses },
  }, async (req, reply) => {
    const folder = await provider.getFolder(req.params.name);
    if (!folder) throw new FsError('NotFound', `folder ${req.params.name} not found`);
    scans.startFolderScan(folder);
    return reply.code(202).send(message('Scan started'));
  });

  app.put<{ Params: { name: string }; Querystring: Mode; Body: UsageBody }>('/api/v2/quotas/folders/:name/usage', {
    config: { ...cfg, summary: 'Update (mode=reset, default) or add to (mode=add) the used quota of a folder' },
    schema: { params: paramsFor('name'), querystring: modeQuery, body: usageBody, response: updateResponses },
  }, async (req) => {
    const reset = req.query.mode !== 'add';
    const size = req.body.used_quota_size ?? 0;
    const files = req.body.used_quota_files ?? 0;
    checkValues(reset, [size, files]);
    if (!(await provider.getFolder(req.params.name))) throw new FsError('NotFound', `folder ${req.params.name} not found`);
    if (scans.isScanningFolder(req.params.name)) throw new ApiError(409, 'a quota scan is in progress for this folder');
    await provider.updateFolderQuota(req.params.name, size, files, reset);
    return message('Quota updated');
  });
}
