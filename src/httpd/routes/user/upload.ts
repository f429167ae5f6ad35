/**
 * Uploads through the user API: POST /api/v2/user/files (multipart, several
 * files, read part by part from the socket) and POST /api/v2/user/files/upload
 * (the raw body is the file). Nothing is buffered whole or spooled to disk:
 * each chunk goes to an Upload opened through FileOps.openWrite, so the
 * permissions, filters, quota, bandwidth and atomic-upload rules are common's.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FsError, isFsError } from '../../../common/errors';
import type { FileOps, Upload } from '../../../common/types';
import { vbase, vjoin, vdir } from '../../../common/vpath';
import type { HttpDeps } from '../../deps';
import { message } from '../../deps';
import { ApiError } from '../../errors';
import { boundaryOf, MultipartError, MultipartReader } from '../../multipartstream';
import { boolQuery, mkdirParents, openUserSession, requestUser, userPath } from './session';

const tags = ['user APIs'];
/** files in one multipart request */
const MAX_FILES = 1000;
const MTIME_HEADER = 'x-sftpgo-mtime';

/** Body size cap from httpd.max_upload_file_size (0 = none), checked as data arrives. */
export function limited(src: AsyncIterable<Buffer>, max: number): AsyncIterable<Buffer> {
  if (max <= 0) return src;
  return (async function* cap() {
    let seen = 0;
    for await (const chunk of src) {
      seen += chunk.length;
      if (seen > max) throw new ApiError(413, `the request body is larger than the allowed ${max} bytes`);
      yield chunk;
    }
  })();
}

/** Writes `data` into a new upload of `vpath`; any failure aborts it (nothing half-written is committed). */
export async function receiveFile(ops: FileOps, vpath: string, data: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<void> {
  const up: Upload = await ops.openWrite(vpath, { truncate: true, append: false, exclusive: false, read: false, offset: 0 });
  let pos = 0;
  try {
    for await (const chunk of data) {
      if (chunk.length === 0) continue;
      if (!up.writeNow(chunk, pos)) await up.writeAt(chunk, pos);
      pos += chunk.length;
    }
  } catch (e) {
    const err = isFsError(e) ? e : new FsError('Aborted', e instanceof Error ? e.message : String(e));
    await up.close(err).catch(() => undefined);
    throw e;
  }
  await up.close();
}

/** SFTPGo setModificationTimeFromHeader: a bad value is ignored (logged), as there. */
async function applyMtimeHeader(deps: HttpDeps, ops: FileOps, req: FastifyRequest, vpath: string): Promise<void> {
  const raw = req.headers[MTIME_HEADER];
  if (typeof raw !== 'string' || raw === '') return;
  const ms = /^-?\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (Number.isNaN(ms)) {
    deps.ctx.logger.info('httpd', `invalid modification time header was ignored: ${raw.slice(0, 40)}`, { connection_id: ops.id });
    return;
  }
  await ops.setStat(vpath, { atime: new Date(ms), mtime: new Date(ms) }).catch((e: unknown) => {
    deps.ctx.logger.debug('httpd', `unable to set the modification time of "${vpath}": ${(e as Error).message}`, { connection_id: ops.id });
  });
}

/** Safe file name from a multipart part (SFTPGo: path.Base of the cleaned name). */
export function partFileName(raw: string): string {
  const name = vbase(`/${raw.replace(/\\/g, '/')}`.replace(/\/+$/, ''));
  if (name === '/' || name === '' || name === '.' || name === '..' || name.includes('\0')) throw new ApiError(400, `invalid file name "${raw.slice(0, 255)}"`);
  return name;
}

/** Called around each file of a multipart body (shares spend a token per file). */
export interface FileHooks { before?: () => Promise<void>; stored?: () => void }

/**
 * Reads a multipart body, storing every `filenames` part below `dir`.
 * Returns the number of files stored.
 */
export async function receiveMultipart(ops: FileOps, req: FastifyRequest, dir: string, maxSize: number,
  target: (name: string) => string = (name) => vjoin(dir, name), hooks: FileHooks = {}): Promise<number> {
  let boundary: string;
  try {
    boundary = boundaryOf(req.headers['content-type']);
  } catch (e) {
    throw new ApiError(400, `Unable to parse multipart form: ${(e as Error).message}`);
  }
  const body = limited(rawBody(req), maxSize)[Symbol.asyncIterator]();
  const reader = new MultipartReader(body, boundary);
  let stored = 0;
  try {
    for (let i = 0; i < MAX_FILES * 4; i++) {
      const part = await reader.nextPart();
      if (!part) break;
      if (part.name !== 'filenames' || part.filename === undefined) continue;
      if (stored >= MAX_FILES) throw new ApiError(400, `too many files, at most ${MAX_FILES} per request`);
      const vpath = target(partFileName(part.filename));
      await hooks.before?.();
      await receiveFile(ops, vpath, reader.partData());
      hooks.stored?.();
      stored++;
    }
  } catch (e) {
    if (e instanceof MultipartError) throw new ApiError(400, `Unable to parse multipart form: ${e.message}`);
    throw e;
  }
  return stored;
}

/** The request body; stopping early leaves the socket open so the error reply still reaches the client. */
export function rawBody(req: FastifyRequest): AsyncIterable<Buffer> {
  return req.raw.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>;
}

const DISCARD_MS = 2000;

/**
 * After a refused upload the rest of the body is read and dropped (at most
 * DISCARD_MS) before the error reply: closing a socket with unread input
 * sends a RST that can make the client lose the reply.
 */
export async function discardRest(req: FastifyRequest): Promise<void> {
  const raw = req.raw;
  if (raw.readableEnded || raw.destroyed) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(finish, DISCARD_MS);
    timer.unref();
    function finish(): void {
      clearTimeout(timer);
      raw.off('end', finish);
      raw.off('close', finish);
      raw.off('error', finish);
      resolve();
    }
    raw.on('end', finish);
    raw.on('close', finish);
    raw.on('error', finish);
    raw.resume();
  });
}

