/**
 * Backup and restore: GET /api/v2/dumpdata, GET|POST /api/v2/loaddata
 * (manage_system). Backup files live in data_provider.backups_path
 * (relative to the config dir) and are addressed by bare file name only.
 * A dump is a backup: it carries the stored password hashes, as SFTPGo's.
 */
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { FsError } from '../../../common/errors';
import type { HttpDeps } from '../../deps';
import { message } from '../../deps';
import { ApiError } from '../../errors';
import { apiResponseSchema, errorResponses, openObject } from '../../schemas/common';

export const LOADDATA_BODY_LIMIT = 10 * 1024 * 1024;

const cfg = { perms: ['manage_system' as const], tags: ['maintenance'] };

export function backupsDir(deps: HttpDeps): string {
  const p = deps.ctx.config.data_provider.backups_path || 'backups';
  return isAbsolute(p) ? p : resolve(deps.ctx.runtime.configDir, p);
}

/** Only a plain file name is accepted: no separators, no "..", nothing absolute. */
export function backupFilePath(deps: HttpDeps, name: string): string {
  if (name === '' || name === '.' || name === '..' || basename(name) !== name || /[\\/\x00]/.test(name)) {
    throw new ApiError(400, `invalid backup file name "${name}": only a file name inside the backups directory is allowed`);
  }
  return join(backupsDir(deps), name);
}

const dumpQuery = {
  type: 'object',
  properties: {
    'output-file': { type: 'string', maxLength: 255 },
    'output-data': { type: 'string', enum: ['0', '1'] },
    indent: { type: 'string', enum: ['0', '1'] },
  },
  additionalProperties: false,
} as const;

const loadQueryProps = {
  mode: { type: 'string', enum: ['0', '1', '2'] },
  'scan-quota': { type: 'string', enum: ['0', '1', '2'] },
} as const;

interface DumpQuery { 'output-file'?: string; 'output-data'?: '0' | '1'; indent?: '0' | '1' }
interface LoadQuery { mode?: '0' | '1' | '2'; 'scan-quota'?: '0' | '1' | '2'; 'input-file'?: string }

export function registerMaintenanceRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const { provider, connections } = deps.ctx;

  app.get<{ Querystring: DumpQuery }>('/api/v2/dumpdata', {
    config: { ...cfg, summary: 'Backup data (output-data=1 returns it, output-file writes it to the backups dir)' },
    schema: { querystring: dumpQuery, response: { 200: openObject, ...errorResponses } },
  }, async (req, reply) => {
    const outputData = req.query['output-data'] === '1';
    const outputFile = req.query['output-file'] ?? '';
    if (!outputData && outputFile === '') throw new ApiError(400, 'output-file or output-data=1 is required');
    const target = outputData ? '' : backupFilePath(deps, outputFile);
    const dump = await provider.dump();
    if (outputData) {
      return reply.header('content-disposition', `attachment; filename="sftpgo-backup-${Date.now()}.json"`).send(dump);
    }
    const text = req.query.indent === '1' ? JSON.stringify(dump, null, 2) : JSON.stringify(dump);
    await mkdir(backupsDir(deps), { recursive: true, mode: 0o700 });
    // write then rename, so an existing backup is never left half overwritten
    const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, text, { mode: 0o600 });
    await rename(tmp, target);
    deps.ctx.logger.info('httpd', `backup saved to ${target}`);
    return reply.send(message('Data saved'));
  });

  const restore = async (body: unknown, q: LoadQuery): Promise<{ message: string }> => {
    const mode = Number(q.mode ?? '0');
    const { users } = await provider.restore(body, mode);
    // the dump may carry IP lists: the running perimeter reads them again
    await deps.ctx.perimeter.reloadIpLists();
    if (mode === 2) for (const u of users) connections.closeUser(u);
    const scanMode = q['scan-quota'] ?? '0';
    if (scanMode !== '0') {
      for (const name of users) {
        const stored = await provider.getUser(name);
        if (!stored) continue;
        // the home and quota a group gives count, as at login
        const user = await provider.groups.withGroupSettings(stored);
        const limited = (user.quota_size ?? 0) > 0 || (user.quota_files ?? 0) > 0;
        if (scanMode === '2' && !limited) continue;
        try {
          deps.scans.startUserScan(user);
        } catch (e) {
          deps.ctx.logger.warn('httpd', `quota scan after restore not started for ${name}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    }
    return message('Data restored');
  };

  app.post<{ Querystring: LoadQuery }>('/api/v2/loaddata', {
    bodyLimit: LOADDATA_BODY_LIMIT,
    config: { ...cfg, summary: 'Restore data from the request body (mode 0 add+update, 1 add only, 2 add+update+disconnect)' },
    schema: {
      querystring: { type: 'object', properties: loadQueryProps, additionalProperties: false },
      body: openObject,
      response: { 200: apiResponseSchema, ...errorResponses },
    },
  }, async (req) => restore(req.body, req.query));

  app.get<{ Querystring: LoadQuery }>('/api/v2/loaddata', {
    config: { ...cfg, summary: 'Restore data from a file in the backups dir' },
    schema: {
      querystring: {
        type: 'object',
        properties: { ...loadQueryProps, 'input-file': { type: 'string', minLength: 1, maxLength: 255 } },
        required: ['input-file'],
        additionalProperties: false,
      },
      response: { 200: apiResponseSchema, ...errorResponses },
    },
  }, async (req) => {
    const file = backupFilePath(deps, req.query['input-file'] ?? '');
    let st;
    try {
      st = await stat(file);
    } catch {
      throw new FsError('NotFound', `backup file ${req.query['input-file']} not found`);
    }
    if (!st.isFile()) throw new ApiError(400, 'the backup path is not a file');
    if (st.size > LOADDATA_BODY_LIMIT) throw new ApiError(413, 'the backup file is too large');
    let body: unknown;
    try {
      body = JSON.parse(await readFile(file, 'utf8'));
    } catch {
      throw new ApiError(400, 'the backup file is not valid JSON');
    }
    return restore(body, req.query);
  });
}
