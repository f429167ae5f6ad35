/**
 * Server-side copy (SFTPGo Copy: sftpgo-copy, WebClient, WebDAV COPY).
 * Files and directories (recursively, bounded); symlinks are not copied;
 * copying onto an existing directory copies inside it. Permissions: `copy`
 * on the target dir plus download on the source; each created item needs
 * upload/create_dirs (overwrite for replaced files) where it lands.
 */
import type { FileInfo } from '../vfs/fs';
import type { Connection } from './connection';
import { copyAcross, lstatOrUndefined } from './connection-ops';
import { FsError } from './errors';
import { giveToUser } from './ownership';
import { isFileAllowed } from './filters';
import { canCopy, canCreateDir, canDownload, canOverwrite, canUpload } from './permissions';
import { isSameOrInside, vbase, vjoin } from './vpath';

/** Bound on the items one copy may visit. */
const MAX_COPY_ENTRIES = 100_000;

interface Budget { left: number }

export async function doCopy(c: Connection, from: string, rawTo: string): Promise<void> {
  if (from === rawTo) throw new FsError('Unsupported', 'the copy source and target cannot be the same');
  const src = c.mounts.resolve(from);
  const srcInfo = await src.fs.lstat(src.fsPath);
  if (srcInfo.isSymlink) throw new FsError('Unsupported', 'copying symlinks is not supported');
  let to = rawTo;
  const existing = await lstatOrUndefined(c.mounts.resolve(to).fs, c.mounts.resolve(to).fsPath);
  if (existing?.isDirectory || (existing === undefined && (c.mounts.isMountPoint(to) || to === '/'))) to = vjoin(to, vbase(from));
  if (from === to) throw new FsError('Unsupported', 'the copy source and target cannot be the same');
  if (srcInfo.isDirectory && isSameOrInside(to, from)) throw new FsError('Unsupported', 'cannot copy a directory inside itself');
  if (!canCopy(c.user, to) || !canDownload(c.user, from)) throw new FsError('PermissionDenied');
  if (srcInfo.isDirectory && (c.mounts.hasMountsInside(from) || c.mounts.hasMountsInside(to))) {
    throw new FsError('Unsupported', 'copying directories with virtual folders inside is not supported');
  }
  const dst = c.mounts.resolve(to);
  await c.logged('Copy', from, () => copyItem(c, from, to, srcInfo, { left: MAX_COPY_ENTRIES }),
    { targetPath: dst.fs.fsPath(dst.fsPath), virtualTargetPath: to, ...(srcInfo.isDirectory ? {} : { size: srcInfo.size }) });
}

async function copyItem(c: Connection, from: string, to: string, info: FileInfo, budget: Budget): Promise<void> {
  if (--budget.left < 0) throw new FsError('Unsupported', 'too many items to copy');
  if (!isFileAllowed(c.user, from).allowed || !isFileAllowed(c.user, to).allowed) throw new FsError('PermissionDenied');
  if (to === '/' || c.mounts.isMountPoint(to)) throw new FsError('PermissionDenied');
  const src = c.mounts.resolve(from);
  const dst = c.mounts.resolve(to);
  const dstInfo = await lstatOrUndefined(dst.fs, dst.fsPath);
  if (info.isDirectory) {
    if (dstInfo && !dstInfo.isDirectory) throw new FsError('Unsupported', 'cannot copy a directory onto a file');
    if (!dstInfo) {
      if (!canCreateDir(c.user, to)) throw new FsError('PermissionDenied');
      await dst.fs.mkdir(dst.fsPath);
      await giveToUser(dst.fs, dst.fsPath, c.user, c.logger, c.id);
    }
    for await (const batch of src.fs.readDir(src.fsPath)) {
      for (const fi of batch) {
        // symlinks are skipped, as SFTPGo does inside a recursive copy
        if (fi.isSymlink) continue;
        await copyItem(c, vjoin(from, fi.name), vjoin(to, fi.name), fi, budget);
      }
    }
    return;
  }
  if (dstInfo?.isDirectory) throw new FsError('Unsupported', 'cannot copy a file onto a directory');
  if (!canDownload(c.user, from)) throw new FsError('PermissionDenied');
  if (dstInfo ? !canOverwrite(c.user, to) : !canUpload(c.user, to)) throw new FsError('PermissionDenied');
  const oldSize = dstInfo?.isFile ? dstInfo.size : 0;
  const q = await c.quota.check(to, !dstInfo);
  if (!q.hasSpace || (q.remainingSize > 0 && info.size - oldSize > q.remainingSize)) throw new FsError('QuotaExceeded');
  if (src.fs === dst.fs && src.fs.features.serverSideCopy) await src.fs.copy(src.fsPath, dst.fsPath);
  else await copyAcross(src.fs, src.fsPath, dst.fs, dst.fsPath);
  await giveToUser(dst.fs, dst.fsPath, c.user, c.logger, c.id);
  await c.quota.update(to, dstInfo ? 0 : 1, info.size - oldSize);
  c.touch();
}

/**
 * Recursive removal (SFTPGo RemoveAll). Children are listed before anything is
 * deleted, and every item goes through removeFile/removeDir so permissions,
 * virtual-folder guards, quota and command logs apply to each one.
 */
export async function doRemoveAll(c: Connection, vpath: string): Promise<void> {
  if (vpath === '/' || c.mounts.isMountPoint(vpath)) throw new FsError('PermissionDenied', 'cannot remove the root or a virtual folder');
  await removeItem(c, vpath, { left: MAX_COPY_ENTRIES });
}

async function removeItem(c: Connection, vpath: string, budget: Budget): Promise<void> {
  if (--budget.left < 0) throw new FsError('Unsupported', 'too many items to remove');
  const info = await c.lstat(vpath);
  if (!info.isDirectory) {
    await c.removeFile(vpath);
    return;
  }
  const children: string[] = [];
  for await (const batch of c.readDir(vpath)) for (const fi of batch) children.push(fi.name);
  for (const name of children) await removeItem(c, vjoin(vpath, name), budget);
  await c.removeDir(vpath);
}
