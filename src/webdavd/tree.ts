/**
 * Tree walks for DELETE, COPY and MOVE, through FileOps so every step is
 * permission-checked, quota-accounted and logged by common.
 * Recursive directory copy arguably belongs in common (SFTPGo's
 * BaseConnection.Copy handles directories); see the webdavd report.
 */
import { FsError, isFsError } from '../common/errors';
import type { FileOps } from '../common/types';
import type { FileInfo } from '../vfs/fs';
import { childPath, parentOf } from './request';

/** Removes a file or a whole tree (children first). */
export async function removeTree(ops: FileOps, vpath: string): Promise<void> {
  const fi = await ops.lstat(vpath);
  if (!fi.isDirectory) return ops.removeFile(vpath);
  const children: string[] = [];
  for await (const batch of ops.readDir(vpath)) for (const c of batch) children.push(c.name);
  for (const name of children) await removeTree(ops, childPath(vpath, name));
  await ops.removeDir(vpath);
}

/** Copies a directory; depth 0 = the collection alone (RFC 4918 §9.8.3). */
export async function copyTree(ops: FileOps, src: string, dst: string, depth: 0 | 'infinity'): Promise<void> {
  await ops.mkdir(dst);
  if (depth === 0) return;
  const children: FileInfo[] = [];
  for await (const batch of ops.readDir(src)) children.push(...batch);
  for (const c of children) {
    const from = childPath(src, c.name);
    const to = childPath(dst, c.name);
    const fi = c.isSymlink ? await ops.stat(from) : c;
    if (fi.isDirectory) await copyTree(ops, from, to, 'infinity');
    else await ops.copy(from, to);
  }
}

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
