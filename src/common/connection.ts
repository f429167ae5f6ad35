/**
 * One authenticated session: the FileOps every protocol adapter calls with
 * virtual paths. Each verb: permission check → file filters → mount
 * resolution → backend call → command log; errors are FsError.
 */
import { prepareSystemCommand } from './system-command';
import { createHash } from 'node:crypto';
import type { CommonConfig } from '../config/types';
import type { User } from '../dataprovider/models';
import type { AppLogger, CommandLogEntry } from '../logger/types';
import type { Metrics } from '../metrics/types';
import { S_IFDIR, type FileInfo, type SetStatAttrs, type StatVFS } from '../vfs/fs';
import { FsError } from './errors';
import { ensureRootOwned, giveToUser } from './ownership';
import { ACTION_OF_SENDER, noEvents, type EventSink, type FsAction } from './events';
import { actionDone, fsProviderOf, preAction, sshCommandDone, uploadDone, type ActionDone } from './connection-events';
import { getPatternsFilterForPath, isFileAllowed, isHiddenInListing } from './filters';
import { MountTable, type Resolved } from './mounts';
import { deniedFileError, openDownload, openUpload, type OpenHost } from './open';
import { canCreateDir, canCreateSymlink, canDeleteDir, canDeleteFile, canDownload, hasPerm, hasPerms } from './permissions';
import { QuotaService } from './quota';
import { doRename, doSetStat } from './connection-ops';
import { doCopy, doRemoveAll } from './copy';
import { UploadTransfer, type ActiveTransfer } from './transfer';
import type { ConnectionInfo, Download, FileOps, OpenWriteRequest, Protocol, Upload } from './types';
import { cleanVirtualPath, vbase, vdir, vjoin } from './vpath';
import type { ConnectionOptions } from './connection-options';

export type { ConnectionOptions } from './connection-options';

export type ChecksumAlgo = 'md5' | 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

/** common.umask ("022", "0022") → number; undefined when unset or malformed. */
export function parseUmask(s: string | undefined): number | undefined {
  if (!s || !/^[0-7]{1,4}$/.test(s)) return undefined;
  return parseInt(s, 8) & 0o777;
}

export class Connection implements FileOps, OpenHost {
  readonly id: string;
  readonly protocol: Protocol;
  readonly user: User;
  readonly remoteAddr: string;
  readonly localAddr: string;
  readonly clientVersion: string;
  readonly config: CommonConfig;
  readonly logger: AppLogger;
  readonly metrics: Metrics;
  readonly mounts: MountTable;
  readonly quota: QuotaService;
  readonly events: EventSink;
  readonly connectedAt = Date.now();
  lastActivity = Date.now();
  private command = '';
  private transferSeq = 0;
  private readonly transfers = new Map<number, ActiveTransfer>();
  private readonly opts: ConnectionOptions;

  constructor(opts: ConnectionOptions) {
    this.opts = opts;
    this.id = opts.id;
    this.protocol = opts.protocol;
    this.user = opts.user;
    this.remoteAddr = opts.remoteAddr;
    this.localAddr = opts.localAddr;
    this.clientVersion = opts.clientVersion ?? '';
    this.config = opts.config;
    this.logger = opts.logger;
    this.metrics = opts.metrics;
    this.mounts = new MountTable(opts.user, opts.filesystems);
    this.events = opts.events ?? noEvents();
    this.quota = new QuotaService(opts.provider, opts.user, this.mounts, opts.trackQuota ?? 2, opts.logger, opts.id);
  }

  // ---- session bookkeeping ----

  isShuttingDown(): boolean { return this.opts.isShuttingDown(); }
  nextTransferId(): number { return ++this.transferSeq; }
  register(t: ActiveTransfer): void { this.transfers.set(t.id, t); this.opts.onTransfersChanged?.(1); }
  unregister(t: ActiveTransfer): void {
    if (this.transfers.delete(t.id)) this.opts.onTransfersChanged?.(-1);
  }
  touch(): void { this.lastActivity = Date.now(); }
  setCommand(cmd: string): void { this.command = cmd; this.touch(); }
  activeTransfers(): number { return this.transfers.size; }

