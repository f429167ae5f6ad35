/**
 * The remote SFTP backend (filesystem provider 5): paths live under
 * `prefix` on the remote server, through a pooled SSH connection (pool.ts).
 * The jail: the remote may hold symlinks, so every path is resolved with the
 * remote's realpath and must stay under the real prefix; operations on an
 * entry itself (lstat, remove, rename) resolve only its parent. A link that
 * points outside, or dangles (a create would follow it), is PermissionDenied.
 */
import * as path from 'node:path';
import type { Stats } from 'ssh2';
import { FsError } from '../../common/errors';
import { checkBackendPath, statVfsFrom, type FileInfo, type Fs, type FsFeatures, type OpenWriteOptions, type ReadHandle, type SetStatAttrs, type StatVFS, type WriteHandle } from '../fs';
import type { SftpFsOptions } from './config';
import { fileInfoOf, SftpReadHandle, SftpWriteHandle } from './handles';
import type { SecretDecrypter, SftpConnectionPool } from './pool';
import { Remote } from './remote';
import { atomicUploadPath } from '../upload-path';

const DEFAULT_BATCH = 100;
/** bound on the directories created for a missing prefix */
const MAX_PREFIX_DEPTH = 64;

export interface SftpFsDeps {
  pool: SftpConnectionPool;
  decrypt: SecretDecrypter;
  warn: (msg: string) => void;
}

const notFound = (e: unknown): boolean => e instanceof FsError && e.kind === 'NotFound';
const unsupported = (what: string): Promise<never> => Promise.reject(new FsError('Unsupported', `${what} is not supported on SFTP storage`));
const baseName = (p: string): string => (p === '/' ? '/' : path.posix.basename(p));


export class SftpFs implements Fs {
  readonly name = 'sftpfs';
  readonly provider = 5;
  readonly features: FsFeatures;
  readonly root: string;
  private session: Promise<{ remote: Remote; release: () => void }> | undefined;
  private realRoot: Promise<string> | undefined;
  private readonly label: string;

  constructor(private readonly o: SftpFsOptions, private readonly deps: SftpFsDeps) {
    if (!o.endpoint || !o.username) throw new FsError('InvalidPath', 'SFTP storage: the endpoint and the username are mandatory');
    this.label = `${o.username}@${o.endpoint}`;
    this.root = `sftp://${this.label}${o.prefix}`;
    // SFTPGo: with buffering, no resume, truncate or random access
    const buffered = o.bufferSize > 0;
    this.features = {
      atomicRename: true, randomWrite: !buffered, resume: !buffered, commitOnClose: false, readWrite: false, symlinks: false,
      hardlinks: false, chmod: true, chown: true, chtimes: true, truncate: !buffered, statvfs: true, serverSideCopy: false,
    };
  }

  private remote(): Promise<Remote> {
    this.session ??= this.deps.pool.acquire(this.o, this.deps.decrypt).then(
      ({ conn, release }) => ({ remote: new Remote(conn, this.label, this.deps.warn), release }),
      (e: unknown) => {
        this.session = undefined;
        const err = e instanceof FsError ? e : new FsError('Generic', `sftpfs ${this.label}: ${(e as Error).message}`, e);
        this.deps.warn(err.message);
        throw err;
      });
    return this.session.then((s) => s.remote);
  }

  /** After a dropped connection the next request reconnects. */
  private async withRemote<T>(run: (r: Remote) => Promise<T>): Promise<T> {
    const r = await this.remote();
    try {
      return await run(r);
    } catch (e) {
      if (e instanceof FsError && /timed out|connection|No response|not connected/i.test(e.message)) await this.forgetSession();
      throw e;
    }
  }

  private async forgetSession(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    this.realRoot = undefined;
    await s?.then((x) => x.release(), () => undefined);
  }

  fsPath(p: string): string {
    checkBackendPath(p);
    return path.posix.join(this.o.prefix, p);
  }

  private root$(): Promise<string> {
    this.realRoot ??= this.withRemote((r) => r.realpath(this.o.prefix)).catch((e: unknown) => {
      this.realRoot = undefined;
      throw e;
    });
    return this.realRoot;
  }

  private inside(root: string, real: string): boolean {
    return real === root || real.startsWith(root === '/' ? '/' : root + '/');
  }

