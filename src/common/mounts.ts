/**
 * The per-session mount table: the user's home plus each virtual folder,
 * each an Fs rooted at its local directory. resolve() maps a virtual path to
 * (fs, backend path) by longest-prefix match, like SFTPGo's
 * GetFilesystemForPath (a folder may even be mounted on "/").
 */
import * as path from 'node:path';
import type { User, VirtualFolder } from '../dataprovider/models';
import type { Fs } from '../vfs/fs';
import { OsFs } from '../vfs/osfs';
import { FsError } from './errors';
import { cleanVirtualPath, dirsForVirtualPath, isSameOrInside, vdir } from './vpath';

export interface Mount {
  /** "/" for the home, else the folder's virtual_path */
  vpath: string;
  fs: Fs;
  /** present for virtual folders */
  folder?: VirtualFolder;
}

export interface Resolved { fs: Fs; fsPath: string; mount: Mount }

export interface MountTableOptions {
  umask?: number;
  /** builds the Fs for a root; defaults to OsFs (tests and later S3/GCS plug in here) */
  makeFs?: (root: string, folder?: VirtualFolder) => Fs;
}

/** folder.quota_size/quota_files both -1: counted in the user's quota (SFTPGo IsIncludedInUserQuota). */
export function isIncludedInUserQuota(f: VirtualFolder): boolean {
  return f.quota_size === -1 && f.quota_files === -1;
}

export class MountTable {
  private readonly mounts: Mount[];
  private readonly home: Mount;

  constructor(user: User, opts: MountTableOptions = {}) {
    const make = opts.makeFs ?? ((root: string) => new OsFs({ root, umask: opts.umask }));
    if (!user.home_dir || !path.isAbsolute(user.home_dir)) {
      throw new FsError('InvalidPath', `user ${user.username}: home_dir must be an absolute path`);
    }
    this.home = { vpath: '/', fs: make(user.home_dir) };
    const folders: Mount[] = [];
    for (const f of user.virtual_folders ?? []) {
      const vp = cleanVirtualPath(f.virtual_path);
      folders.push({ vpath: vp, fs: make(folderRoot(f), f), folder: f });
    }
    // longest first: the first prefix match is the most specific mount
    folders.sort((a, b) => b.vpath.length - a.vpath.length);
    this.mounts = folders;
  }

  all(): Mount[] {
    return [...this.mounts, this.home];
  }

  resolve(vpath: string): Resolved {
    for (const m of this.mounts) {
      if (isSameOrInside(vpath, m.vpath)) {
        const rest = m.vpath === '/' ? vpath : vpath.slice(m.vpath.length);
        return { fs: m.fs, fsPath: rest === '' ? '/' : rest, mount: m };
      }
    }
    return { fs: this.home.fs, fsPath: vpath, mount: this.home };
  }

  /** The virtual folder that contains `vpath` (SFTPGo GetVirtualFolderForPath). */
  folderFor(vpath: string): VirtualFolder | undefined {
    const m = this.resolve(vpath).mount;
    return m.folder;
  }

  isMountPoint(vpath: string): boolean {
    return this.mounts.some((m) => m.vpath === vpath);
  }

  /** Virtual folders strictly inside `vpath` (a dir holding mounts cannot be removed/renamed). */
  hasMountsInside(vpath: string): boolean {
    if (vpath === '/' && this.mounts.length > 0) return true;
    return this.mounts.some((m) => m.vpath.length > vpath.length && m.vpath.startsWith(vpath + '/'));
  }

  /**
   * Names that must appear as directories in a listing of `dirPath`: mount
   * points directly inside it and the intermediate dirs leading to deeper
   * mounts (SFTPGo GetVirtualFoldersInPath).
   */
  virtualEntriesIn(dirPath: string): string[] {
    const names = new Set<string>();
    for (const m of this.mounts) {
      for (const d of dirsForVirtualPath(m.vpath)) {
        if (d !== '/' && vdir(d) === dirPath) names.add(path.posix.basename(d));
      }
    }
    return [...names];
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((m) => m.fs.close().catch(() => undefined)));
  }
}

function folderRoot(f: VirtualFolder): string {
  if (!f.mapped_path || !path.isAbsolute(f.mapped_path)) {
    throw new FsError('InvalidPath', `folder ${f.name}: mapped_path must be an absolute path`);
  }
  if (!f.subpath) return f.mapped_path;
  // subpath is relative to the mapped path and may never climb out of it
  const sub = cleanVirtualPath(f.subpath);
  return path.join(f.mapped_path, sub);
}
