/**
 * The one open sequence for every protocol: shutdown check, permissions,
 * file filters, quota, max upload size, data-transfer quota, upload mode,
 * then the backend open. SFTPGo's handleFilewrite/handleFileread rules.
 */
import type { CommonConfig } from '../config/types';
import type { FileInfo } from '../vfs/fs';
import { FsError } from './errors';
import { giveToUser } from './ownership';
import { isFileAllowed, maxUploadFileSize, DENY_POLICY_HIDE } from './filters';
import type { MountTable } from './mounts';
import { canDownload, canOverwrite, canUpload } from './permissions';
import { bandwidthFor } from './throttle';
import { OrderedWriteHandle } from './ordered-writes';
import type { FsAction } from './events';
import { DownloadTransfer, UploadTransfer, type TransferHost } from './transfer';
import type { OpenWriteRequest } from './types';
import { canResume, checkResumeOffset } from './upload-outcome';

export interface OpenHost extends TransferHost {
  readonly mounts: MountTable;
  readonly config: CommonConfig;
  isShuttingDown(): boolean;
  nextTransferId(): number;
  /** pre-* actions (common.actions, event rules): throws FsError('PermissionDenied') when refused */
  preAction(action: FsAction, vpath: string, fileSize: number, openFlags?: number): Promise<void>;
}

const KB = 1024;

export function deniedFileError(denyPolicy: number): FsError {
  return denyPolicy === DENY_POLICY_HIDE ? new FsError('NotFound') : new FsError('PermissionDenied');
}

export async function openDownload(h: OpenHost, vpath: string): Promise<DownloadTransfer> {
  if (h.isShuttingDown()) throw new FsError('ShuttingDown');
  if (!canDownload(h.user, vpath)) throw new FsError('PermissionDenied');
  const fa = isFileAllowed(h.user, vpath);
  if (!fa.allowed) throw deniedFileError(fa.denyPolicy);
  const tq = await h.quota.transferQuota();
  if (tq.download === 0) throw new FsError('ReadQuotaExceeded');
  await h.preAction('pre-download', vpath, 0);
  const { fs, fsPath } = h.mounts.resolve(vpath);
  const handle = await fs.openRead(fsPath);
  return new DownloadTransfer({
    id: h.nextTransferId(), host: h, virtualPath: vpath, fs, fsPath, handle,
    bandwidth: bandwidthFor(h.user, h.remoteAddr).download * KB, allowed: tq.download,
  });
}

/** SFTPGo's GetMaxWriteSize. */
function maxWriteSize(remaining: number, isResume: boolean, fileSize: number, maxFile: number): number {
  let max = remaining;
  if (isResume) {
    if (maxFile > 0 && maxFile <= fileSize) throw new FsError('QuotaExceeded', 'the file is already at the maximum allowed size');
    if (maxFile > 0) {
      const left = maxFile - fileSize;
      if (left < max || max === 0) max = left;
    }
  } else {
    // overwriting frees the old size
    if (max > 0) max += fileSize;
    if (maxFile > 0 && (maxFile < max || max === 0)) max = maxFile;
  }
  return max;
}

