/**
 * PUT, replacing the library's (which creates an empty file first, then opens
 * it for writing). The body streams into Upload.createWriteStream with
 * backpressure; any failure closes the upload with the error so the atomic
 * upload mode leaves no partial file and the transfer is logged as failed.
 */
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { v2 } from 'webdav-server';
import { FsError, isFsError } from '../common/errors';
import type { FileOps } from '../common/types';
import { davUserOf, type DelegatingFileSystem } from './davfs';
import { httpStatusOf } from './status';

export function putMethod(fs: DelegatingFileSystem): v2.HTTPMethod {
  return {
    isValidFor: (_ctx, type) => !type || type.isFile,
    chunked(ctx, input, done) {
      input.on('error', () => undefined); // reported through pipeline below
      ctx.checkIfHeader(fs.resource(ctx, ctx.requested.path), () => {
        upload(fs, ctx, input).then(done, (e: unknown) => {
          if (!ctx.response.headersSent) {
            ctx.setCode(httpStatusOf(e));
            // the client may still be sending: do not try to read the rest
            ctx.response.setHeader('Connection', 'close');
          }
          input.resume();
          done();
        });
      });
    },
  };
}

async function statOrUndefined(ops: FileOps, vpath: string) {
  try {
    return await ops.stat(vpath);
  } catch (e) {
    if (isFsError(e, 'NotFound')) return undefined;
    throw e;
  }
}

function parentOf(vpath: string): string {
  const i = vpath.lastIndexOf('/');
  return i <= 0 ? '/' : vpath.slice(0, i);
}

async function upload(fs: DelegatingFileSystem, ctx: v2.HTTPRequestContext, input: Readable): Promise<void> {
  const { ops } = davUserOf(ctx);
  const vpath = ops.cleanPath(ctx.requested.path.toString());
  ops.setCommand('PUT');
  if (vpath === '/') throw new FsError('PermissionDenied', 'cannot write the root');
  const locked = await new Promise<boolean>((resolve, reject) => {
    fs.isLocked(ctx, vpath, (e, l) => (e ? reject(e) : resolve(l === true)));
  }).catch(() => true);
  if (locked) {
    ctx.setCode(v2.HTTPCodes.Locked);
    input.resume();
    return;
  }
  const existing = await statOrUndefined(ops, vpath);
  if (existing?.isDirectory) {
    ctx.setCode(v2.HTTPCodes.MethodNotAllowed);
    input.resume();
    return;
  }
  if (!existing) {
    // RFC 4918 §9.7.1: a missing parent is a 409, not a 404
    const parent = await statOrUndefined(ops, parentOf(vpath));
    if (!parent?.isDirectory) {
      ctx.setCode(v2.HTTPCodes.Conflict);
      input.resume();
      return;
    }
  }
  const mtime = parseOcMtime(ctx.headers.find('X-OC-Mtime'));
  const up = await ops.openWrite(vpath, { truncate: true, append: false, exclusive: false, read: false, offset: 0 });
  try {
    await pipeline(input, up.createWriteStream());
  } catch (e) {
    const err = e instanceof Error ? e : new FsError('Aborted', String(e));
    await up.close(err).catch(() => undefined);
    throw isFsError(err) ? err : new FsError('Aborted', 'upload interrupted', err);
  }
  await up.close();
  if (mtime) {
    await ops.setStat(vpath, { mtime });
    ctx.response.setHeader('X-OC-Mtime', 'accepted');
  }
  ctx.setCode(existing ? v2.HTTPCodes.NoContent : v2.HTTPCodes.Created);
}

/** ownCloud/Nextcloud clients send the file's mtime as Unix seconds. */
export function parseOcMtime(h: string | undefined): Date | undefined {
  if (!h || !/^\d{1,12}$/.test(h.trim())) return undefined;
  return new Date(Number(h.trim()) * 1000);
}
