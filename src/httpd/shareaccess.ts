/**
 * The rules for using a share, shared by the public REST API and the web
 * client's public pages: the share must exist, have the right scope, be
 * usable (not expired, tokens left, visitor IP allowed), its owner must
 * still be allowed to share; paths are confined to the shared paths with a
 * segment-wise check ("/a" never reaches "/ab", "/a/../b" is cleaned first).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../common/context';
import { FsError } from '../common/errors';
import type { FileOps } from '../common/types';
import { cleanVirtualPath, isSameOrInside } from '../common/vpath';
import type { User } from '../dataprovider/models';
import { SHARE_SCOPE_READ, SHARE_SCOPE_READ_WRITE, SHARE_SCOPE_WRITE, shareUnusableReason, type Share } from '../dataprovider/shares';
import { ApiError } from './errors';
import { openUserSession, userRestricted } from './routes/user/session';
import { userMustSetSecondFactor } from './tokens';

export const READ_SCOPES = [SHARE_SCOPE_READ, SHARE_SCOPE_READ_WRITE] as const;
export const WRITE_SCOPES = [SHARE_SCOPE_WRITE, SHARE_SCOPE_READ_WRITE] as const;

/** Loads a share and checks scope and usability; errors are ApiErrors safe to show. */
export async function loadUsableShare(ctx: ServerContext, shareId: string, scopes: readonly number[], ip: string): Promise<Share> {
  let share: Share;
  try {
    share = await ctx.provider.shares.get(shareId);
  } catch (e) {
    if (e instanceof FsError && e.kind === 'NotFound') throw new ApiError(404, 'share does not exist');
    throw e;
  }
  if (!scopes.includes(share.scope)) throw new ApiError(403, 'invalid share scope');
  const why = shareUnusableReason(share, ip);
  if (why) throw new ApiError(why.status, why.reason);
  return share;
}

/** SFTPGo getUserForShare: the owner may still share, and 2FA requirements hold. */
export async function shareOwner(ctx: ServerContext, share: Share): Promise<User> {
  const user = await ctx.provider.getUser(share.username);
  if (!user || userRestricted(user, 'shares-disabled')) throw new ApiError(404, 'this share does not exist');
  if (user.status !== 1 || ((user.expiration_date ?? 0) > 0 && (user.expiration_date ?? 0) < Date.now())) {
    throw new ApiError(403, 'the owner of this share cannot log in');
  }
  if (share.password === '' && userRestricted(user, 'shares-without-password-disabled')) throw new ApiError(403, 'sharing without a password was disabled');
  if (userMustSetSecondFactor(user) && (user.filters?.two_factor_protocols ?? []).includes('HTTP')) {
    throw new ApiError(403, 'two-factor authentication requirements not met');
  }
  return user;
}

/** A `common` session of the owner with protocol HTTPShare (SFTPGo ProtocolHTTPShare). */
export async function openShareSession(ctx: ServerContext, req: FastifyRequest, reply: FastifyReply, share: Share): Promise<FileOps> {
  const owner = await shareOwner(ctx, share);
  return openUserSession(ctx, req, reply, owner, { protocol: 'HTTPShare', ensureRoots: true });
}

/** True when `vpath` is one of the shared paths or below one. */
export function insideShare(share: Share, vpath: string): boolean {
  return share.paths.some((p) => isSameOrInside(vpath, p));
}

/** SFTPGo getBrowsableSharedPath: a path relative to the (single) shared folder, confined to it. */
export function browsablePath(share: Share, rel: unknown): string {
  const base = share.paths[0];
  if (share.paths.length !== 1 || base === undefined) throw new ApiError(400, 'a share with multiple paths is not browsable');
  const raw = typeof rel === 'string' ? rel : '';
  const name = cleanVirtualPath(`${base}/${raw}`);
  if (!isSameOrInside(name, base)) throw new ApiError(400, `Invalid path "${raw.slice(0, 255)}"`);
  return name;
}

/** A file uploaded into a write share: strictly below the shared folder. */
export function uploadTarget(share: Share, name: string): string {
  const base = share.paths[0];
  if (base === undefined) throw new ApiError(400, 'invalid share');
  const p = cleanVirtualPath(`${base}/${name}`);
  if (p === base || !isSameOrInside(p, base)) throw new ApiError(403, 'Uploading outside the share is not allowed');
  return p;
}

/** The shared folder must be a directory to be browsed. */
export async function checkBrowsable(ops: FileOps, share: Share): Promise<void> {
  const base = share.paths[0];
  if (share.paths.length !== 1 || base === undefined) throw new ApiError(400, 'a share with multiple paths is not browsable');
  const st = await ops.stat(base).catch((e: unknown) => {
    throw new ApiError(400, `unable to check the share directory: ${e instanceof Error ? e.message : String(e)}`);
  });
  if (!st.isDirectory) throw new ApiError(400, 'the shared object is not a directory and so it is not browsable');
}

/** Spends `n` tokens or refuses (another visitor took the last one). */
export async function spendTokens(ctx: ServerContext, share: Share, n: number): Promise<void> {
  if (!(await ctx.provider.shares.useTokens(share.id, n))) throw new ApiError(403, 'share usage exceeded');
}

export async function giveBackTokens(ctx: ServerContext, share: Share, n: number): Promise<void> {
  await ctx.provider.shares.useTokens(share.id, -n).catch(() => undefined);
}
