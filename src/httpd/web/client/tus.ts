/**
 * Resumable browser uploads: the tus 1.0.0 core protocol with the creation
 * and termination extensions, under /web/client/tus (session cookie and
 * X-CSRF-Token). Each upload keeps one Upload opened through common's
 * FileOps.openWrite for its whole life, in a session of its own registered
 * with the connection manager (protocol HTTP): permissions, filters, quota,
 * bandwidth, upload_mode (atomic uploads) and the transfer log are common's.
 * A PATCH writes each chunk as it arrives, so a dropped connection keeps what
 * was received and the client resumes from HEAD's Upload-Offset; chunked
 * PATCHes pass proxies that cap request bodies. Uploads live in memory: a
 * restart or UNFINISHED_TTL_MS of inactivity aborts them.
 */
import { CancelledUpload } from '../../../common/upload-outcome';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../../../common/context';
import { FsError, isFsError } from '../../../common/errors';
import type { FileOps, Upload } from '../../../common/types';
import { vjoin } from '../../../common/vpath';
import type { User } from '../../../dataprovider/models';
import { ApiError } from '../../errors';
import { rawBody } from '../../routes/user/upload';
import { userPath } from '../../routes/user/session';
import { segment } from './actions';
import type { ClientApp, ClientRequest } from './app';

const TUS_VERSION = '1.0.0';
export const UNFINISHED_TTL_MS = 24 * 3600_000;
/** open resumable uploads per user */
const MAX_PER_USER = 20;

interface Entry {
  id: string;
  username: string;
  vpath: string;
  length: number;
  offset: number;
  ops: FileOps;
  up: Upload;
  lastActivity: number;
  busy: boolean;
}

function metadata(header: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (typeof header !== 'string') return out;
  for (const pair of header.split(',').slice(0, 20)) {
    const [k, v] = pair.trim().split(' ');
    if (!k) continue;
    out.set(k, v ? Buffer.from(v, 'base64').toString('utf8') : '');
  }
  return out;
}

export class TusUploads {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly ctx: ServerContext, private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => { void this.sweep(); }, 60_000);
    this.sweeper.unref();
  }

  /** Aborts uploads idle for longer than the TTL. */
  async sweep(): Promise<void> {
    for (const e of [...this.entries.values()]) {
      if (!e.busy && this.now() - e.lastActivity > UNFINISHED_TTL_MS) await this.abort(e, 'resumable upload expired');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    for (const e of [...this.entries.values()]) await this.abort(e, 'server stopping');
  }

  /** `err`: why it ends; a CancelledUpload (the client's DELETE) is never kept, even with upload_mode 4/8/16 */
  private async abort(e: Entry, reason: string, err: FsError = new FsError('Aborted', reason)): Promise<void> {
    this.entries.delete(e.id);
    await e.up.close(err).catch(() => undefined);
    await this.ctx.connections.remove(e.ops.id).catch(() => undefined);
  }

  get(id: string, user: User): Entry {
    const e = this.entries.get(id);
    if (!e || e.username !== user.username) throw new ApiError(404, 'upload not found');
    return e;
  }

  async create(r: ClientRequest, length: number, dirRaw: string, name: string): Promise<Entry> {
    if ([...this.entries.values()].filter((e) => e.username === r.user.username).length >= MAX_PER_USER) {
      throw new ApiError(429, `at most ${MAX_PER_USER} unfinished resumable uploads`);
    }
    // the upload outlives requests: its session is removed when it ends, not with the response
    const ops = this.ctx.connections.add({
      protocol: 'HTTP', user: r.user, remoteAddr: `${r.req.clientIp}:0`,
      localAddr: `${r.req.raw.socket.localAddress ?? ''}:${r.req.raw.socket.localPort ?? 0}`,
      clientVersion: String(r.req.headers['user-agent'] ?? ''),
      session: { disconnect: () => { const e = [...this.entries.values()].find((x) => x.ops === ops); if (e) void this.abort(e, 'disconnected'); } },
    });
    try {
      await ops.ensureRoots?.().catch(() => undefined);
      const vpath = vjoin(userPath(ops, dirRaw), name);
      const up = await ops.openWrite(vpath, { truncate: true, append: false, exclusive: false, read: false, offset: 0 });
      const e: Entry = { id: randomBytes(16).toString('hex'), username: r.user.username, vpath, length, offset: 0, ops, up, lastActivity: this.now(), busy: false };
      this.entries.set(e.id, e);
      if (length === 0) await this.finish(e);
      return e;
    } catch (err) {
      await this.ctx.connections.remove(ops.id).catch(() => undefined);
      throw err;
    }
  }

  private async finish(e: Entry): Promise<void> {
    this.entries.delete(e.id);
    try {
      await e.up.close();
    } finally {
      await this.ctx.connections.remove(e.ops.id).catch(() => undefined);
    }
  }

  /** Appends the request body at `offset`; whatever arrives is kept even if the client goes away. */
  async patch(e: Entry, offset: number, body: AsyncIterable<Buffer>): Promise<void> {
    if (e.busy) throw new ApiError(409, 'another request is writing this upload');
    if (offset !== e.offset) throw new ApiError(409, `offset mismatch: the upload is at ${e.offset}`);
    e.busy = true;
    try {
      for await (const chunk of body) {
        if (e.offset + chunk.length > e.length) throw new ApiError(400, 'more data than Upload-Length');
        if (!e.up.writeNow(chunk, e.offset)) await e.up.writeAt(chunk, e.offset);
        e.offset += chunk.length;
        e.lastActivity = this.now();
      }
    } catch (err) {
      // a quota or write error ends the upload; a dropped client only pauses it (its error is not ours to report)
      if (isFsError(err)) await this.abort(e, err.message);
      if (!(err instanceof ApiError) && !isFsError(err)) return;
      throw err;
    } finally {
      e.busy = false;
    }
    if (e.offset === e.length) await this.finish(e);
  }

  async terminate(e: Entry): Promise<void> { await this.abort(e, 'cancelled by the client', new CancelledUpload('cancelled by the client')); }
}

