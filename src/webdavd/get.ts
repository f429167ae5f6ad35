/**
 * GET and HEAD, replacing the library's (which reads from byte 0 and discards
 * up to a Range start, and answers `Content-Range .../*`). Ranges open the
 * download at the requested offset through FileOps.openRead.
 */
import { v2 } from 'webdav-server';
import { FsError, isFsError } from '../common/errors';
import { downloadPump } from '../common/pump';
import type { Download } from '../common/types';
import type { FileInfo } from '../vfs/fs';
import { etagOf } from './davfs';
import { ifHolds } from './ifheader';
import { DavStatus, type MethodCall } from './request';
import { backendLookup, type ContentTypes } from './mime';
import { parseRange } from '../util/http-range';

// shared with the REST API's file downloads, which must not load the WebDAV server
export { parseRange, type ByteRange } from '../util/http-range';

function setEntityHeaders(res: v2.HTTPRequestContext['response'], fi: FileInfo, type: string): void {
  res.setHeader('Last-Modified', fi.mtime.toUTCString());
  res.setHeader('ETag', etagOf(fi));
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Type', type);
}

/**
 * GET and HEAD. HEAD answers from a stat, like SFTPGo (x/net/webdav opens the
 * file lazily and checks the download permission on the first read; its stat
 * needs only the list permission), so HEAD can be 200 where GET is 403.
 */
export async function getOrHead(call: MethodCall, head: boolean, types: ContentTypes): Promise<void> {
  const { ctx, user, vpath } = call;
  const { ops } = user;
  call.input.resume();
  ops.setCommand(head ? 'HEAD' : 'GET');
  if (!(await ifHolds(ctx, vpath))) throw new DavStatus(412);
  const fi = await ops.stat(vpath);
  if (fi.isDirectory) throw new DavStatus(405);
  let range = parseRange(ctx.headers.find('Range'), fi.size);
  const ifRange = ctx.headers.find('If-Range');
  if (range && ifRange && ifRange !== etagOf(fi) && ifRange !== fi.mtime.toUTCString()) range = undefined;
  // asked before the download is opened: ContentTypes.of never throws, so nothing opened can leak
  const type = await types.of(fi.name, backendLookup(ops, vpath));
  // open before any header is written so a refused download is a clean 403
  const dl = head || range === 'unsatisfiable' ? undefined : await ops.openRead(vpath, range?.start ?? 0);
  const res = ctx.response;
  setEntityHeaders(res, fi, type);
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
  if (!dl) return;
  if (end < start) {
    await dl.close();
    return;
  }
  await send(dl, start, end, res);
}

/**
 * Sends [start, end] through the shared recycled-buffer pump (the generic
 * createReadStream piped into the response ran at 0.44x rclone with curl,
 * 512 MiB). Resolves once the response finished or the client went away;
 * the download is closed with the outcome either way.
 */
async function send(dl: Download, start: number, end: number, res: v2.HTTPRequestContext['response']): Promise<void> {
  const gone = new Promise<Error | undefined>((resolve) => {
    res.once('error', () => resolve(new FsError('Aborted', 'client connection error')));
    // 'finish' (all data handed to the OS) comes before 'close'; the first wins
    res.once('finish', () => resolve(undefined));
    res.once('close', () => resolve(new FsError('Aborted', 'client disconnected')));
  });
  let err: Error | undefined;
  try {
    await downloadPump(dl, res, start, end);
    res.end();
    err = await gone;
  } catch (e) {
    err = e instanceof Error ? e : new FsError('Aborted', String(e));
    if (!isFsError(err)) err = new FsError('Aborted', 'client disconnected', err);
    res.destroy();
  }
  await dl.close(err).catch(() => undefined);
}
