/**
 * PUT, replacing the library's (which creates an empty file first, then opens
 * it for writing). The body streams into the shared coalescing uploadSink
 * with backpressure; any failure closes the upload with the error so the atomic
 * upload mode leaves no partial file and the transfer is logged as failed.
 */
import type { Readable, Writable } from 'node:stream';
import { v2 } from 'webdav-server';
import { FsError, isFsError } from '../common/errors';
import { uploadSink } from '../common/pump';
import { etagOf } from './davfs';
import { ifHolds, mayModify } from './ifheader';
import { DavStatus, statOrUndefined, type MethodCall } from './request';
import { requireParentDir } from './tree';

export async function put(call: MethodCall): Promise<void> {
  const { ctx, user, vpath } = call;
  const { ops } = user;
  const input = call.input;
  ops.setCommand('PUT');
  if (vpath === '/') throw new FsError('PermissionDenied', 'cannot write the root');
  if (!(await ifHolds(ctx, vpath))) throw new DavStatus(412);
  if (!mayModify(ctx, vpath, false)) throw new DavStatus(423);
  const existing = await statOrUndefined(user, vpath);
  if (existing?.isDirectory) throw new DavStatus(405);
  if (!conditionsHold(ctx.headers.find('If-Match', ''), ctx.headers.find('If-None-Match', ''), existing && etagOf(existing))) throw new DavStatus(412);
  // RFC 4918 §9.7.1: a missing parent is a 409, not a 404
  if (!existing) await requireParentDir(ops, vpath);
  const mtime = parseOcMtime(ctx.headers.find('X-OC-Mtime'));
  const up = await ops.openWrite(vpath, { truncate: true, append: false, exclusive: false, read: false, offset: 0 });
  try {
    // the coalescing sink (common/pump.ts); the commit is the up.close() below
    await receiveBody(input, uploadSink(up, 0));
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

const DISCARD_MS = 2000;

/**
 * Pipes the request body into the upload. When the upload fails (quota,
 * disk) the rest of the body is read and dropped until it ends, for at most
 * DISCARD_MS, before the error is thrown: `pipeline` would destroy the
 * request, and a socket closed with unread input sends a RST that can make
 * the client lose our 507/403 reply (curl then reports only "100 Continue").
 */
function receiveBody(input: Readable, sink: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed = false;
    const fail = (e: Error): void => {
      if (failed) return;
      failed = true;
      input.unpipe(sink);
      sink.destroy();
      if (input.readableEnded || input.destroyed) { reject(e); return; }
      const t = setTimeout(() => input.destroy(), DISCARD_MS);
      const stop = (): void => { clearTimeout(t); reject(e); };
      input.once('end', stop);
      input.once('close', stop);
      input.on('data', () => undefined);
      input.resume();
    };
    sink.once('error', fail);
    sink.once('finish', () => { if (!failed) resolve(); });
    input.once('error', fail);
    input.once('aborted', () => fail(new FsError('Aborted', 'client went away')));
    // a close before 'end' is a broken upload, not a complete file
    input.once('close', () => { if (!input.readableEnded) fail(new FsError('Aborted', 'client went away')); });
    input.pipe(sink);
  });
}

/**
 * RFC 9110 §13.1.1-2 preconditions on the current etag (undefined = no
 * file): clients use `If-None-Match: *` to create without overwriting.
 */
export function conditionsHold(ifMatch: string | undefined, ifNoneMatch: string | undefined, etag: string | undefined): boolean {
  const list = (h: string): string[] => h.split(',').map((t) => t.trim().replace(/^W\//, ''));
  if (ifMatch !== undefined && ifMatch.trim() !== '') {
    const tags = list(ifMatch);
    if (etag === undefined || !(tags.includes('*') || tags.includes(etag))) return false;
  }
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '') {
    const tags = list(ifNoneMatch);
    if (etag !== undefined && (tags.includes('*') || tags.includes(etag))) return false;
  }
  return true;
}

/** ownCloud/Nextcloud clients send the file's mtime as Unix seconds. */
export function parseOcMtime(h: string | undefined): Date | undefined {
  if (!h || !/^\d{1,12}$/.test(h.trim())) return undefined;
  return new Date(Number(h.trim()) * 1000);
}
