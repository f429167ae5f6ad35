/**
 * The per-session mount table: the user's home plus each virtual folder,
 * each an Fs built by the filesystem factory from its filesystem config.
 * resolve() maps a virtual path to (fs, backend path) by longest-prefix
 * match, like SFTPGo's GetFilesystemForPath (a folder may even be mounted on "/").
 */
import * as path from 'node:path';
import type { User, VirtualFolder } from '../dataprovider/models';
import type { FsFactory } from './fs-factory';
import type { Fs } from '../vfs/fs';
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


/** folder.quota_size/quota_files both -1: counted in the user's quota (SFTPGo IsIncludedInUserQuota). */
export function isIncludedInUserQuota(f: VirtualFolder): boolean {
  return f.quota_size === -1 && f.quota_files === -1;
}

export class MountTable {
  private readonly mounts: Mount[];
  private readonly home: Mount;

  constructor(user: User, filesystems: FsFactory) {
    const fs = user.filesystem ?? { provider: 0 };
    this.home = { vpath: '/', fs: filesystems({ owner: `user ${user.username}`, localRoot: user.home_dir, filesystem: fs }) };
    const folders: Mount[] = [];
    for (const f of user.virtual_folders ?? []) {
      const vp = cleanVirtualPath(f.virtual_path);
      const made = filesystems({
        owner: `folder ${f.name}`, localRoot: f.mapped_path ?? '', filesystem: f.filesystem ?? { provider: 0 }, subpath: folderSubpath(f),
      });
      folders.push({ vpath: vp, fs: made, folder: f });
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

/** The folder's subpath, canonical; one that could climb out of the folder is refused. */
function folderSubpath(f: VirtualFolder): string | undefined {
  if (!f.subpath || f.subpath === '/') return undefined;
  const clean = cleanVirtualPath(f.subpath);
  if (clean !== f.subpath) throw new FsError('InvalidPath', `folder ${f.name}: subpath ${JSON.stringify(f.subpath)} is not canonical`);
  return clean;
}
