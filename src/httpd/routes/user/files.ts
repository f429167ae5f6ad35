/**
 * The user file API (SFTPGo 2.7 paths and JSON): /api/v2/user/dirs,
 * /user/files (download, delete, deprecated rename), /user/file-actions
 * move and copy, /user/files/metadata and /user/streamzip. Each request runs
 * in its own `common` session (session.ts); this file only translates.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FsError } from '../../../common/errors';
import type { FileOps } from '../../../common/types';
import type { FileInfo } from '../../../vfs/fs';
import { S_IFLNK, S_IFMT } from '../../../vfs/fs';
import { parseRange } from '../../../util/http-range';
import { mimeTypeOf } from '../../../webdavd/mime';
import { downloadPump } from '../../../common/pump';
import type { HttpDeps } from '../../deps';
import { message } from '../../deps';
import { ApiError } from '../../errors';
import { writeZipSelection, zipFileName } from '../../zipselect';
import { boolQuery, mkdirParents, openUserSession, requestUser, userPath } from './session';

const tags = ['user APIs'];
const GO_MODE_DIR = 2 ** 31;
const GO_MODE_SYMLINK = 2 ** 27;

interface PathQuery { path?: string; target?: string; mkdir_parents?: string; inline?: string }

/** Go's os.FileMode as SFTPGo's JSON carries it (type bits high, permissions low). */
export function goFileMode(fi: FileInfo): number {
  let m = fi.mode & 0o777;
  if (fi.isDirectory) m += GO_MODE_DIR;
  else if ((fi.mode & S_IFMT) === S_IFLNK || fi.isSymlink) m += GO_MODE_SYMLINK;
  return m;
}

export function dirEntry(fi: FileInfo): Record<string, unknown> {
  const out: Record<string, unknown> = { name: fi.name };
  if (fi.isFile) out.size = fi.size;
  out.mode = goFileMode(fi);
  out.last_modified = fi.mtime.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return out;
}

/** RFC 6266 attachment header with an ASCII fallback and the UTF-8 name. */
export function attachment(name: string, disposition: 'attachment' | 'inline' = 'attachment'): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${disposition}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/**
 * Streams a file with Range support (SFTPGo downloadFile). `inlineType` shows
 * it in the browser with that forced content type (the caller picks only
 * types safe to render), sandboxed by CSP; otherwise it is an attachment.
 */
