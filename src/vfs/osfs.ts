/**
 * The local-disk backend (filesystem provider 0). Paths are backend paths
 * ("/" = the root directory); the Jail resolves them and refuses anything
 * whose real location leaves realpath(root).
 */
import { constants as C, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { FsError, fromNodeError } from '../common/errors';
import type { FileInfo, Fs, FsFeatures, OpenWriteOptions, ReadHandle, SetStatAttrs, StatVFS, WriteHandle } from './fs';
import { Jail } from './osfs-jail';
import { OsReadHandle, OsWriteHandle } from './osfs-handles';
import { statsToFileInfo } from './osfs-info';
import { atomicUploadPath } from './upload-path';

export interface OsFsOptions {
  /** absolute local directory */
  root: string;
  /**
   * When set, new files/dirs get exactly `0o666 & ~umask` / `0o777 & ~umask`
   * (SFTPGo's common.umask) instead of the process umask.
   */
  umask?: number;
}

const FEATURES: FsFeatures = {
  atomicRename: true, randomWrite: true, resume: true, commitOnClose: false, readWrite: true, symlinks: true, hardlinks: true,
  chmod: true, chown: true, chtimes: true, truncate: true, statvfs: true, serverSideCopy: true,
};

const DEFAULT_BATCH = 100;

export class OsFs implements Fs {
  readonly name = 'osfs';
  readonly features = FEATURES;
  readonly provider = 0;
  readonly root: string;
  private readonly jail: Jail;
  private readonly umask: number | undefined;

  constructor(opts: OsFsOptions) {
    if (!path.isAbsolute(opts.root)) throw new FsError('InvalidPath', 'the root must be an absolute path');
    this.root = path.resolve(opts.root);
    this.jail = new Jail(this.root);
    this.umask = opts.umask;
  }

  fsPath(p: string): string {
    return this.jail.lexical(p);
  }

  async ensureRoot(): Promise<void> {
    try {
      await fsp.mkdir(this.root, { recursive: true, mode: this.dirMode() ?? 0o777 });
    } catch (e) {
      throw fromNodeError(e, 'create root');
    }
    this.jail.forgetRoot();
  }

  async stat(p: string): Promise<FileInfo> {
    const real = await this.jail.resolveFollow(p);
    try { return statsToFileInfo(baseName(p), await fsp.stat(real)); } catch (e) { throw fromNodeError(e, 'stat'); }
  }

  async lstat(p: string): Promise<FileInfo> {
    const real = await this.jail.resolveNoFollow(p);
    try { return statsToFileInfo(baseName(p), await fsp.lstat(real)); } catch (e) { throw fromNodeError(e, 'lstat'); }
  }

  async *readDir(p: string, batchSize = DEFAULT_BATCH): AsyncIterable<FileInfo[]> {
    const real = await this.jail.resolveFollow(p);
    let dir;
    try { dir = await fsp.opendir(real, { bufferSize: Math.min(Math.max(batchSize, 1), 1024) }); } catch (e) { throw fromNodeError(e, 'readdir'); }
    let batch: FileInfo[] = [];
    try {
      for await (const ent of dir) {
        try {
          // lstat: a listing shows links as links and never follows them
          batch.push(statsToFileInfo(ent.name, await fsp.lstat(path.join(real, ent.name))));
        } catch (e) {
          // removed between readdir and lstat: skip it, as ls does
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fromNodeError(e, 'readdir');
        }
        if (batch.length >= batchSize) { yield batch; batch = []; }
      }
    } catch (e) {
      throw fromNodeError(e, 'readdir');
    }
    if (batch.length > 0) yield batch;
  }

  async openRead(p: string): Promise<ReadHandle> {
    const real = await this.jail.resolveFollow(p);
    let fh;
    try { fh = await fsp.open(real, C.O_RDONLY); } catch (e) { throw fromNodeError(e, 'open'); }
    try {
      await this.verifyOpened(fh.fd);
      const st = await fh.stat();
      if (st.isDirectory()) throw new FsError('IsDirectory');
      return new OsReadHandle(fh, st.size);
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw fromNodeError(e, 'open');
    }
  }

  async openWrite(p: string, opts: OpenWriteOptions): Promise<WriteHandle> {
    const real = await this.jail.resolveFollow(p);
    let flags = opts.read ? C.O_RDWR : C.O_WRONLY;
    if (opts.create) flags |= C.O_CREAT;
    if (opts.truncate) flags |= C.O_TRUNC;
    if (opts.append) flags |= C.O_APPEND;
    if (opts.exclusive) flags |= C.O_EXCL;
    const mode = this.fileMode(opts.mode);
    let existed = true;
    if (this.umask !== undefined && opts.create) {
      existed = await fsp.lstat(real).then(() => true, () => false);
    }
    let fh;
    try { fh = await fsp.open(real, flags, mode); } catch (e) { throw fromNodeError(e, 'open'); }
    try {
      await this.verifyOpened(fh.fd);
      const st = await fh.stat();
      if (st.isDirectory()) throw new FsError('IsDirectory');
      // the process umask also masks open(2)'s mode; set the configured one exactly
      if (!existed) await fh.chmod(mode);
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw fromNodeError(e, 'open');
    }
    return new OsWriteHandle(fh, real, opts.read);
  }

  async mkdir(p: string): Promise<void> {
    const real = await this.jail.resolveNoFollow(p);
    const mode = this.dirMode();
    try {
      await fsp.mkdir(real, { mode: mode ?? 0o777 });
      if (mode !== undefined) await fsp.chmod(real, mode);
    } catch (e) { throw fromNodeError(e, 'mkdir'); }
  }

  async remove(p: string): Promise<void> {
    if (p === '/') throw new FsError('PermissionDenied', 'the root cannot be removed');
    const real = await this.jail.resolveNoFollow(p);
    try {
      const st = await fsp.lstat(real);
      if (st.isDirectory()) throw new FsError('IsDirectory');
      await fsp.unlink(real);
    } catch (e) { throw fromNodeError(e, 'remove'); }
  }

  async rmdir(p: string): Promise<void> {
    if (p === '/') throw new FsError('PermissionDenied', 'the root cannot be removed');
    const real = await this.jail.resolveNoFollow(p);
    try { await fsp.rmdir(real); } catch (e) { throw fromNodeError(e, 'rmdir'); }
  }

  async rename(from: string, to: string): Promise<void> {
    if (from === '/' || to === '/') throw new FsError('PermissionDenied', 'the root cannot be renamed');
    const src = await this.jail.resolveNoFollow(from);
    const dst = await this.jail.resolveNoFollow(to);
    try { await fsp.rename(src, dst); } catch (e) { throw fromNodeError(e, 'rename'); }
  }

  async symlink(target: string, link: string): Promise<void> {
    const linkReal = await this.jail.resolveNoFollow(link);
    const realRoot = await this.jail.realRoot();
    // `target` is a backend path: place it under the real root, then store it relative to
    // the link's directory so the tree stays valid if the root is moved
    this.jail.lexical(target); // validates: clean absolute backend path
    const targetAbs = path.join(realRoot, target);
    const rel = path.relative(path.dirname(linkReal), targetAbs) || '.';
    try { await fsp.symlink(rel, linkReal); } catch (e) { throw fromNodeError(e, 'symlink'); }
  }

  async readlink(p: string): Promise<string> {
    const linkReal = await this.jail.resolveNoFollow(p);
    const realRoot = await this.jail.realRoot();
    let target: string;
    try { target = await fsp.readlink(linkReal); } catch (e) { throw fromNodeError(e, 'readlink'); }
    const lexicalTarget = path.resolve(path.dirname(linkReal), target);
    const rel = this.jail.toBackendPath(lexicalTarget, realRoot);
    if (rel === undefined) throw new FsError('PermissionDenied', 'the link points outside the root');
    // the lexical target may still cross a link that leaves the root: check where it really lands
    await this.jail.resolveFollow(rel);
    return rel;
  }

  async link(existing: string, newPath: string): Promise<void> {
    const src = await this.jail.resolveNoFollow(existing);
    const dst = await this.jail.resolveNoFollow(newPath);
    try { await fsp.link(src, dst); } catch (e) { throw fromNodeError(e, 'link'); }
  }

  async setStat(p: string, attrs: SetStatAttrs): Promise<void> {
    const real = await this.jail.resolveFollow(p);
    try {
      if (attrs.mode !== undefined) await fsp.chmod(real, attrs.mode & 0o7777);
      if (attrs.uid !== undefined || attrs.gid !== undefined) {
        const st = await fsp.stat(real);
        await fsp.chown(real, attrs.uid ?? st.uid, attrs.gid ?? st.gid);
      }
      if (attrs.atime !== undefined || attrs.mtime !== undefined) {
        const st = await fsp.stat(real);
        await fsp.utimes(real, attrs.atime ?? st.atime, attrs.mtime ?? st.mtime);
      }
      if (attrs.size !== undefined) await fsp.truncate(real, attrs.size);
    } catch (e) { throw fromNodeError(e, 'setstat'); }
  }

  async statvfs(p: string): Promise<StatVFS> {
    const real = await this.jail.resolveFollow(p);
    try {
      const s = await fsp.statfs(real);
      return {
        bsize: s.bsize, frsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail,
        files: s.files, ffree: s.ffree, favail: s.ffree, fsid: 0, flag: 0, namemax: 255,
      };
    } catch (e) { throw fromNodeError(e, 'statvfs'); }
  }

  async copy(from: string, to: string): Promise<void> {
    const src = await this.jail.resolveFollow(from);
    const dst = await this.jail.resolveFollow(to);
    try {
      const st = await fsp.stat(src);
      if (st.isDirectory()) throw new FsError('IsDirectory', 'server side copy handles files only');
      await fsp.copyFile(src, dst);
      const mode = this.fileMode(undefined);
      if (this.umask !== undefined) await fsp.chmod(dst, mode);
    } catch (e) { throw fromNodeError(e, 'copy'); }
  }

  tempUploadPath(p: string): string { return atomicUploadPath(p); }

  async close(): Promise<void> {
    // nothing pooled: every handle is closed by its owner
  }

  /**
   * Defence in depth against a path being swapped for a symlink between the
   * jail check and open(2): on Linux, ask the kernel where the opened file
   * really is. Elsewhere /proc is absent and the pre-open check stands alone.
   */
  private async verifyOpened(fd: number): Promise<void> {
    let real: string;
    try {
      real = await fsp.readlink(`/proc/self/fd/${fd}`);
    } catch {
      return;
    }
    const realRoot = await this.jail.realRoot();
    if (!this.jail.isInside(real.replace(/ \(deleted\)$/, ''), realRoot)) {
      throw new FsError('PermissionDenied', 'the opened file is outside the root');
    }
  }

  private fileMode(requested: number | undefined): number {
    const base = (requested ?? 0o666) & 0o777;
    return this.umask === undefined ? base : base & ~this.umask;
  }

  private dirMode(): number | undefined {
    return this.umask === undefined ? undefined : 0o777 & ~this.umask;
  }
}

function baseName(p: string): string {
  return p === '/' ? '/' : path.posix.basename(p);
}
