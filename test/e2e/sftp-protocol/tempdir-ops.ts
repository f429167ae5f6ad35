/**
 * Test-only FileOps over a temporary directory: real file operations with
 * atomic uploads (temp file + rename on close, removed when aborted), so the
 * SFTP protocol layer can be exercised end to end without common/connection.
 * It checks no permissions; it keeps paths inside the root by cleaning them.
 */
import { createHash } from 'node:crypto';
import { constants as fsc, createReadStream, createWriteStream, promises as fsp, type Stats } from 'node:fs';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fromNodeError, FsError } from '../../../src/common/errors';
import type { Download, FileOps, OpenWriteRequest, Upload } from '../../../src/common/types';
import { cleanVirtualPath } from '../../../src/common/vpath';
import type { User } from '../../../src/dataprovider/models';
import type { FileInfo, SetStatAttrs, StatVFS } from '../../../src/vfs/fs';

export function statToInfo(name: string, st: Stats): FileInfo {
  return {
    name, size: st.size, mode: st.mode, mtime: st.mtime, atime: st.atime, uid: st.uid, gid: st.gid,
    isDirectory: st.isDirectory(), isFile: st.isFile(), isSymlink: st.isSymbolicLink(), nlink: st.nlink,
  };
}

export class TempDirOps implements FileOps {
  readonly id = 'SFTP_test_1';
  readonly protocol = 'SFTP' as const;
  readonly user: User;
  touches = 0;
  private seq = 0;

  constructor(readonly root: string, username: string) {
    this.user = { status: 1, username, home_dir: root, permissions: { '/': ['*'] } };
  }

  cleanPath(p: string, cwd = '/'): string {
    return cleanVirtualPath(p, cwd);
  }

  real(vpath: string): string {
    return path.join(this.root, cleanVirtualPath(vpath));
  }

