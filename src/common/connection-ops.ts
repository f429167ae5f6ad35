/**
 * The verbs of Connection with the most rules: rename (SFTPGo
 * isRenamePermitted + overwrite rules) and setstat.
 */
import type { FileInfo, Fs, SetStatAttrs } from '../vfs/fs';
import type { Connection } from './connection';
import { FsError } from './errors';
import { giveToUser } from './ownership';
import { isFileAllowed } from './filters';
import { canOverwrite, hasPerm, hasPermissionsInside, hasRenamePerms } from './permissions';
import { isSameOrInside, vdir, vjoin } from './vpath';

/** Bound on the entries a permission walk of a renamed directory visits. */
const MAX_WALK_ENTRIES = 100_000;

export async function lstatOrUndefined(fs: Fs, p: string): Promise<FileInfo | undefined> {
  try {
    return await fs.lstat(p);
  } catch (e) {
    if (e instanceof FsError && e.kind === 'NotFound') return undefined;
    throw e;
  }
}

/**
 * When the source or target subtree has its own permissions, every item
 * must be renameable with the permissions of where it is and where it goes
 * (SFTPGo checkRecursiveRenameDirPermissions).
 */
async function checkRecursiveRename(c: Connection, fs: Fs, srcFs: string, from: string, to: string): Promise<void> {
  if (!hasPermissionsInside(c.user, from) && !hasPermissionsInside(c.user, to)) return;
  let visited = 0;
  const stack: [string, string, string][] = [[srcFs, from, to]];
  while (stack.length > 0) {
    const [dirFs, vFrom, vTo] = stack.pop() as [string, string, string];
    for await (const batch of fs.readDir(dirFs)) {
      for (const fi of batch) {
        if (++visited > MAX_WALK_ENTRIES) throw new FsError('Unsupported', 'directory too large to check rename permissions');
        const s = vjoin(vFrom, fi.name);
        const d = vjoin(vTo, fi.name);
        if (!hasRenamePerms(c.user, s, d, fi.isDirectory)) throw new FsError('PermissionDenied', `rename of ${s} not allowed`);
        if (fi.isDirectory) stack.push([vjoin(dirFs, fi.name), s, d]);
      }
    }
  }
}

export async function doRename(c: Connection, from: string, to: string): Promise<void> {
  if (from === to) throw new FsError('Unsupported', 'the rename source and target cannot be the same');
  if (from === '/' || to === '/' || c.mounts.isMountPoint(from) || c.mounts.isMountPoint(to)) {
    throw new FsError('PermissionDenied', 'the root and virtual folders cannot be renamed');
  }
  const src = c.mounts.resolve(from);
  const dst = c.mounts.resolve(to);
  const srcInfo = await src.fs.lstat(src.fsPath);
  if (!isFileAllowed(c.user, from).allowed || !isFileAllowed(c.user, to).allowed) {
    if (!srcInfo.isDirectory) throw new FsError('PermissionDenied');
  }
  if (!hasRenamePerms(c.user, from, to, srcInfo.isDirectory)) throw new FsError('PermissionDenied');
  const dstInfo = await lstatOrUndefined(dst.fs, dst.fsPath);
  if (dstInfo) {
    if (dstInfo.isDirectory) throw new FsError('Unsupported', 'cannot rename onto an existing directory');
    if (!canOverwrite(c.user, to)) throw new FsError('PermissionDenied');
  }
  if (srcInfo.isDirectory) {
    if (c.mounts.hasMountsInside(from)) throw new FsError('PermissionDenied', 'the directory contains virtual folders');
    if (isSameOrInside(to, from)) throw new FsError('InvalidPath', 'cannot move a directory inside itself');
    if (src.fs !== dst.fs) throw new FsError('Unsupported', 'directories cannot be moved across virtual folders');
    await checkRecursiveRename(c, src.fs, src.fsPath, from, to);
  }
  await c.logged('Rename', from, async () => {
    if (src.fs === dst.fs) {
      await src.fs.rename(src.fsPath, dst.fsPath);
    } else {
      // across mounts: copy then delete, as SFTPGo does for files
      const q = await c.quota.check(to, !dstInfo);
      if (!q.hasSpace || (q.remainingSize > 0 && srcInfo.size - (dstInfo?.size ?? 0) > q.remainingSize)) throw new FsError('QuotaExceeded');
      await copyAcross(src.fs, src.fsPath, dst.fs, dst.fsPath);
      await src.fs.remove(src.fsPath);
      c.logger.info('common', 'rename across mounts done as copy + delete: not atomic',
        { connection_id: c.id, source: from, target: to, source_storage: src.fs.name, target_storage: dst.fs.name });
    }
    // setstat follows links: a moved symlink keeps its owner, its target is not touched
    if (!srcInfo.isSymlink) await giveToUser(dst.fs, dst.fsPath, c.user, c.logger, c.id);
    // the replaced target is gone; the moved item leaves its old quota owner for the new one
    if (dstInfo && !dstInfo.isSymlink) await c.quota.update(to, -1, -dstInfo.size);
    if (!srcInfo.isDirectory && !srcInfo.isSymlink && c.quota.ownerFolder(from)?.name !== c.quota.ownerFolder(to)?.name) {
      await c.quota.update(from, -1, -srcInfo.size);
      await c.quota.update(to, 1, srcInfo.size);
    }
  }, { targetPath: dst.fs.fsPath(dst.fsPath), virtualTargetPath: to });
}

