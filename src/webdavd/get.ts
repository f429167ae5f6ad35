/**
 * GET and HEAD, replacing the library's (which reads from byte 0 and discards
 * up to a Range start, and answers `Content-Range .../*`). Ranges open the
 * download at the requested offset through FileOps.openRead.
 */
import type { Readable } from 'node:stream';
import { v2 } from 'webdav-server';
import { FsError } from '../common/errors';
import type { FileInfo } from '../vfs/fs';
import { davUserOf, etagOf, type DelegatingFileSystem } from './davfs';
import { httpStatusOf } from './status';
import { mimeTypeOf } from './mime';

export interface ByteRange { start: number; end: number }

/**
 * Parses a single-range `Range` header against a size. Returns undefined to
 * serve the whole file (absent, malformed or multi-range: RFC 9110 lets a
 * server ignore Range), or 'unsatisfiable' for a 416.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (!Number.isSafeInteger(start) || start >= size) return 'unsatisfiable';
  if (end < start) return undefined;
  return { start, end };
}

function setEntityHeaders(res: v2.HTTPRequestContext['response'], fi: FileInfo): void {
  res.setHeader('Last-Modified', fi.mtime.toUTCString());
  res.setHeader('ETag', etagOf(fi));
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Type', mimeTypeOf(fi.name));
}

export function getMethod(fs: DelegatingFileSystem, head: boolean): v2.HTTPMethod {
  return {
    isValidFor: (_ctx, type) => !type || type.isFile,
    // chunked: the library would otherwise buffer a declared body; GET has none worth reading
    chunked(ctx, input, done) {
      input.resume();
      ctx.checkIfHeader(fs.resource(ctx, ctx.requested.path), () => {
        serve(fs, ctx, head).then(done, (e: unknown) => {
          if (!ctx.response.headersSent) ctx.setCode(httpStatusOf(e));
          done();
        });
      });
    },
  };
}

async function serve(fs: DelegatingFileSystem, ctx: v2.HTTPRequestContext, head: boolean): Promise<void> {
  const { ops } = davUserOf(ctx);
  const vpath = ops.cleanPath(ctx.requested.path.toString());
  ops.setCommand(head ? 'HEAD' : 'GET');
  const fi = await fs.statOf(ctx, ops, vpath);
  if (fi.isDirectory) {
    ctx.setCode(v2.HTTPCodes.MethodNotAllowed);
    return;
  }
  const res = ctx.response;
  setEntityHeaders(res, fi);
  let range = parseRange(ctx.headers.find('Range'), fi.size);
  const ifRange = ctx.headers.find('If-Range');
  if (range && ifRange && ifRange !== etagOf(fi) && ifRange !== fi.mtime.toUTCString()) range = undefined;
  if (range === 'unsatisfiable') {
    res.setHeader('Content-Range', `bytes */${fi.size}`);
    ctx.setCode(v2.HTTPCodes.RequestedRangeNotSatisfiable);
    return;
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? fi.size - 1;
  res.setHeader('Content-Length', String(Math.max(0, end - start + 1)));
  if (range) res.setHeader('Content-Range', `bytes ${start}-${end}/${fi.size}`);
  ctx.setCode(range ? v2.HTTPCodes.PartialContent : v2.HTTPCodes.OK);
  if (head) return;
  const dl = await ops.openRead(vpath, start);
  if (end < start) {
    await dl.close();
    return;
  }
  await pump(dl.createReadStream(start, end), res, (err) => dl.close(err));
}

/** Streams with backpressure; resolves when the response is finished or the client went away. */
function pump(src: Readable, res: v2.HTTPRequestContext['response'], close: (err?: Error) => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      if (err) src.destroy();
      close(err).catch(() => undefined).finally(resolve);
    };
    src.on('error', (e) => {
      finish(e);
      res.destroy();
    });
    res.on('error', () => finish(new FsError('Aborted', 'client connection error')));
    // 'finish' (all data handed to the OS) comes before 'close'; the first call wins
    res.on('finish', () => finish());
    res.on('close', () => finish(new FsError('Aborted', 'client disconnected')));
    src.pipe(res);
  });
}
