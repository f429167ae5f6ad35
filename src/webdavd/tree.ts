/**
 * Path helpers for COPY/MOVE/PUT/MKCOL. Recursive copy and removal are
 * FileOps.copy/removeAll in common, shared with the SSH commands.
 */
import { FsError, isFsError } from '../common/errors';
import type { FileOps } from '../common/types';
import type { FileInfo } from '../vfs/fs';
import { parentOf } from './request';

/** COPY/MOVE/PUT/MKCOL into a missing collection is a 409 (RFC 4918 §9.8.5), not a 404. */
export async function requireParentDir(ops: FileOps, vpath: string): Promise<void> {
  let fi: FileInfo;
  try {
    fi = await ops.stat(parentOf(vpath));
  } catch (e) {
    if (isFsError(e, 'NotFound')) throw new FsError('NotDirectory', 'destination collection missing');
    throw e;
  }
  if (!fi.isDirectory) throw new FsError('NotDirectory', 'destination parent is not a collection');
}

/** lstat that answers undefined for a missing path. */
export async function lstatOrUndefined(ops: FileOps, vpath: string): Promise<FileInfo | undefined> {
  try {
    return await ops.lstat(vpath);
  } catch (e) {
    if (isFsError(e, 'NotFound')) return undefined;
    throw e;
  }
}