export async function sendFile(ops: FileOps, req: FastifyRequest, reply: FastifyReply, vpath: string, inlineType?: string): Promise<void> {
  const inline = inlineType !== undefined;
  if (vpath === '/') throw new ApiError(400, 'Please set the path to a valid file');
  const fi = await ops.stat(vpath);
  if (fi.isDirectory) throw new ApiError(400, `Please set the path to a valid file, "${vpath}" is a directory`);
  const rangeHeader = req.headers.range;
  if (typeof rangeHeader === 'string' && rangeHeader.includes(',')) throw new ApiError(416, `unsupported range "${rangeHeader}"`);
  let range = parseRange(typeof rangeHeader === 'string' ? rangeHeader : undefined, fi.size);
  const ifRange = req.headers['if-range'];
  if (range && typeof ifRange === 'string' && ifRange !== fi.mtime.toUTCString()) range = undefined;
  if (range === 'unsatisfiable') {
    void reply.header('content-range', `bytes */${fi.size}`);
    throw new ApiError(416, 'the requested range is not satisfiable');
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? fi.size - 1;
  // by extension alone, as SFTPGo's REST and web client downloads: no type learned from one
  // account's storage backend (WebDAV's cache) applies to another account's files here
  const type = inlineType ?? mimeTypeOf(fi.name);
  const dl = await ops.openRead(vpath, start);
  const res = reply.raw;
  res.statusCode = range ? 206 : 200;
  res.setHeader('Last-Modified', fi.mtime.toUTCString());
  res.setHeader('Content-Type', type);
  // a stored file is never interpreted by the browser as something else
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Disposition', attachment(fi.name, inline ? 'inline' : 'attachment'));
  if (inline) res.setHeader('Content-Security-Policy', "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox");
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Length', String(Math.max(0, end - start + 1)));
  if (range) res.setHeader('Content-Range', `bytes ${start}-${end}/${fi.size}`);
  void reply.hijack();
  let err: Error | undefined;
  try {
    if (end >= start) await downloadPump(dl, res, start, end);
    res.end();
  } catch (e) {
    err = new FsError('Aborted', e instanceof Error ? e.message : String(e));
    res.destroy();
  }
  await dl.close(err).catch(() => undefined);
}

export function registerUserFileRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const { ctx } = deps;
  const user = { auth: 'user' as const, tags };
  const write = { ...user, webClientDeny: 'write-disabled' as const };
  const session = (req: FastifyRequest, reply: FastifyReply, ensureRoots = false): Promise<FileOps> =>
    openUserSession(ctx, req, reply, requestUser(req), { ensureRoots });

  app.get<{ Querystring: PathQuery }>('/api/v2/user/dirs', { config: { ...user, summary: 'Read directory contents' } }, async (req, reply) => {
    const ops = await session(req, reply, true);
    const dir = userPath(ops, req.query.path);
    const out: Record<string, unknown>[] = [];
    for await (const batch of ops.readDir(dir)) for (const fi of batch) out.push(dirEntry(fi));
    return out;
  });

  app.post<{ Querystring: PathQuery }>('/api/v2/user/dirs', { config: { ...write, body: 'none', summary: 'Create a directory' } }, async (req, reply) => {
    const ops = await session(req, reply, true);
    const dir = userPath(ops, req.query.path);
    if (boolQuery(req.query.mkdir_parents)) await mkdirParents(ops, dir.slice(0, dir.lastIndexOf('/')) || '/');
    await ops.mkdir(dir);
    return reply.code(201).send(message(`Directory "${dir}" created`));
  });

  app.delete<{ Querystring: PathQuery }>('/api/v2/user/dirs', { config: { ...write, summary: 'Delete a directory and its contents' } }, async (req, reply) => {
    const ops = await session(req, reply);
    const dir = userPath(ops, req.query.path);
    const st = await ops.lstat(dir);
    if (!st.isDirectory) throw new ApiError(400, `"${dir}" is not a directory`);
    await ops.removeAll(dir);
    return message(`Directory "${dir}" deleted`);
  });

  const rename = async (req: FastifyRequest<{ Querystring: PathQuery }>, reply: FastifyReply): Promise<{ message: string }> => {
    const ops = await session(req, reply);
    if (typeof req.query.path !== 'string' || typeof req.query.target !== 'string') throw new ApiError(400, 'please set a path and a target');
    const from = userPath(ops, req.query.path);
    const to = userPath(ops, req.query.target);
    await ops.rename(from, to);
    return message(`"${from}" renamed to "${to}"`);
  };
  for (const url of ['/api/v2/user/dirs', '/api/v2/user/files']) {
    app.patch<{ Querystring: PathQuery }>(url, { config: { ...write, summary: 'Rename (deprecated, use file-actions/move)' } }, rename);
  }
  app.post<{ Querystring: PathQuery }>('/api/v2/user/file-actions/move', { config: { ...write, body: 'none', summary: 'Move (rename) a file or a directory' } }, rename);

  app.post<{ Querystring: PathQuery }>('/api/v2/user/file-actions/copy', { config: { ...write, body: 'none', summary: 'Copy a file or a directory' } }, async (req, reply) => {
    const ops = await session(req, reply, true);
    if (typeof req.query.path !== 'string' || typeof req.query.target !== 'string') throw new ApiError(400, 'please set a path and a target');
    const from = userPath(ops, req.query.path);
    const to = userPath(ops, req.query.target);
    await ops.copy(from, to);
    return message(`"${from}" copied to "${to}"`);
  });

  app.get<{ Querystring: PathQuery }>('/api/v2/user/files', { config: { ...user, summary: 'Download a single file (Range supported)' } }, async (req, reply) => {
    const ops = await session(req, reply, true);
    await sendFile(ops, req, reply, userPath(ops, req.query.path));
  });

  app.delete<{ Querystring: PathQuery }>('/api/v2/user/files', { config: { ...write, summary: 'Delete a file' } }, async (req, reply) => {
    const ops = await session(req, reply);
    const file = userPath(ops, req.query.path);
    const st = await ops.lstat(file);
    if (st.isDirectory) throw new ApiError(400, `Unable delete "${file}", it is not a file/symlink`);
    await ops.removeFile(file);
    return message(`File "${file}" deleted`);
  });

  app.patch<{ Querystring: PathQuery; Body: unknown }>('/api/v2/user/files/metadata', {
    config: { ...write, summary: 'Set the modification time of a file or directory' },
    schema: { body: { type: 'object', properties: { modification_time: { type: 'integer' } } } },
  }, async (req, reply) => {
    const mtime = (req.body as { modification_time?: number }).modification_time;
    if (mtime === undefined || typeof req.query.path !== 'string') throw new ApiError(400, 'please set a modification_time and a path');
    const ops = await session(req, reply);
    const p = userPath(ops, req.query.path);
    const when = new Date(mtime);
    if (Number.isNaN(when.getTime())) throw new ApiError(400, 'invalid modification_time');
    await ops.setStat(p, { atime: when, mtime: when });
    return message('OK');
  });

  app.post<{ Body: unknown }>('/api/v2/user/streamzip', {
    config: { ...user, summary: 'Download files and folders as one zip, streamed' },
    schema: { body: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 10000 } },
  }, async (req, reply) => {
    const ops = await session(req, reply, true);
    const files = [...new Set((req.body as string[]).map((p) => ops.cleanPath(p)))];
    await streamZip(ops, reply, files, '/', ops.user.username, (e) => {
      ctx.logger.warn('httpd', `zip download interrupted: ${e instanceof Error ? e.message : String(e)}`, { connection_id: ops.id });
    });
  });
}

/** Sends a zip of `files`; once streaming started, a failure can only break the response. */
export async function streamZip(ops: FileOps, reply: FastifyReply, files: string[], baseDir: string, owner: string,
  onError: (e: unknown) => void, allowed?: (vpath: string) => boolean): Promise<void> {
  // the first entry is checked before the 200 so an obvious refusal is a clean JSON error
  for (const f of files) {
    if (allowed && !allowed(f)) throw new ApiError(403, `"${f}" is not shared`);
    await ops.lstat(f);
  }
  const res = reply.raw;
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/zip');
  res.setHeader('Accept-Ranges', 'none');
  res.setHeader('Content-Transfer-Encoding', 'binary');
  res.setHeader('Content-Disposition', attachment(zipFileName(owner, files)));
  void reply.hijack();
  try {
    await writeZipSelection(ops, res, files, { baseDir, allowed });
    res.end();
  } catch (e) {
    onError(e);
    res.destroy();
  }
}
