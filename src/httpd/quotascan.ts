/**
 * Quota scans started through the API: walk the local directory of a user's
 * home (plus folders counted in the user's quota) or of a folder, then store
 * the totals with reset semantics. One scan per user/folder at a time; the
 * API answers 202 and the scan runs in the background.
 */
import { lstat, opendir } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { ServerContext } from '../common/context';
import { FsError } from '../common/errors';
import type { FilesystemConfig, Folder, User } from '../dataprovider/models';

export interface ActiveScan { name: string; start_time: number }

/** Local (0) and encrypted local (4) storage can be walked on disk. */
export function isLocal(fs: FilesystemConfig | undefined): boolean {
  return fs === undefined || fs.provider === 0 || fs.provider === 4;
}

const within = (child: string, parent: string): boolean => child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);

/**
 * Size and file count under `root`, not following symlinks and skipping the
 * `exclude` trees (virtual folders mounted inside a home are counted apart).
 * A missing root counts as empty.
 */
export async function dirUsage(root: string, exclude: readonly string[] = [], shouldStop: () => boolean = () => false): Promise<{ size: number; files: number }> {
  let size = 0;
  let files = 0;
  const stack: string[] = [resolve(root)];
  const skip = exclude.map((e) => resolve(e));
  while (stack.length > 0) {
    if (shouldStop()) throw new FsError('Aborted', 'quota scan aborted: the service is stopping');
    const dir = stack.pop() as string;
    let handle;
    try {
      handle = await opendir(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw e;
    }
    for await (const ent of handle) {
      const full = join(dir, ent.name);
      if (ent.isDirectory()) {
        if (!skip.some((s) => s === full)) stack.push(full);
      } else if (ent.isFile()) {
        try {
          size += (await lstat(full)).size;
          files++;
        } catch {
          // removed while scanning: not counted
        }
      }
    }
  }
  return { size, files };
}

/**
 * What a user's quota counts on disk: the home without the folders mounted
 * inside it, plus the local folders included in the user's quota
 * (quota_size -1). Shared by API scans and `serve --loaddata-scan`.
 */
export async function measureUserUsage(user: User, shouldStop: () => boolean = () => false): Promise<{ size: number; files: number }> {
  const home = resolve(user.home_dir);
  const included = (user.virtual_folders ?? []).filter((f) => f.quota_size === -1 && isLocal(f.filesystem));
  const nested = (user.virtual_folders ?? []).map((f) => resolve(f.mapped_path)).filter((p) => p !== home && within(p, home));
  const total = await dirUsage(home, nested, shouldStop);
  for (const f of included) {
    const u = await dirUsage(f.mapped_path, [], shouldStop);
    total.size += u.size;
    total.files += u.files;
  }
  return total;
}

export class QuotaScanner {
  private readonly users = new Map<string, ActiveScan>();
  private readonly folders = new Map<string, ActiveScan>();
  private readonly running = new Set<Promise<void>>();
  private stopping = false;
  private readonly stopped = (): boolean => this.stopping;

  constructor(private readonly ctx: ServerContext) {}

  activeUserScans(): ActiveScan[] { return [...this.users.values()]; }
  activeFolderScans(): ActiveScan[] { return [...this.folders.values()]; }
  isScanningUser(username: string): boolean { return this.users.has(username); }
  isScanningFolder(name: string): boolean { return this.folders.has(name); }

  /** Throws AlreadyExists when a scan for the user is running, Unsupported for non local storage. */
  startUserScan(user: User): void {
    if (this.stopping) throw new FsError('ShuttingDown');
    if (!isLocal(user.filesystem)) throw new FsError('Unsupported', 'quota scan is only supported for local storage');
    if (this.users.has(user.username)) throw new FsError('AlreadyExists', `a quota scan is already in progress for user ${user.username}`);
    this.users.set(user.username, { name: user.username, start_time: Date.now() });
    this.track(this.scanUser(user).finally(() => this.users.delete(user.username)), `user ${user.username}`);
  }

  startFolderScan(folder: Folder): void {
    if (this.stopping) throw new FsError('ShuttingDown');
    if (!isLocal(folder.filesystem)) throw new FsError('Unsupported', 'quota scan is only supported for local storage');
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
    const total = await measureUserUsage(user, this.stopped);
    await this.ctx.provider.updateUserQuota(user.username, total.size, total.files, true);
    this.ctx.logger.info('httpd', `quota scan for user ${user.username} done: ${total.files} files, ${total.size} bytes`);
  }

  private async scanFolder(folder: Folder): Promise<void> {
    const u = await dirUsage(folder.mapped_path, [], this.stopped);
    await this.ctx.provider.updateFolderQuota(folder.name, u.size, u.files, true);
    this.ctx.logger.info('httpd', `quota scan for folder ${folder.name} done: ${u.files} files, ${u.size} bytes`);
  }
}