  /** The newest still-open upload of `vpath` in this session (setstat acts on it, see doSetStat). */
  activeUpload(vpath: string): UploadTransfer | undefined {
    let found: UploadTransfer | undefined;
    for (const t of this.transfers.values()) {
      if (t instanceof UploadTransfer && t.isOpen && t.virtualPath === vpath && (!found || t.id > found.id)) found = t;
    }
    return found;
  }

  info(): ConnectionInfo {
    return {
      id: this.id, username: this.user.username, protocol: this.protocol, remoteAddr: this.remoteAddr,
      localAddr: this.localAddr, clientVersion: this.clientVersion, connectedAt: this.connectedAt,
      lastActivity: this.lastActivity, command: this.command, transfers: [...this.transfers.values()].map((t) => t.info()),
      ...(this.user.role ? { role: this.user.role } : {}),
    };
  }

  /** Closes open transfers as aborted and releases the backends. */
  async closeAll(reason: string): Promise<void> {
    const err = new FsError('Aborted', reason);
    await Promise.all([...this.transfers.values()].map((t) => t.close(err).catch(() => undefined)));
    await this.mounts.close();
  }

  /** Creates the home and folder roots (SFTPGo CheckFsRoot); adapters call it after login. */
  async ensureRoots(): Promise<void> {
    if (this.user.filters?.disable_fs_checks) return;
    for (const m of this.mounts.all()) await ensureRootOwned(m.fs, this.user, this.logger, this.id);
  }

  cleanPath(p: string, cwd = '/'): string { return cleanVirtualPath(p, cwd); }
  resolve(vpath: string): Resolved { return this.mounts.resolve(vpath); }

  logCommand(e: Omit<CommandLogEntry, 'localAddr' | 'remoteAddr' | 'username' | 'connectionId' | 'protocol'>): void {
    this.logger.command({
      ...e, localAddr: this.localAddr, remoteAddr: this.remoteAddr, username: this.user.username,
      connectionId: this.id, protocol: this.protocol,
    });
  }

  /**
   * Runs a command verb, logging it (with the error, if any) under `sender`,
   * then reports it to the event sink when the sender is an SFTPGo action
   * (on success; a copy also on failure, as SFTPGo). `eventSize` gives the
   * size the event carries (the removed file's size for a delete).
   */
  async logged<T>(sender: string, vpath: string, fn: (r: Resolved) => Promise<T>, extra: Partial<CommandLogEntry> = {}, eventSize?: () => number): Promise<T> {
    const start = Date.now();
    const r = this.mounts.resolve(vpath);
    this.touch();
    const action = ACTION_OF_SENDER[sender];
    try {
      const out = await fn(r);
      this.logCommand({ sender, filePath: r.fs.fsPath(r.fsPath), virtualPath: vpath, elapsedMs: Date.now() - start, ...extra });
      if (action) await this.actionDone(action, vpath, { ...eventTarget(extra), elapsedMs: Date.now() - start, fileSize: eventSize?.() ?? extra.size ?? 0 });
      return out;
    } catch (e) {
      this.logCommand({ sender, filePath: r.fs.fsPath(r.fsPath), virtualPath: vpath, elapsedMs: Date.now() - start, ...extra, error: (e as Error).message });
      if (action === 'copy') await this.actionDone(action, vpath, { ...eventTarget(extra), elapsedMs: Date.now() - start, fileSize: extra.size ?? 0, error: e as Error });
      throw e;
    }
  }

  fsProviderOf(vpath: string): number { return fsProviderOf(this, vpath); }
  preAction(action: FsAction, vpath: string, fileSize: number, openFlags = 0): Promise<void> { return preAction(this, action, vpath, fileSize, openFlags); }
  actionDone(action: FsAction, vpath: string, o: ActionDone): Promise<void> { return actionDone(this, action, vpath, o); }
  uploadDone(vpath: string, fileSize: number, elapsedMs: number, error?: Error): Promise<Error | undefined> { return uploadDone(this, vpath, fileSize, elapsedMs, error); }
  /** An SSH command finished (sshcmd.ts): the `ssh_cmd` action. */
  sshCommandDone(commandLine: string, vpath: string, virtualTarget: string, elapsedMs: number, error?: Error): Promise<void> {
    return sshCommandDone(this, commandLine, vpath, virtualTarget, elapsedMs, error);
  }

