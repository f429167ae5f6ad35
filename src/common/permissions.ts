/**
 * SFTPGo's per-directory permission rules (pure functions).
 *
 * The permissions configured for "/a/b" apply to /a/b and everything below
 * it; the most specific configured directory that is the checked path or
 * one of its parents wins (a configured key may also be a Go path.Match
 * pattern), "/" is the fallback. Callers pass the *directory* to check:
 * for most operations that is the parent of the item (path.Dir), for list
 * it is the directory itself — see the helpers at the bottom.
 */
import type { Permission, User } from '../dataprovider/models';
import { globMatch } from './glob';
import { dirsForVirtualPath, vdir } from './vpath';

export function getPermissionsForPath(user: Pick<User, 'permissions'>, vpath: string): readonly string[] {
  const perms = user.permissions ?? {};
  const keys = Object.keys(perms);
  let fallback: readonly string[] = [];
  const root = perms['/'];
  if (root !== undefined) {
    // only root permissions configured: they apply everywhere
    if (keys.length === 1) return root;
    fallback = root;
  }
  for (const dir of dirsForVirtualPath(vpath)) {
    const exact = perms[dir];
    if (exact !== undefined) return exact;
    for (const k of keys) {
      if (globMatch(k, dir) === true) return perms[k] ?? [];
    }
  }
  return fallback;
}

export function hasPerm(user: Pick<User, 'permissions'>, perm: Permission, dirPath: string): boolean {
  const perms = getPermissionsForPath(user, dirPath);
  return perms.includes('*') || perms.includes(perm);
}

export function hasAnyPerm(user: Pick<User, 'permissions'>, wanted: readonly Permission[], dirPath: string): boolean {
  const perms = getPermissionsForPath(user, dirPath);
  return perms.includes('*') || wanted.some((p) => perms.includes(p));
}

export function hasPerms(user: Pick<User, 'permissions'>, wanted: readonly Permission[], dirPath: string): boolean {
  const perms = getPermissionsForPath(user, dirPath);
  return perms.includes('*') || wanted.every((p) => perms.includes(p));
}

/** `delete`, or both delete_files and delete_dirs. */
export function hasPermsDeleteAll(user: Pick<User, 'permissions'>, dirPath: string): boolean {
  const perms = getPermissionsForPath(user, dirPath);
  if (perms.includes('*') || perms.includes('delete')) return true;
  return perms.includes('delete_files') && perms.includes('delete_dirs');
}

/** `rename`, or both rename_files and rename_dirs. */
export function hasPermsRenameAll(user: Pick<User, 'permissions'>, dirPath: string): boolean {
  const perms = getPermissionsForPath(user, dirPath);
  if (perms.includes('*') || perms.includes('rename')) return true;
  return perms.includes('rename_files') && perms.includes('rename_dirs');
}

/**
 * true when `vpath` or any directory below it has its own permissions that
 * are not just "*" (SFTPGo's HasPermissionsInside: a recursive rename must
 * then check every item).
 */
export function hasPermissionsInside(user: Pick<User, 'permissions'>, vpath: string): boolean {
  for (const [dir, perms] of Object.entries(user.permissions ?? {})) {
    if (perms.length === 1 && perms[0] === '*') continue;
    if (dir === vpath) return true;
    if (dir.length > vpath.length && dir.startsWith(vpath === '/' ? '/' : vpath + '/')) return true;
  }
  return false;
}

// ---- the operation-level rules, all evaluated on the parent dir like SFTPGo ----

export const canList = (u: Pick<User, 'permissions'>, dir: string): boolean => hasPerm(u, 'list', dir);
export const canDownload = (u: Pick<User, 'permissions'>, item: string): boolean => hasPerm(u, 'download', vdir(item));
export const canUpload = (u: Pick<User, 'permissions'>, item: string): boolean => hasPerm(u, 'upload', vdir(item));
export const canOverwrite = (u: Pick<User, 'permissions'>, item: string): boolean => hasPerm(u, 'overwrite', vdir(item));
export const canCreateDir = (u: Pick<User, 'permissions'>, item: string): boolean => hasPerm(u, 'create_dirs', vdir(item));
export const canDeleteFile = (u: Pick<User, 'permissions'>, item: string): boolean =>
  hasAnyPerm(u, ['delete_files', 'delete'], vdir(item));
export const canDeleteDir = (u: Pick<User, 'permissions'>, item: string): boolean =>
  hasAnyPerm(u, ['delete_dirs', 'delete'], vdir(item));
export const canCreateSymlink = (u: Pick<User, 'permissions'>, item: string): boolean => hasPerm(u, 'create_symlinks', vdir(item));
export const canCopy = (u: Pick<User, 'permissions'>, item: string): boolean => hasPerm(u, 'copy', vdir(item));

/**
 * SFTPGo's hasRenamePerms: `rename` (or both specific perms) on the source
 * and target parents; otherwise the specific perm for the item kind on both.
 * `isDir` undefined = the source kind is unknown.
 */
export function hasRenamePerms(u: Pick<User, 'permissions'>, src: string, dst: string, isDir?: boolean): boolean {
  const sd = vdir(src);
  const dd = vdir(dst);
  if (hasPermsRenameAll(u, sd) && hasPermsRenameAll(u, dd)) return true;
  if (isDir === undefined) {
    return hasAnyPerm(u, ['rename_files', 'rename_dirs'], sd) && hasAnyPerm(u, ['rename_files', 'rename_dirs'], dd);
  }
  const specific: Permission = isDir ? 'rename_dirs' : 'rename_files';
  return hasAnyPerm(u, [specific, 'rename'], sd) && hasAnyPerm(u, [specific, 'rename'], dd);
}
