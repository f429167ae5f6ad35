/**
 * Quota scans started through the API: measure a user's home (plus folders
 * counted in the user's quota) or a folder through its storage backend, then store
 * the totals with reset semantics. One scan per user/folder at a time; the
 * API answers 202 and the scan runs in the background.
 */
import { relative, resolve, sep } from 'node:path';
import type { ServerContext } from '../common/context';
import { FsError } from '../common/errors';
import type { FilesystemConfig, Folder, User, VirtualFolder } from '../dataprovider/models';
import type { Fs } from '../vfs/fs';

export interface ActiveScan { name: string; start_time: number }

/** Local (0) and encrypted local (4) storage live under a local path (nested folders are on the same disk). */
function isOnDisk(fs: FilesystemConfig | undefined): boolean {
  return fs === undefined || fs.provider === 0 || fs.provider === 4;
}

const within = (child: string, parent: string): boolean => child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);

/**
 * Size and file count of a backend. A backend that counts by itself
 * (Fs.dirSize: HTTPFs `dirsize`, as SFTPGo's ScanRootDirContents) is asked
 * once, unless trees must be excluded; otherwise, or when it turns out not to
 * offer it (Unsupported) or has no root yet (NotFound), the VFS is walked
 * from its root, not following symlinks and skipping the `exclude` trees
 * (backend paths: virtual folders whose storage lies inside the home are
 * counted apart). A missing root counts as empty.
 */
export async function fsUsage(fs: Fs, exclude: readonly string[] = [], shouldStop: () => boolean = () => false,
  log: (msg: string) => void = () => undefined): Promise<{ size: number; files: number }> {
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

async function walkUsage(fs: Fs, exclude: readonly string[], shouldStop: () => boolean): Promise<{ size: number; files: number }> {
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

export class QuotaScanner {
  private readonly users = new Map<string, ActiveScan>();
  private readonly folders = new Map<string, ActiveScan>();
  private readonly running = new Set<Promise<void>>();
  private stopping = false;
  private readonly stopped = (): boolean => this.stopping;
  private readonly log = (msg: string): void => this.ctx.logger.info('httpd', `quota scan: ${msg}`);

  constructor(private readonly ctx: ServerContext) {}

  activeUserScans(): ActiveScan[] { return [...this.users.values()]; }
  activeFolderScans(): ActiveScan[] { return [...this.folders.values()]; }
  isScanningUser(username: string): boolean { return this.users.has(username); }
  isScanningFolder(name: string): boolean { return this.folders.has(name); }

  /** Throws AlreadyExists when a scan for the user is running. */
  startUserScan(user: User): void {
    if (this.stopping) throw new FsError('ShuttingDown');
    if (this.users.has(user.username)) throw new FsError('AlreadyExists', `a quota scan is already in progress for user ${user.username}`);
    this.users.set(user.username, { name: user.username, start_time: Date.now() });
    this.track(this.scanUser(user).finally(() => this.users.delete(user.username)), `user ${user.username}`);
  }

  startFolderScan(folder: Folder): void {
    if (this.stopping) throw new FsError('ShuttingDown');
    if (this.folders.has(folder.name)) throw new FsError('AlreadyExists', `a quota scan is already in progress for folder ${folder.name}`);
    this.folders.set(folder.name, { name: folder.name, start_time: Date.now() });
    this.track(this.scanFolder(folder).finally(() => this.folders.delete(folder.name)), `folder ${folder.name}`);
  }

  /** Service stop: running walks end at the next directory, new scans are refused. */
  async abortAll(): Promise<void> {
    this.stopping = true;
    await this.whenIdle();
  }

  /** Service (re)start: accept scans again. */
  resume(): void {
    this.stopping = false;
  }

  /** Resolves when every scan started so far has finished (tests, shutdown). */
  async whenIdle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private track(p: Promise<void>, what: string): void {
    const guarded = p.catch((e: unknown) => {
      this.ctx.logger.warn('httpd', `quota scan for ${what} failed: ${e instanceof Error ? e.message : String(e)}`);
    });
    this.running.add(guarded);
    void guarded.finally(() => this.running.delete(guarded));
  }

  private async scanUser(user: User): Promise<void> {
    const home = this.ctx.filesystems({ owner: `user ${user.username}`, localRoot: user.home_dir, filesystem: user.filesystem ?? { provider: 0 } });
    const folders = user.virtual_folders ?? [];
    const total = { size: 0, files: 0 };
    try {
      // folders stored inside a local home are left out of its walk; the ones
      // counted in the user's quota are then walked on their own
      const nested = isOnDisk(user.filesystem) ? folders.filter((f) => isOnDisk(f.filesystem))
        .map((f) => resolve(f.mapped_path ?? '')).filter((p) => p !== resolve(user.home_dir) && within(p, resolve(user.home_dir)))
        .map((p) => '/' + relative(resolve(user.home_dir), p).split(sep).join('/')) : [];
      const u = await fsUsage(home, nested, this.stopped, this.log);
      total.size += u.size; total.files += u.files;
    } finally {
      await home.close().catch(() => undefined);
    }
    for (const f of folders.filter((v) => v.quota_size === -1)) {
      const u = await this.folderUsage(f);
      total.size += u.size;
      total.files += u.files;
    }
    await this.ctx.provider.updateUserQuota(user.username, total.size, total.files, true);
    this.ctx.logger.info('httpd', `quota scan for user ${user.username} done: ${total.files} files, ${total.size} bytes`);
  }

  private async folderUsage(folder: Folder | VirtualFolder): Promise<{ size: number; files: number }> {
    const subpath = 'subpath' in folder && folder.subpath ? folder.subpath : undefined;
    const fs = this.ctx.filesystems({ owner: `folder ${folder.name}`, localRoot: folder.mapped_path ?? '', filesystem: folder.filesystem ?? { provider: 0 }, subpath });
    try {
      return await fsUsage(fs, [], this.stopped, this.log);
    } finally {
      await fs.close().catch(() => undefined);
    }
  }

  private async scanFolder(folder: Folder): Promise<void> {
    const u = await this.folderUsage(folder);
    await this.ctx.provider.updateFolderQuota(folder.name, u.size, u.files, true);
    this.ctx.logger.info('httpd', `quota scan for folder ${folder.name} done: ${u.files} files, ${u.size} bytes`);
  }
}