  // ---- metadata ----

  private checkVisible(vpath: string): void {
    const fa = isFileAllowed(this.user, vpath);
    if (!fa.allowed) throw deniedFileError(fa.denyPolicy);
  }

  private async statWith(vpath: string, follow: boolean): Promise<FileInfo> {
    if (!hasPerm(this.user, 'list', vdir(vpath))) throw new FsError('PermissionDenied');
    this.checkVisible(vpath);
    this.touch();
    const { fs, fsPath } = this.mounts.resolve(vpath);
    try {
      const st = follow ? await fs.stat(fsPath) : await fs.lstat(fsPath);
      return { ...st, name: vbase(vpath) };
    } catch (e) {
      // dirs that only exist because a folder is mounted below them
      if (e instanceof FsError && e.kind === 'NotFound' && (this.mounts.isMountPoint(vpath) || this.mounts.virtualEntriesIn(vpath).length > 0)) {
        return virtualDirInfo(vbase(vpath));
      }
      throw e;
    }
  }

  systemCommandScope(vpath: string): ReturnType<typeof prepareSystemCommand> { return prepareSystemCommand(this, vpath); }
  stat(vpath: string): Promise<FileInfo> { return this.statWith(vpath, true); }
  lstat(vpath: string): Promise<FileInfo> { return this.statWith(vpath, false); }

  async *readDir(vpath: string): AsyncIterable<FileInfo[]> {
    if (!hasPerm(this.user, 'list', vpath)) throw new FsError('PermissionDenied');
    this.checkVisible(vpath);
    this.touch();
    const { fs, fsPath } = this.mounts.resolve(vpath);
    const filter = getPatternsFilterForPath(this.user, vpath);
    const pending = new Set(this.mounts.virtualEntriesIn(vpath).filter((n) => !isHiddenInListing(filter, n)));
    try {
      for await (const batch of fs.readDir(fsPath)) {
        const out: FileInfo[] = [];
        for (const fi of batch) {
          if (isHiddenInListing(filter, fi.name)) continue;
          if (pending.has(fi.name)) {
            pending.delete(fi.name);
            out.push(fi.isDirectory ? fi : virtualDirInfo(fi.name));
            continue;
          }
          out.push(fi);
        }
        this.touch();
        if (out.length > 0) yield out;
      }
    } catch (e) {
      // a dir that exists only because folders are mounted below it lists just those
      if (!(e instanceof FsError && e.kind === 'NotFound' && (pending.size > 0 || this.mounts.isMountPoint(vpath)))) throw e;
    }
    if (pending.size > 0) yield [...pending].map((n) => virtualDirInfo(n));
  }

  async backendMimeType(vpath: string): Promise<string | undefined> {
    if (!hasPerm(this.user, 'list', vdir(vpath))) throw new FsError('PermissionDenied');
    this.checkVisible(vpath);
    const { fs, fsPath } = this.mounts.resolve(vpath);
    return fs.mimeType ? fs.mimeType(fsPath) : undefined;
  }

  async readlink(vpath: string): Promise<string> {
    if (!hasPerm(this.user, 'list', vdir(vpath))) throw new FsError('PermissionDenied');
    this.checkVisible(vpath);
    const { fs, fsPath, mount } = this.mounts.resolve(vpath);
    const target = await fs.readlink(fsPath);
    return mount.vpath === '/' ? target : target === '/' ? mount.vpath : mount.vpath + target;
  }

  async statvfs(vpath: string): Promise<StatVFS> {
    this.touch();
    const { fs, fsPath } = this.mounts.resolve(vpath);
    const q = await this.quota.check(vjoin(vpath, 'x'), true);
    let base: StatVFS;
    try {
      base = await fs.statvfs(fsPath);
    } catch (e) {
      if (q.quotaSize === 0 && q.quotaFiles === 0) throw e;
      base = { bsize: 4096, frsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, favail: 0, fsid: 0, flag: 0, namemax: 255 };
    }
    if (q.quotaSize > 0) {
      const bs = 4096;
      const free = Math.max(q.quotaSize - q.usedSize, 0);
      base = { ...base, bsize: bs, frsize: bs, blocks: Math.floor(q.quotaSize / bs), bfree: Math.floor(free / bs), bavail: Math.floor(free / bs) };
    }
    if (q.quotaFiles > 0) {
      const free = Math.max(q.quotaFiles - q.usedFiles, 0);
      base = { ...base, files: q.quotaFiles, ffree: free, favail: free };
    }
    return base;
  }