/** Streams a file between two backends (the target is created or truncated). */
export async function copyAcross(sfs: Fs, sp: string, dfs: Fs, dp: string): Promise<void> {
  const r = await sfs.openRead(sp);
  try {
    const w = await dfs.openWrite(dp, { create: true, truncate: true, append: false, exclusive: false, read: false });
    try {
      const buf = Buffer.allocUnsafe(256 * 1024);
      let pos = 0;
      // bounded by the file size: each round reads at least one byte or stops
      for (;;) {
        const n = await r.readAt(buf, 0, buf.length, pos);
        if (n === 0) break;
        await w.writeAt(n === buf.length ? buf : buf.subarray(0, n), pos);
        pos += n;
      }
    } catch (e) {
      // a half copy is never committed (object stores drop it)
      await w.abort(e as Error).catch(() => undefined);
      throw e;
    }
    await w.close();
  } finally {
    await r.close().catch(() => undefined);
  }
}

/** common.setstat_mode: 0 apply, 1 ignore everything, 2 ignore what the backend cannot do. */
export async function doSetStat(c: Connection, vpath: string, attrs: SetStatAttrs): Promise<void> {
  const fa = isFileAllowed(c.user, vpath);
  if (!fa.allowed) throw fa.denyPolicy === 1 ? new FsError('NotFound') : new FsError('PermissionDenied');
  c.touch();
  const mode = c.config.setstat_mode;
  if (mode === 1) return;
  const { fs, fsPath } = c.mounts.resolve(vpath);
  // a file this session is uploading: the attributes go to the upload (with
  // atomic uploads the target does not exist until close, e.g. OpenSSH `put -p`)
  const upload = c.activeUpload(vpath);
  const info = upload ? await upload.stat() : await fs.lstat(fsPath);
  // SFTPGo getPathForSetStatPerms: a dir is checked on its parent, a file on its own path
  const permPath = info.isDirectory ? vdir(vpath) : vpath;
  const f = fs.features;
  const steps: { sender: string; perm: 'chmod' | 'chown' | 'chtimes' | 'overwrite'; supported: boolean; attrs: SetStatAttrs; extra: Record<string, unknown> }[] = [];
  if (attrs.mode !== undefined) steps.push({ sender: 'Chmod', perm: 'chmod', supported: f.chmod, attrs: { mode: attrs.mode }, extra: { fileMode: attrs.mode } });
  if (attrs.uid !== undefined || attrs.gid !== undefined) {
    steps.push({ sender: 'Chown', perm: 'chown', supported: f.chown, attrs: { uid: attrs.uid, gid: attrs.gid }, extra: { uid: attrs.uid ?? -1, gid: attrs.gid ?? -1 } });
  }
  if (attrs.atime !== undefined || attrs.mtime !== undefined) {
    steps.push({
      sender: 'Chtimes', perm: 'chtimes', supported: f.chtimes, attrs: { atime: attrs.atime, mtime: attrs.mtime },
      extra: { atime: attrs.atime?.toISOString(), mtime: attrs.mtime?.toISOString() },
    });
  }
  if (attrs.size !== undefined) steps.push({ sender: 'Truncate', perm: 'overwrite', supported: f.truncate, attrs: { size: attrs.size }, extra: { size: attrs.size } });
  for (const s of steps) {
    if (!hasPerm(c.user, s.perm, permPath)) throw new FsError('PermissionDenied');
    // truncating would change the content every other hard link shares (open.ts has the same rule)
    if (s.attrs.size !== undefined && !upload && (info.nlink ?? 1) > 1) {
      throw new FsError('PermissionDenied', 'cannot truncate a file with more than one hard link');
    }
    if (!s.supported) {
      if (mode === 2) continue;
      throw new FsError('Unsupported');
    }
    await c.logged(s.sender, vpath, async () => {
      try {
        // the upload settles the quota from the final size when it closes
        if (upload) { await upload.setAttrs(s.attrs); return; }
        await fs.setStat(fsPath, s.attrs);
      } catch (e) {
        if (mode === 2 && e instanceof FsError && e.kind === 'Unsupported') return;
        throw e;
      }
      if (s.attrs.size !== undefined && info.isFile) await c.quota.update(vpath, 0, s.attrs.size - info.size);
    }, s.extra);
  }
}