function tusHeaders(reply: FastifyReply): FastifyReply {
  return reply.header('tus-resumable', TUS_VERSION).header('cache-control', 'no-store');
}

export function registerTus(c: ClientApp, raw: FastifyInstance, uploads: TusUploads): void {
  const maxSize = c.ctx.config.httpd.max_upload_file_size;
  const checkVersion = (req: FastifyRequest): void => {
    if (req.headers['tus-resumable'] !== TUS_VERSION) throw new ApiError(412, `Tus-Resumable ${TUS_VERSION} is required`);
  };

  raw.options('/tus', { config: { auth: 'none' } }, async (_req, reply) => {
    const r = tusHeaders(reply).header('tus-version', TUS_VERSION).header('tus-extension', 'creation,termination');
    if (maxSize > 0) void r.header('tus-max-size', String(maxSize));
    return r.code(204).send();
  });

  c.rawPost(raw, '/tus', async (r) => {
    checkVersion(r.req);
    const length = Number(r.req.headers['upload-length']);
    if (!Number.isSafeInteger(length) || length < 0) throw new ApiError(400, 'Upload-Length is required');
    if (maxSize > 0 && length > maxSize) throw new ApiError(413, `the file is larger than the allowed ${maxSize} bytes`);
    const meta = metadata(r.req.headers['upload-metadata']);
    const name = segment(meta.get('filename') ?? '');
    if (!name) throw new ApiError(400, 'a valid filename is required in Upload-Metadata');
    const e = await uploads.create(r, length, meta.get('path') ?? '/', name);
    return tusHeaders(r.reply).header('location', `/web/client/tus/${e.id}`).code(201).send();
  }, { deny: 'write-disabled' });

  const withUpload = (handler: (r: ClientRequest, id: string) => Promise<FastifyReply>) => async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    const auth = await c.authenticate(req);
    if (!auth) return reply.code(401).send({ error: 'session expired' });
    const r: ClientRequest = { req, reply, user: auth.user, session: auth.session, csrf: c.sessions.csrfFor(auth.session.sid) };
    if (req.method !== 'HEAD' && !c.csrfOk(r)) return reply.code(403).send({ error: 'invalid form token' });
    checkVersion(req);
    return handler(r, req.params.id);
  };

  raw.head<{ Params: { id: string } }>('/tus/:id', { config: { auth: 'none' } }, withUpload(async (r, id) => {
    const e = uploads.get(id, r.user);
    return tusHeaders(r.reply).header('upload-offset', String(e.offset)).header('upload-length', String(e.length)).code(200).send();
  }));

  raw.patch<{ Params: { id: string } }>('/tus/:id', { config: { auth: 'none' } }, withUpload(async (r, id) => {
    if (r.req.headers['content-type'] !== 'application/offset+octet-stream') throw new ApiError(415, 'Content-Type must be application/offset+octet-stream');
    const e = uploads.get(id, r.user);
    await uploads.patch(e, Number(r.req.headers['upload-offset']), rawBody(r.req));
    return tusHeaders(r.reply).header('upload-offset', String(e.offset)).code(204).send();
  }));

  raw.delete<{ Params: { id: string } }>('/tus/:id', { config: { auth: 'none' } }, withUpload(async (r, id) => {
    await uploads.terminate(uploads.get(id, r.user));
    return tusHeaders(r.reply).code(204).send();
  }));
}