  /** The real remote path of p with every symlink followed; PermissionDenied outside the root. */
  private async resolve(p: string): Promise<string> {
    checkBackendPath(p);
    const root = await this.root$();
    if (p === '/') return root;
    try {
      const real = await this.withRemote((r) => r.realpath(this.fsPath(p)));
      if (!this.inside(root, real)) throw new FsError('PermissionDenied', `${p} resolves outside the storage root`);
      return real;
    } catch (e) {
      if (!notFound(e)) throw e;
    }
    const entry = path.posix.join(await this.resolve(path.posix.dirname(p)), baseName(p));
    // missing, or a dangling link that a create would follow anywhere: only the former is allowed
    const st = await this.withRemote((r) => r.lstat(entry)).catch((e: unknown) => { if (notFound(e)) return undefined; throw e; });
    if (st?.isSymbolicLink()) throw new FsError('PermissionDenied', `${p} is a link to a missing target`);
    return entry;
  }

  /** The entry itself (not followed), in its real parent directory. */
  private async resolveEntry(p: string): Promise<string> {
    checkBackendPath(p);
    if (p === '/') return this.root$();
    return path.posix.join(await this.resolve(path.posix.dirname(p)), baseName(p));
  }

  async ensureRoot(): Promise<void> {
    // stat, not realpath: OpenSSH's realpath answers for a missing last component too
    const st = await this.withRemote((r) => r.stat(this.o.prefix)).catch((e: unknown) => { if (notFound(e)) return undefined; throw e; });
    if (st?.isDirectory()) return;
    if (st) throw new FsError('NotDirectory', `SFTP storage: the prefix ${this.o.prefix} is not a directory`);
    this.realRoot = undefined;
    const parts = this.o.prefix.split('/').filter((s) => s !== '');
    if (parts.length > MAX_PREFIX_DEPTH) throw new FsError('InvalidPath', 'SFTP storage: the prefix is too deep');
    let cur = '';
    for (const part of parts) {
      cur += '/' + part;
      await this.withRemote((r) => r.mkdir(cur)).catch(async (e: unknown) => {
        const st = await this.withRemote((r) => r.stat(cur)).catch(() => undefined);
        if (!st?.isDirectory()) throw e;
      });
    }
  }

  async stat(p: string): Promise<FileInfo> {
    const real = await this.resolve(p);
    const st = await this.withRemote((r) => r.stat(real));
    return fileInfoOf(baseName(p), st);
  }

  async lstat(p: string): Promise<FileInfo> {
    const entry = await this.resolveEntry(p);
    return fileInfoOf(baseName(p), await this.withRemote((r) => r.lstat(entry)));
  }

  async *readDir(p: string, batchSize = DEFAULT_BATCH): AsyncIterable<FileInfo[]> {
    const real = await this.resolve(p);
    const remote = await this.remote();
    const handle = await remote.opendir(real);
    try {
      let batch: FileInfo[] = [];
      // bounded by the directory: each round gets a non-empty batch or the end
      for (;;) {
        const entries = await remote.readdir(handle, real);
        if (!entries || entries.length === 0) break;
        for (const e of entries) {
          if (e.filename === '.' || e.filename === '..') continue;
          batch.push(fileInfoOf(e.filename, e.attrs as unknown as Stats));
        }
        if (batch.length >= batchSize) { yield batch; batch = []; }
      }
      if (batch.length > 0) yield batch;
    } finally {
      await remote.close(handle).catch(() => undefined);
    }
  }

  /** A handle holds a pool reference of its own: it stays usable after the Fs closes. */
  private async holdConnection(): Promise<{ remote: Remote; release: () => void }> {
    const { conn, release } = await this.deps.pool.acquire(this.o, this.deps.decrypt);
    return { remote: new Remote(conn, this.label, this.deps.warn), release };
  }

  async openRead(p: string): Promise<ReadHandle> {
    const real = await this.resolve(p);
    const st = await this.withRemote((r) => r.stat(real));
    if (st.isDirectory()) throw new FsError('IsDirectory');
    const { remote, release } = await this.holdConnection();
    try {
      const h = await remote.open(real, 'r');
      return new SftpReadHandle(remote, h, st.size, !this.o.disableConcurrentReads, release);
    } catch (e) {
      release();
      throw e;
    }
  }

