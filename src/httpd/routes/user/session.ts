/**
 * One file session per user API request, as SFTPGo's getUserConnection: the
 * user (reloaded by the auth plugin) gets a `common` connection with protocol
 * HTTP, registered with the connection manager (max_sessions, the
 * connections API, shutdown) and removed when the response is over, so every
 * verb goes through the same permission, filter, quota, bandwidth and
 * transfer-log rules as SFTP, FTP and WebDAV.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../../../common/context';
import { FsError } from '../../../common/errors';
import type { FileOps, Protocol } from '../../../common/types';
import type { User } from '../../../dataprovider/models';
import { ApiError } from '../../errors';

/** filters.web_client values that close routes (SFTPGo sdk.WebClient*). */
export type WebClientRestriction =
  | 'write-disabled' | 'shares-disabled' | 'password-change-disabled' | 'info-change-disabled'
  | 'publickey-change-disabled' | 'api-key-auth-change-disabled' | 'mfa-disabled' | 'shares-without-password-disabled'
  | 'password-reset-disabled';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** user routes closed when the user's filters.web_client contains this value */
    webClientDeny?: WebClientRestriction;
  }
}

export function userRestricted(user: User, what: WebClientRestriction): boolean {
  return (user.filters?.web_client ?? []).includes(what);
}

/** SFTPGo checkHTTPUserPerm: 403 before anything is read or touched. */
export function checkRestriction(req: FastifyRequest): void {
  const deny = req.routeOptions.config.webClientDeny;
  if (deny && req.user && userRestricted(req.user, deny)) throw new ApiError(403, "You don't have permission for this action");
}

export function requestUser(req: FastifyRequest): User {
  if (!req.user) throw new ApiError(401, 'authentication required');
  return req.user;
}

export interface UserSessionOptions {
  protocol?: Protocol;
  /** create the home and folder roots first (SFTPGo CheckFsRoot before writes and downloads) */
  ensureRoots?: boolean;
}

/**
 * Opens the session for `user`; it is removed from the manager when the
 * response closes (finished or client gone), which aborts any transfer
 * still open so atomic uploads leave nothing behind.
 */
export async function openUserSession(ctx: ServerContext, req: FastifyRequest, reply: FastifyReply, user: User,
  opts: UserSessionOptions = {}): Promise<FileOps> {
  const sock = req.raw.socket;
  let release: (() => void) | undefined;
  let ops: FileOps;
  try {
    release = ctx.connections.acceptClient(req.clientIp);
    ops = ctx.connections.add({
      protocol: opts.protocol ?? 'HTTP', user,
      remoteAddr: `${req.clientIp}:${sock.remotePort ?? 0}`,
      localAddr: `${sock.localAddress ?? ''}:${sock.localPort ?? 0}`,
      clientVersion: String(req.headers['user-agent'] ?? ''),
      session: { disconnect: () => { reply.raw.destroy(); } },
    });
  } catch (e) {
    release?.();
    if (e instanceof FsError) throw new ApiError(429, `Unable to add connection: ${e.message}`);
    throw e;
  }
  reply.raw.once('close', () => {
    release?.();
    ctx.connections.remove(ops.id).catch((e: unknown) => {
      ctx.logger.warn('httpd', `unable to remove connection ${ops.id}: ${e instanceof Error ? e.message : String(e)}`);
    });
  });
  if (opts.ensureRoots) {
    // as SFTPGo, a failure here is logged and the verb itself reports the real problem
    await ops.ensureRoots?.().catch((e: unknown) => {
      ctx.logger.warn('httpd', `unable to create the roots of user "${user.username}": ${e instanceof Error ? e.message : String(e)}`, { connection_id: ops.id });
    });
  }
  return ops;
}

/** SFTPGo GetCleanedPath: relative paths start at the user's start directory. */
export function userPath(ops: FileOps, raw: unknown): string {
  const p = typeof raw === 'string' ? raw : '';
  const start = ops.user.filters?.start_directory || '/';
  return ops.cleanPath(p === '' ? start : p, start);
}

/** SFTPGo CheckParentDirs: creates each missing directory above `vpath` (each mkdir checked as usual). */
export async function mkdirParents(ops: FileOps, dir: string): Promise<void> {
  if (dir === '/') return;
  const parts = dir.split('/').filter((s) => s !== '');
  let cur = '';
  for (const part of parts) {
    cur += `/${part}`;
    let exists = true;
    try {
      const st = await ops.lstat(cur);
      if (!st.isDirectory) throw new FsError('NotDirectory', `"${cur}" is not a directory`);
    } catch (e) {
      if (!(e instanceof FsError && e.kind === 'NotFound')) throw e;
      exists = false;
    }
    if (!exists) await ops.mkdir(cur);
  }
}

export function boolQuery(v: unknown): boolean {
  return typeof v === 'string' && ['true', '1', 't', 'T', 'TRUE', 'True'].includes(v);
}
