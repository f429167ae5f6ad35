/**
 * COPY, MOVE, DELETE and MKCOL, replacing the library's: its COPY fails with
 * 500 on a locked source (COPY only reads the source), it refuses any
 * destination that merely starts with the source name ("/a" → "/ab"), and its
 * lock checks compare user ids instead of submitted tokens.
 */
import { FsError } from '../common/errors';
import { ifHolds, mayModify } from './ifheader';
import { DavStatus, type MethodCall } from './request';
import { lstatOrUndefined, requireParentDir } from './tree';

const isWithin = (p: string, dir: string): boolean => dir === '/' || p.startsWith(`${dir}/`);

/** host[:port] as URL normalizes it (lower case, default port dropped); undefined when unparsable */
function normalHost(host: string): string | undefined {
  try {
    return new URL(`http://${host}`).host;
  } catch {
    return undefined;
  }
}

/**
 * The Destination header as a clean virtual path. 502 when it names another
 * server (RFC 4918 §9.9.4, as x/net/webdav: an absolute URI whose host is not
 * the request's Host) or lies outside this server's prefix: only the path of
 * the URI is used afterwards, so a foreign host must never be taken for ours.
 */
export function destinationOf(header: string | undefined, prefix: string, clean: (p: string) => string, requestHost?: string): string {
  if (!header) throw new DavStatus(400);
  let url: URL;
  try {
    url = new URL(header, 'http://destination.invalid');
  } catch {
    throw new DavStatus(400);
  }
  let path = url.pathname;
  const absolute = /^[a-z][a-z0-9+.-]*:/i.test(header.trim());
  if (requestHost !== undefined && absolute && url.host !== normalHost(requestHost)) {
    throw new DavStatus(502);
  }
  if (prefix) {
    if (path !== prefix && !path.startsWith(`${prefix}/`)) throw new DavStatus(502);
    path = path.slice(prefix.length) || '/';
  }
  try {
    return clean(decodeURIComponent(path));
  } catch {
    throw new DavStatus(400);
  }
}

async function preconditions(call: MethodCall, target: string): Promise<void> {
  if (!(await ifHolds(call.ctx, target))) throw new DavStatus(412);
}

export async function copyOrMove(call: MethodCall, move: boolean): Promise<void> {
  const { ctx, user, vpath } = call;
  const { ops, state } = user;
  call.input.resume();
  ops.setCommand(move ? 'MOVE' : 'COPY');
  const dst = destinationOf(ctx.headers.find('Destination'), ctx.rootPath ?? '', (p) => ops.cleanPath(p), ctx.headers.find('Host', ''));
  await preconditions(call, vpath);
  const src = await ops.stat(vpath);
  if (dst === vpath || isWithin(dst, vpath)) throw new DavStatus(403);
  const overwrite = ctx.headers.find('Overwrite', 'T').trim().toUpperCase() !== 'F';
  const depthHeader = ctx.headers.find('Depth', 'infinity').trim().toLowerCase();
  if (depthHeader !== 'infinity' && (move || depthHeader !== '0')) throw new DavStatus(400);
  if ((move && !mayModify(ctx, vpath, true)) || !mayModify(ctx, dst, true)) throw new DavStatus(423);
  await requireParentDir(ops, dst);
  const existing = await lstatOrUndefined(ops, dst);
  if (existing && !overwrite) throw new DavStatus(412);
  if (existing) await ops.removeAll(dst);
  if (move) {
    await ops.rename(vpath, dst);
    state.transferProps(vpath, dst, false);
    state.forget(vpath);
  } else {
    // Depth 0 copies the collection alone (RFC 4918 §9.8.3); otherwise common copies the
    // whole tree (the destination no longer exists here, so it is the exact target)
    if (src.isDirectory && depthHeader === '0') await ops.mkdir(dst);
    else await ops.copy(vpath, dst);
    state.transferProps(vpath, dst, true);
  }
  ctx.setCode(existing ? 204 : 201);
}

export async function del(call: MethodCall): Promise<void> {
  const { ctx, user, vpath } = call;
  call.input.resume();
  user.ops.setCommand('DELETE');
  await preconditions(call, vpath);
  if (vpath === '/') throw new FsError('PermissionDenied', 'cannot delete the root');
  await user.ops.lstat(vpath);
  if (!mayModify(ctx, vpath, true)) throw new DavStatus(423);
  await user.ops.removeAll(vpath);
  user.state.forget(vpath);
  ctx.setCode(204);
}

export async function mkcol(call: MethodCall): Promise<void> {
  const { ctx, user, vpath } = call;
  call.input.resume(); // handler.ts already refused a body with 415
  user.ops.setCommand('MKCOL');
  await preconditions(call, vpath);
  if (!mayModify(ctx, vpath, false)) throw new DavStatus(423);
  if (await lstatOrUndefined(user.ops, vpath)) throw new DavStatus(405);
  await requireParentDir(user.ops, vpath);
  await user.ops.mkdir(vpath);
  ctx.setCode(201);
}