  // ---- namespace changes ----

  async mkdir(vpath: string): Promise<void> {
    if (!canCreateDir(this.user, vpath)) throw new FsError('PermissionDenied');
    if (!isFileAllowed(this.user, vpath).allowed) throw new FsError('PermissionDenied');
    if (vpath === '/' || this.mounts.isMountPoint(vpath)) throw new FsError('PermissionDenied', 'cannot create a virtual folder');
    await this.logged('Mkdir', vpath, async ({ fs, fsPath }) => {
      await fs.mkdir(fsPath);
      await giveToUser(fs, fsPath, this.user, this.logger, this.id);
    });
  }

  async removeFile(vpath: string): Promise<void> {
    if (!canDeleteFile(this.user, vpath)) throw new FsError('PermissionDenied');
    this.checkVisible(vpath);
    if (vpath === '/' || this.mounts.isMountPoint(vpath)) throw new FsError('PermissionDenied', 'cannot remove a virtual folder');
    let removedSize = 0;
    await this.logged('Remove', vpath, async ({ fs, fsPath }) => {
      const st = await fs.lstat(fsPath);
      if (st.isDirectory) throw new FsError('IsDirectory', 'cannot remove a directory as a file');
      removedSize = st.size;
      await this.preAction('pre-delete', vpath, st.size);
      await fs.remove(fsPath);
      // symlinks are not counted in the quota
      if (!st.isSymlink) await this.quota.update(vpath, -1, -st.size);
    }, {}, () => removedSize);
  }

  async removeDir(vpath: string): Promise<void> {
    if (vpath === '/' || this.mounts.isMountPoint(vpath)) throw new FsError('PermissionDenied', 'cannot remove the root or a virtual folder');
    if (this.mounts.hasMountsInside(vpath)) throw new FsError('PermissionDenied', 'the directory contains virtual folders');
    if (!canDeleteDir(this.user, vpath)) throw new FsError('PermissionDenied');
    this.checkVisible(vpath);
    await this.logged('Rmdir', vpath, async ({ fs, fsPath }) => {
      const st = await fs.lstat(fsPath);
      if (!st.isDirectory) throw new FsError('NotDirectory');
      await fs.rmdir(fsPath);
    });
  }

  rename(from: string, to: string): Promise<void> { return doRename(this, from, to); }
  copy(from: string, to: string): Promise<void> { return doCopy(this, from, to); }
  removeAll(vpath: string): Promise<void> { return doRemoveAll(this, vpath); }
  setStat(vpath: string, attrs: SetStatAttrs): Promise<void> { return doSetStat(this, vpath, attrs); }

  /** `target` may be relative to the link's directory. */
  async symlink(target: string, link: string): Promise<void> {
    const t = cleanVirtualPath(target, vdir(link));
    // common.symlink_mode bit 1: symlink creation allowed on local backends (default 0: disabled)
    const { fs, mount } = this.mounts.resolve(link);
    // a storage that cannot hold links answers "unsupported" (SFTPGo: ErrVfsUnsupported → SSH_FX_OP_UNSUPPORTED), as chmod and resume do
    if (!fs.features.symlinks) throw new FsError('Unsupported', 'symlinks are not supported by this storage');
    if ((this.config.symlink_mode & 1) === 0) throw new FsError('PermissionDenied', 'symlink creation is disabled');
    const tr = this.mounts.resolve(t);
    if (tr.mount !== mount) throw new FsError('PermissionDenied', 'symlinks cannot cross virtual folders');
    if (!canCreateSymlink(this.user, link) || !canCreateSymlink(this.user, t)) throw new FsError('PermissionDenied');
    if (!isFileAllowed(this.user, link).allowed || !isFileAllowed(this.user, t).allowed) throw new FsError('PermissionDenied');
    if (link === '/' || t === '/' || this.mounts.isMountPoint(link) || tr.fsPath === '/') {
      throw new FsError('PermissionDenied', 'symlinking the root or a virtual folder is not allowed');
    }
    // the target stays inside the jail: it is a path of the same backend, checked again by OsFs
    await this.logged('Symlink', t, ({ fs: lfs }) => lfs.symlink(tr.fsPath, this.mounts.resolve(link).fsPath),
      { targetPath: fs.fsPath(this.mounts.resolve(link).fsPath), virtualTargetPath: link });
  }