  private async wrap<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw fromNodeError(e);
    }
  }

  stat(vpath: string): Promise<FileInfo> {
    return this.wrap(async () => statToInfo(path.posix.basename(vpath) || '/', await fsp.stat(this.real(vpath))));
  }

  lstat(vpath: string): Promise<FileInfo> {
    return this.wrap(async () => statToInfo(path.posix.basename(vpath) || '/', await fsp.lstat(this.real(vpath))));
  }

  async *readDir(vpath: string): AsyncIterable<FileInfo[]> {
    const dirPath = this.real(vpath);
    const dir = await this.wrap(() => fsp.opendir(dirPath));
    let batch: FileInfo[] = [];
    try {
      for await (const d of dir) {
        if (d.name.startsWith('.sftp-upload.')) continue;
        batch.push(statToInfo(d.name, await this.wrap(() => fsp.lstat(path.join(dirPath, d.name)))));
        if (batch.length >= 100) {
          yield batch;
          batch = [];
        }
      }
    } catch (e) {
      throw fromNodeError(e);
    }
    if (batch.length > 0) yield batch;
  }

  mkdir(vpath: string): Promise<void> {
    return this.wrap(() => fsp.mkdir(this.real(vpath)));
  }

  removeFile(vpath: string): Promise<void> {
    return this.wrap(async () => {
      if ((await fsp.lstat(this.real(vpath))).isDirectory()) throw new FsError('IsDirectory');
      await fsp.unlink(this.real(vpath));
    });
  }

  removeDir(vpath: string): Promise<void> {
    return this.wrap(() => fsp.rmdir(this.real(vpath)));
  }

  rename(from: string, to: string): Promise<void> {
    return this.wrap(() => fsp.rename(this.real(from), this.real(to)));
  }

  /** Stores the target relative to the link so the link stays valid inside the root. */
  symlink(target: string, link: string): Promise<void> {
    const rel = path.relative(path.dirname(this.real(link)), this.real(target)) || '.';
    return this.wrap(() => fsp.symlink(rel, this.real(link)));
  }

  readlink(vpath: string): Promise<string> {
    return this.wrap(async () => {
      const real = this.real(vpath);
      const abs = path.resolve(path.dirname(real), await fsp.readlink(real));
      const rel = path.relative(this.root, abs);
      if (rel.startsWith('..') || path.isAbsolute(rel)) throw new FsError('PermissionDenied');
      return '/' + rel.split(path.sep).join('/');
    });
  }

  link(existing: string, newPath: string): Promise<void> {
    return this.wrap(() => fsp.link(this.real(existing), this.real(newPath)));
  }

  setStat(vpath: string, attrs: SetStatAttrs): Promise<void> {
    return this.wrap(async () => {
      const p = this.real(vpath);
      if (attrs.mode !== undefined) await fsp.chmod(p, attrs.mode);
      if (attrs.size !== undefined) await fsp.truncate(p, attrs.size);
      if (attrs.atime !== undefined || attrs.mtime !== undefined) {
        const st = await fsp.stat(p);
        await fsp.utimes(p, attrs.atime ?? st.atime, attrs.mtime ?? st.mtime);
      }
    });
  }

  statvfs(vpath: string): Promise<StatVFS> {
    return this.wrap(async () => {
      const s = await fsp.statfs(this.real(vpath));
      return {
        bsize: s.bsize, frsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files,
        ffree: s.ffree, favail: s.ffree, fsid: 0, flag: 0, namemax: 255,
      };
    });
  }

  copy(from: string, to: string): Promise<void> {
    return this.wrap(() => fsp.copyFile(this.real(from), this.real(to)));
  }

  async openRead(vpath: string): Promise<Download> {
    const p = this.real(vpath);
    const fh = await this.wrap(() => fsp.open(p, 'r'));
    const st = await fh.stat();
    if (st.isDirectory()) {
      await fh.close();
      throw new FsError('IsDirectory');
    }
    return {
      id: ++this.seq, virtualPath: vpath, size: st.size,
      readAt: async (buf, off, len, pos) => (await fh.read(buf, off, len, pos)).bytesRead,
      createReadStream: (start: number, end?: number): Readable => createReadStream(p, { start, end }),
      close: async () => fh.close(),
    };
  }

  async openWrite(vpath: string, req: OpenWriteRequest): Promise<Upload> {
    const final = this.real(vpath);
    const temp = path.join(path.dirname(final), `.sftp-upload.${++this.seq}.${path.basename(final)}`);
    const exists = await fsp.stat(final).then((s) => s, () => undefined);
    if (exists && req.exclusive) throw new FsError('AlreadyExists');
    if (exists?.isDirectory()) throw new FsError('IsDirectory');
    // resume/append keep the current content: start the temp file as a copy
    if (exists && !req.truncate) await this.wrap(() => fsp.copyFile(final, temp));
    const flags = fsc.O_CREAT | (req.read ? fsc.O_RDWR : fsc.O_WRONLY) | (req.truncate ? fsc.O_TRUNC : 0);
    const fh = await this.wrap(() => fsp.open(temp, flags, req.mode ?? 0o644));
    let closed = false;
    return {
      id: this.seq, virtualPath: vpath,
      writeAt: async (buf, pos) => {
        let done = 0;
        // bounded: each pass writes at least one byte or throws
        while (done < buf.length) {
          const { bytesWritten } = await fh.write(buf, done, buf.length - done, pos + done);
          if (bytesWritten <= 0) throw new FsError('Generic', 'short write');
          done += bytesWritten;
        }
      },
      createWriteStream: (): Writable => createWriteStream(temp, { flags: 'r+', start: req.offset }),
      readAt: async (buf, off, len, pos) => (await fh.read(buf, off, len, pos)).bytesRead,
      truncate: (size) => this.wrap(() => fh.truncate(size)),
      stat: async () => statToInfo(path.basename(final), await fh.stat()),
      sync: () => this.wrap(() => fh.sync()),
      close: async (error?: Error) => {
        if (closed) return;
        closed = true;
        await fh.close();
        if (error) {
          await fsp.rm(temp, { force: true });
          return;
        }
        await this.wrap(() => fsp.rename(temp, final));
      },
    };
  }

  checksum(vpath: string, algo: 'md5' | 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512', offset = 0, length = 0): Promise<Buffer> {
    return this.wrap(async () => {
      const h = createHash(algo);
      const end = length > 0 ? offset + length - 1 : undefined;
      for await (const chunk of createReadStream(this.real(vpath), { start: offset, end })) h.update(chunk as Buffer);
      return h.digest();
    });
  }

  touch(): void {
    this.touches++;
  }

  setCommand(): void {
    // no connections API in tests
  }
}
