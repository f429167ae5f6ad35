/**
 * Disk usage measured through the storage backends (any provider), as
 * SFTPGo's ScanQuota: a user's home plus the virtual folders counted in the
 * user's quota, or a folder. The REST API's quota scans (httpd/quotascan.ts)
 * and the event manager's quota reset actions use it. A backend that counts
 * by itself (Fs.dirSize: HTTPFs `dirsize`) is asked instead of walked.
 */
import { relative, resolve, sep } from 'node:path';
import type { FilesystemConfig, Folder, User, VirtualFolder } from '../dataprovider/models';
import type { Fs } from '../vfs/fs';
import { FsError } from './errors';
import type { FsFactory } from './fs-factory';

export interface Usage { size: number; files: number }

type StopCheck = () => boolean;
type Log = (msg: string) => void;

/** Local (0) and encrypted local (4) storage live under a local path (nested folders are on the same disk). */
function isOnDisk(fs: FilesystemConfig | undefined): boolean {
  return fs === undefined || fs.provider === 0 || fs.provider === 4;
}

const within = (child: string, parent: string): boolean => child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);

/**
 * Size and file count of a backend. A backend that counts by itself
 * (Fs.dirSize, as SFTPGo's ScanRootDirContents for HTTPFs) is asked once,
 * unless trees must be excluded; otherwise, or when it turns out not to
 * offer it (Unsupported) or has no root yet (NotFound), the VFS is walked
 * from its root, not following symlinks and skipping the `exclude` trees
 * (backend paths: virtual folders whose storage lies inside the home are
 * counted apart). A missing root counts as empty.
 */
export async function fsUsage(fs: Fs, exclude: readonly string[] = [], shouldStop: StopCheck = () => false, log: Log = () => undefined): Promise<Usage> {
  if (fs.dirSize && exclude.length === 0) {
    try {
      const counted = await fs.dirSize('/');
      return { size: counted.size, files: counted.files };
    } catch (e) {
      if (!(e instanceof FsError && (e.kind === 'Unsupported' || e.kind === 'NotFound'))) throw e;
      log(`${fs.name} ${fs.root}: the backend did not count the files itself (${e.message}): walking it`);
    }
  }
  return walkUsage(fs, exclude, shouldStop);
}

async function walkUsage(fs: Fs, exclude: readonly string[], shouldStop: StopCheck): Promise<Usage> {
  let size = 0;
  let files = 0;
  const stack: string[] = ['/'];
  const skip = new Set(exclude);
  while (stack.length > 0) {
    if (shouldStop()) throw new FsError('Aborted', 'quota scan aborted: the service is stopping');
    const dir = stack.pop() as string;
    try {
      for await (const batch of fs.readDir(dir)) {
        for (const fi of batch) {
          const full = dir === '/' ? `/${fi.name}` : `${dir}/${fi.name}`;
          if (fi.isDirectory) {
            if (!skip.has(full)) stack.push(full);
          } else if (fi.isFile) {
            size += fi.size;
            files++;
          }
        }
      }
    } catch (e) {
      // removed while scanning, or a root never created: nothing to count
      if (e instanceof FsError && (e.kind === 'NotFound' || e.kind === 'NotDirectory')) continue;
      throw e;
    }
  }
  return { size, files };
}

/** A folder's usage through its backend (a virtual folder's subpath applied). */
export async function folderUsage(filesystems: FsFactory, folder: Folder | VirtualFolder, shouldStop: StopCheck = () => false, log: Log = () => undefined): Promise<Usage> {
  const subpath = 'subpath' in folder && folder.subpath ? folder.subpath : undefined;
  const fs = filesystems({ owner: `folder ${folder.name}`, localRoot: folder.mapped_path ?? '', filesystem: folder.filesystem ?? { provider: 0 }, subpath });
  try {
    return await fsUsage(fs, [], shouldStop, log);
  } finally {
    await fs.close().catch(() => undefined);
  }
}

/** The usage counted in a user's quota: the home (without the local folders stored inside it) plus the folders included in the quota. */
export async function userUsage(filesystems: FsFactory, user: User, shouldStop: StopCheck = () => false, log: Log = () => undefined): Promise<Usage> {
  const home = filesystems({ owner: `user ${user.username}`, localRoot: user.home_dir, filesystem: user.filesystem ?? { provider: 0 } });
  const folders = user.virtual_folders ?? [];
  const total = { size: 0, files: 0 };
  try {
    // folders stored inside a local home are left out of its walk; the ones
    // counted in the user's quota are then measured on their own
    const homeDir = resolve(user.home_dir);
    const nested = isOnDisk(user.filesystem) ? folders.filter((f) => isOnDisk(f.filesystem))
      .map((f) => resolve(f.mapped_path ?? '')).filter((p) => p !== homeDir && within(p, homeDir))
      .map((p) => '/' + relative(homeDir, p).split(sep).join('/')) : [];
    const u = await fsUsage(home, nested, shouldStop, log);
    total.size += u.size;
    total.files += u.files;
  } finally {
    await home.close().catch(() => undefined);
  }
  for (const f of folders.filter((v) => v.quota_size === -1)) {
    const u = await folderUsage(filesystems, f, shouldStop, log);
    total.size += u.size;
    total.files += u.files;
  }
  return total;
}