export async function openUpload(h: OpenHost, vpath: string, req: OpenWriteRequest): Promise<UploadTransfer> {
  if (h.isShuttingDown()) throw new FsError('ShuttingDown');
  if (!isFileAllowed(h.user, vpath).allowed) throw new FsError('PermissionDenied');
  if (vpath === '/' || h.mounts.isMountPoint(vpath)) throw new FsError('Unsupported', 'cannot upload onto a directory');
  const { fs, fsPath } = h.mounts.resolve(vpath);
  let st: FileInfo | undefined;
  try {
    st = await fs.lstat(fsPath);
  } catch (e) {
    if (!(e instanceof FsError && e.kind === 'NotFound')) throw e;
  }
  // a symlink is replaced like a new file (SFTPGo does the same)
  const exists = st !== undefined && !st.isSymlink;
  if (st?.isDirectory) throw new FsError('Unsupported', 'a directory with the same name exists');
  const isResume = exists && !req.truncate;
  // A file with other names (hard links) is never written through: its other
  // names may sit where this user has no write rights. An overwrite replaces
  // this directory entry (below), a resume or append would modify shared bytes.
  const sharedContent = exists && st !== undefined && (st.nlink ?? 1) > 1;
  if (sharedContent && isResume) throw new FsError('PermissionDenied', 'cannot resume or append to a file with more than one hard link');
  if (!exists) {
    if (!canUpload(h.user, vpath)) throw new FsError('PermissionDenied');
  } else {
    if (!canOverwrite(h.user, vpath)) throw new FsError('PermissionDenied');
    if (isResume && !canUpload(h.user, vpath)) throw new FsError('PermissionDenied');
    if (req.exclusive) throw new FsError('AlreadyExists');
  }
  if (req.read && (!canDownload(h.user, vpath) || !fs.features.readWrite)) throw new FsError('PermissionDenied');
  const oldSize = exists && st ? st.size : 0;
  if (req.offset < 0 || (req.offset > 0 && req.offset > oldSize)) {
    throw new FsError('Generic', `invalid resume offset ${req.offset}, file size ${oldSize}`);
  }
  if (req.offset > 0 && !isResume) throw new FsError('Generic', 'a resume offset needs an existing file opened without truncate');
  // SFTPGo GetMaxWriteSize: a resume the storage cannot do is an unsupported operation
  if (isResume && !canResume(fs.features, oldSize)) throw new FsError('Unsupported', 'resuming uploads is not supported by this storage');
  if (isResume) checkResumeOffset(fs.features, req.offset, oldSize);
  await h.preAction('pre-upload', vpath, oldSize, req.openFlags ?? 0);

  const quota = await h.quota.check(vpath, !exists);
  if (!quota.hasSpace) throw new FsError('QuotaExceeded');
  const maxWrite = maxWriteSize(quota.remainingSize, isResume, oldSize, maxUploadFileSize(h.user));
  const tq = await h.quota.transferQuota();
  if (tq.upload === 0) throw new FsError('QuotaExceeded', 'denying write due to transfer quota limit');

  const mode = h.config.upload_mode & 3;
  const atomicMode: 0 | 1 | 2 = fs.features.atomicRename ? ((mode & 2) !== 0 ? 2 : (mode & 1) !== 0 ? 1 : 0) : 0;
  let writePath = fsPath;
  // non-atomic overwrite of a multi-linked file: unlink this name first so the
  // new content gets its own inode (atomic modes rename a new file over it anyway)
  if (sharedContent && atomicMode === 0) await fs.remove(fsPath);
  if (atomicMode !== 0) {
    writePath = fs.tempUploadPath(fsPath);
    // resuming atomically continues from the existing bytes: move them aside first
    if (isResume) await fs.rename(fsPath, writePath);
  }
  const opened = await fs.openWrite(writePath, {
    create: true,
    truncate: !isResume,
    // never O_APPEND: every write is positioned (a resume starts at the old
    // size), and with O_APPEND the kernel ignores the offset, so the pipelined
    // SFTP writes OpenSSH's reput sends (APPEND flag) would land in completion
    // order instead of at their offsets. SFTPGo ignores the flag for the same reason.
    append: false,
    exclusive: atomicMode === 0 && req.exclusive,
    read: req.read,
    mode: req.mode,
  }).catch(async (e: unknown) => {
    // put the moved file back so a failed open loses nothing
    if (atomicMode !== 0 && isResume) await fs.rename(writePath, fsPath).catch(() => undefined);
    throw e;
  });
  // the temporary file of an atomic upload keeps its owner when renamed into place
  await giveToUser(fs, writePath, h.user, h.logger, h.id);
  let start = 0;
  if (isResume) {
    start = req.offset > 0 ? req.offset : oldSize;
    if (req.offset > 0 && req.offset < oldSize) {
      // REST n + STOR: the file becomes the first n bytes plus what follows
      await opened.truncate(req.offset).catch(async (e: unknown) => { await opened.abort(e as Error).catch(() => undefined); throw e; });
    }
  }
  // append-only storage: common puts pipelined writes in order (see ordered-writes.ts)
  const handle = fs.features.randomWrite ? opened : new OrderedWriteHandle(opened, start);
  return new UploadTransfer({
    id: h.nextTransferId(), host: h, virtualPath: vpath, fs, fsPath, writePath, handle, atomicMode,
    existedBefore: exists, sizeBefore: oldSize, startOffset: start, minWriteOffset: isResume ? start : 0,
    maxWriteSize: maxWrite, allowed: tq.upload, bandwidth: bandwidthFor(h.user, h.remoteAddr).upload * KB,
  });
}