  /**
   * hardlink@openssh.com. A hard link shares the source's content, so whoever can
   * write through the new name could change the source: besides `download` on the
   * source and `upload` where the link goes, the source's directory must grant
   * `upload` and `overwrite` (writes through a multi-linked file are refused or
   * replace the entry anyway, see open.ts, but a link must never be a way to make
   * a read-only file reachable from a writable place). Both names must pass the
   * file filters, one backend (no crossing virtual folders), and the link is
   * counted in the quota as a new file of the source's size.
   */
  async link(existing: string, newPath: string): Promise<void> {
    const src = this.mounts.resolve(existing);
    const dst = this.mounts.resolve(newPath);
    if (!src.fs.features.hardlinks) throw new FsError('Unsupported', 'hard links are not supported by this storage');
    if (src.mount !== dst.mount) throw new FsError('Unsupported', 'hard links cannot cross virtual folders');
    if (!canDownload(this.user, existing) || !hasPerms(this.user, ['upload', 'overwrite'], vdir(existing)) ||
      !hasPerm(this.user, 'upload', vdir(newPath))) throw new FsError('PermissionDenied');
    this.checkVisible(existing);
    if (!isFileAllowed(this.user, existing).allowed || !isFileAllowed(this.user, newPath).allowed) throw new FsError('PermissionDenied');
    if (newPath === '/' || this.mounts.isMountPoint(newPath)) throw new FsError('PermissionDenied');
    const st = await src.fs.lstat(src.fsPath);
    if (!st.isFile) throw new FsError('PermissionDenied', 'only regular files can be hard linked');
    const q = await this.quota.check(newPath, true);
    if (!q.hasSpace || (q.remainingSize > 0 && st.size > q.remainingSize)) throw new FsError('QuotaExceeded');
    await this.logged('Link', existing, ({ fs }) => fs.link(src.fsPath, dst.fsPath),
      { targetPath: dst.fs.fsPath(dst.fsPath), virtualTargetPath: newPath });
    await this.quota.update(newPath, 1, st.size);
  }

  // ---- data ----

  async openRead(vpath: string, _offset?: number): Promise<Download> {
    this.touch();
    return openDownload(this, vpath);
  }

  async openWrite(vpath: string, req: OpenWriteRequest): Promise<Upload> {
    this.touch();
    return openUpload(this, vpath, req);
  }

  async checksum(vpath: string, algo: ChecksumAlgo, offset = 0, length = 0): Promise<Buffer> {
    if (!canDownload(this.user, vpath)) throw new FsError('PermissionDenied');
    this.checkVisible(vpath);
    this.touch();
    const { fs, fsPath } = this.mounts.resolve(vpath);
    const h = await fs.openRead(fsPath);
    try {
      const hash = createHash(algo);
      if (length > 0 || offset < h.size) {
        const end = length > 0 ? offset + length - 1 : undefined;
        for await (const chunk of h.createReadStream(offset, end)) {
          hash.update(chunk as Buffer);
          this.touch();
        }
      }
      return hash.digest();
    } finally {
      await h.close().catch(() => undefined);
    }
  }
}

function eventTarget(e: Partial<CommandLogEntry>): { targetPath?: string; virtualTargetPath?: string } {
  return { targetPath: e.targetPath, virtualTargetPath: e.virtualTargetPath };
}

function virtualDirInfo(name: string): FileInfo {
  const epoch = new Date(0);
  return { name, size: 0, mode: S_IFDIR | 0o755, mtime: epoch, atime: epoch, uid: 0, gid: 0, isDirectory: true, isFile: false, isSymlink: false };
}
