/**
 * SFTPGo's file pattern filters (pure). A filter configured for a directory
 * applies to the items directly inside it and below it (the most specific
 * configured directory wins); patterns are case-insensitive Go path.Match
 * globs on the base name. deny_policy 1 additionally hides denied items
 * (listings skip them, access answers "not found").
 */
import type { FilePatternFilter, User } from '../dataprovider/models';
import { globMatch } from './glob';
import { dirsForVirtualPath, vbase, vdir } from './vpath';

export const DENY_POLICY_DEFAULT = 0;
export const DENY_POLICY_HIDE = 1;

type FilterUser = Pick<User, 'filters'>;

/** The filter that governs the entries of directory `dirPath`, if any. */
export function getPatternsFilterForPath(user: FilterUser, dirPath: string): FilePatternFilter | undefined {
  const list = user.filters?.file_patterns ?? [];
  if (list.length === 0) return undefined;
  for (const dir of dirsForVirtualPath(dirPath)) {
    const f = list.find((x) => x.path === dir);
    if (f) return f;
  }
  return undefined;
}

/** Whether base name `name` passes `filter` (denied patterns first, then allowed). */
export function checkAllowed(filter: FilePatternFilter | undefined, name: string): boolean {
  if (!filter) return true;
  const lower = name.toLowerCase();
  for (const p of filter.denied_patterns ?? []) {
    // a malformed deny pattern denies, as in SFTPGo
    if (globMatch(p.toLowerCase(), lower) !== false) return false;
  }
  const allowed = filter.allowed_patterns ?? [];
  for (const p of allowed) {
    if (globMatch(p.toLowerCase(), lower) === true) return true;
  }
  return allowed.length === 0;
}

/** A directory is hidden when it, or one of its parents, is hidden by a deny_policy=1 filter. */
export function isDirHidden(user: FilterUser, dirPath: string): boolean {
  if ((user.filters?.file_patterns ?? []).length === 0) return false;
  for (const d of dirsForVirtualPath(dirPath)) {
    if (d === '/') return false;
    const f = getPatternsFilterForPath(user, d);
    if (f && (f.deny_policy ?? 0) === DENY_POLICY_HIDE && !checkAllowed(f, vbase(d))) return true;
  }
  return false;
}

export interface FileAllowedResult { allowed: boolean; denyPolicy: number }

/** SFTPGo's IsFileAllowed: the filter of the item's parent directory, plus hidden parents. */
export function isFileAllowed(user: FilterUser, vpath: string): FileAllowedResult {
  if (vpath === '/') return { allowed: true, denyPolicy: DENY_POLICY_DEFAULT };
  const dir = vdir(vpath);
  if (isDirHidden(user, dir)) return { allowed: false, denyPolicy: DENY_POLICY_HIDE };
  const f = getPatternsFilterForPath(user, dir);
  return { allowed: checkAllowed(f, vbase(vpath)), denyPolicy: f?.deny_policy ?? DENY_POLICY_DEFAULT };
}

/** Whether a listing of `dirPath` must hide `name`. */
export function isHiddenInListing(filter: FilePatternFilter | undefined, name: string): boolean {
  return !!filter && (filter.deny_policy ?? 0) === DENY_POLICY_HIDE && !checkAllowed(filter, name);
}

/** 0 = no limit */
export function maxUploadFileSize(user: FilterUser): number {
  const v = user.filters?.max_upload_file_size ?? 0;
  return v > 0 ? v : 0;
}