/** Runs an upload handler; on failure the body is drained first, then the error is answered. */
export async function drainingOnError<T>(req: FastifyRequest, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    await discardRest(req);
    throw e;
  }
}

/** Upload routes need the raw body: this scope has no parser that reads it. */
export function registerUserUploadRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const maxSize = deps.ctx.config.httpd.max_upload_file_size;
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => { done(null, undefined); });
    const write = { auth: 'user' as const, tags, webClientDeny: 'write-disabled' as const };
    const session = (req: FastifyRequest, reply: FastifyReply): Promise<FileOps> =>
      openUserSession(deps.ctx, req, reply, requestUser(req), { ensureRoots: true });

    scope.post<{ Querystring: { path?: string; mkdir_parents?: string } }>('/api/v2/user/files', {
      config: { ...write, body: 'multipart', summary: 'Upload one or more files (multipart/form-data, field "filenames")' },
    }, async (req, reply) => drainingOnError(req, async () => {
      const ops = await session(req, reply);
      const dir = userPath(ops, req.query.path);
      if (boolQuery(req.query.mkdir_parents)) await mkdirParents(ops, dir);
      const n = await receiveMultipart(ops, req, dir, maxSize);
      if (n === 0) throw new ApiError(400, 'No files uploaded!');
      return reply.code(201).send(message('Upload completed'));
    }));

    scope.post<{ Querystring: { path?: string; mkdir_parents?: string } }>('/api/v2/user/files/upload', {
      config: { ...write, body: 'binary', summary: 'Upload a single file, the request body is its content' },
    }, async (req, reply) => drainingOnError(req, async () => {
      if (typeof req.query.path !== 'string') throw new ApiError(400, 'please set a file path');
      const ops = await session(req, reply);
      const file = userPath(ops, req.query.path);
      if (file === '/') throw new ApiError(400, 'please set a file path');
      if (boolQuery(req.query.mkdir_parents)) await mkdirParents(ops, vdir(file));
      await receiveFile(ops, file, limited(rawBody(req), maxSize));
      await applyMtimeHeader(deps, ops, req, file);
      return reply.code(201).send(message('Upload completed'));
    }));
  });
}