  async openWrite(p: string, opts: OpenWriteOptions): Promise<WriteHandle> {
    if (p === '/') throw new FsError('IsDirectory');
    if (opts.read) throw new FsError('Unsupported', 'SFTP storage files cannot be opened for reading and writing');
    const real = await this.resolve(p);
    const existing = await this.withRemote((r) => r.stat(real)).catch((e: unknown) => { if (notFound(e)) return undefined; throw e; });
    if (existing?.isDirectory()) throw new FsError('IsDirectory');
    if (existing && opts.exclusive) throw new FsError('AlreadyExists');
    if (existing && !opts.truncate && !this.features.resume) throw new FsError('Unsupported', 'resuming uploads needs buffer_size 0');
    const flags = opts.truncate || !existing ? (opts.exclusive ? 'wx' : 'w') : 'r+';
    const { remote, release } = await this.holdConnection();
    try {
      const h = await remote.open(real, flags, opts.mode);
      const start = opts.append && existing ? existing.size : 0;
      return new SftpWriteHandle(remote, h, baseName(p), !this.features.randomWrite, opts.truncate ? 0 : start, release);
    } catch (e) {
      release();
      throw e;
    }
  }

  async mkdir(p: string): Promise<void> {
    if (p === '/') throw new FsError('AlreadyExists');
    const entry = await this.resolveEntry(p);
    const exists = await this.withRemote((r) => r.lstat(entry)).then(() => true, (e: unknown) => { if (notFound(e)) return false; throw e; });
    if (exists) throw new FsError('AlreadyExists');
    await this.withRemote((r) => r.mkdir(entry));
  }

  async remove(p: string): Promise<void> {
    if (p === '/') throw new FsError('PermissionDenied', 'the root cannot be removed');
    const entry = await this.resolveEntry(p);
    if ((await this.withRemote((r) => r.lstat(entry))).isDirectory()) throw new FsError('IsDirectory');
    await this.withRemote((r) => r.unlink(entry));
  }

  async rmdir(p: string): Promise<void> {
    if (p === '/') throw new FsError('PermissionDenied', 'the root cannot be removed');
    const entry = await this.resolveEntry(p);
    const st = await this.withRemote((r) => r.lstat(entry));
    if (!st.isDirectory()) throw new FsError('NotDirectory');
    const remote = await this.remote();
    const h = await remote.opendir(entry);
    try {
      const first = await remote.readdir(h, entry);
      if ((first ?? []).some((e) => e.filename !== '.' && e.filename !== '..')) throw new FsError('NotEmpty');
    } finally {
      await remote.close(h).catch(() => undefined);
    }
    await this.withRemote((r) => r.rmdir(entry));
  }

  async rename(from: string, to: string): Promise<void> {
    if (from === '/' || to === '/') throw new FsError('PermissionDenied', 'the root cannot be renamed');
    const src = await this.resolveEntry(from);
    const dst = await this.resolveEntry(to);
    await this.withRemote((r) => r.rename(src, dst));
  }

  async setStat(p: string, attrs: SetStatAttrs): Promise<void> {
    const real = await this.resolve(p);
    const a: { mode?: number; uid?: number; gid?: number; atime?: number; mtime?: number; size?: number } = {};
    if (attrs.mode !== undefined) a.mode = attrs.mode & 0o7777;
    if (attrs.uid !== undefined || attrs.gid !== undefined) {
      // SFTP sets uid and gid together: keep the one not asked for
      const st = await this.withRemote((r) => r.stat(real));
      a.uid = attrs.uid ?? st.uid;
      a.gid = attrs.gid ?? st.gid;
    }
    if (attrs.mtime || attrs.atime) {
      const m = attrs.mtime ?? attrs.atime as Date;
      a.mtime = Math.floor(m.getTime() / 1000);
      a.atime = Math.floor((attrs.atime ?? m).getTime() / 1000);
    }
    if (attrs.size !== undefined) {
      if (!this.features.truncate) throw new FsError('Unsupported', 'truncate needs buffer_size 0');
      a.size = attrs.size;
    }
    if (Object.keys(a).length === 0) return;
    await this.withRemote((r) => r.setstat(real, a));
  }

  async statvfs(p: string): Promise<StatVFS> {
    const real = await this.resolve(p);
    return statVfsFrom(await this.withRemote((r) => r.statvfs(real)));
  }

  symlink(): Promise<void> { return unsupported('symlink'); }
  readlink(): Promise<string> { return unsupported('readlink'); }
  link(): Promise<void> { return unsupported('link'); }
  copy(): Promise<void> { return unsupported('server side copy'); }

  tempUploadPath(p: string): string { return atomicUploadPath(p); }

  async close(): Promise<void> {
    await this.forgetSession();
  }
}
