/**
 * Quota scans started through the API: measure a user's home (plus folders
 * counted in the user's quota) or a folder through its storage backend, then store
 * the totals with reset semantics. One scan per user/folder at a time; the
 * API answers 202 and the scan runs in the background.
 */
import { folderUsage, userUsage } from '../common/backend-usage';
import type { ServerContext } from '../common/context';
import { FsError } from '../common/errors';
import type { Folder, User } from '../dataprovider/models';

export interface ActiveScan { name: string; start_time: number }

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
    const total = await userUsage(this.ctx.filesystems, user, this.stopped, this.log);
    await this.ctx.provider.updateUserQuota(user.username, total.size, total.files, true);
    this.ctx.logger.info('httpd', `quota scan for user ${user.username} done: ${total.files} files, ${total.size} bytes`);
  }

  private async scanFolder(folder: Folder): Promise<void> {
    const u = await folderUsage(this.ctx.filesystems, folder, this.stopped, this.log);
    await this.ctx.provider.updateFolderQuota(folder.name, u.size, u.files, true);
    this.ctx.logger.info('httpd', `quota scan for folder ${folder.name} done: ${u.files} files, ${u.size} bytes`);
  }
}
