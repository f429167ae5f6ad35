/**
 * The storage contract. Every backend (local disk now; S3 and GCS later) is
 * rooted: paths given to it are clean absolute POSIX paths *inside the
 * backend's root* ("/" is the root itself), and the backend guarantees that no
 * operation ever reaches outside that root (symlinks included). Every error a
 * backend throws is an FsError with a kind (common/errors.ts).
 */
import type { Readable } from 'node:stream';
import { FsError } from '../common/errors';

export interface FileInfo {
  /** base name ("" never; "/" for the root) */
  name: string;
  size: number;
  /** POSIX mode bits including the file type bits (S_IFDIR, S_IFREG, S_IFLNK) */
  mode: number;
  mtime: Date;
  atime: Date;
  uid: number;
  gid: number;
  isDirectory: boolean;
  isFile: boolean;
  isSymlink: boolean;
  nlink?: number;
}

/**
 * What a backend can do, declared once; `common` decides from these flags
 * alone (no backend-name checks). A method whose feature is false throws
 * FsError('Unsupported'). The only optional methods of Fs (dirSize,
 * mimeType) are answers some backends can give faster or better than the
 * generic way (a walk, the file extension): their presence is the
 * capability, and the one caller of each keeps the generic way as fallback.
 */
export interface FsFeatures {
  /** rename is atomic and can be used for atomic uploads */
  atomicRename: boolean;
  /**
   * writes at arbitrary offsets (SFTP random access); when false a write
   * handle only accepts the next byte in sequence and common orders writes
   */
  randomWrite: boolean;
  /** an existing file can be opened without truncation and appended to (upload resume) */
  resume: boolean;
  /** written data becomes the file only at close(); abort() leaves the old content (object stores) */
  commitOnClose: boolean;
  /** open for read and write at once */
  readWrite: boolean;
  symlinks: boolean;
  hardlinks: boolean;
  chmod: boolean;
  chown: boolean;
  chtimes: boolean;
  truncate: boolean;
  statvfs: boolean;
  serverSideCopy: boolean;
  /**
   * resume: false, but an existing file up to this size can be resumed all
   * the same: the backend makes the new object from the old bytes followed by
   * the new ones (S3/Azure read them back and rewrite them up to
   * common.resume_max_size, GCS composes them server side at any size).
   * Absent or 0: never.
   */
  resumeMaxSize?: number;
  /**
   * commitOnClose backends: an upload the client interrupted (connection
   * lost, transfer aborted) is committed with the bytes received instead of
   * discarded (common.upload_mode 4 S3, 8 GCS, 16 Azure). Refusals (quota)
   * and backend failures still never commit.
   */
  keepPartialUploads?: boolean;
}

export interface StatVFS {
  bsize: number;
  frsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  favail: number;
  fsid: number;
  flag: number;
  namemax: number;
}

/** The contract's path rule for backends that pass paths on (remote SFTP, HTTPFs): clean, absolute, no NUL. */
export function checkBackendPath(p: string): void {
  if (!p.startsWith('/') || p.includes('\0') || p.split('/').some((s) => s === '..' || s === '.')) {
    throw new FsError('InvalidPath', `invalid backend path ${JSON.stringify(p)}`);
  }
}

/** A StatVFS from a remote answer's fields (SFTP extension, HTTPFs JSON): missing or non-numeric ones are 0. */
export function statVfsFrom(fields: Readonly<Record<string, unknown>>): StatVFS {
  const n = (k: keyof StatVFS): number => {
    const v = Number(fields[k] ?? 0);
    return Number.isFinite(v) ? v : 0;
  };
  return {
    bsize: n('bsize'), frsize: n('frsize'), blocks: n('blocks'), bfree: n('bfree'), bavail: n('bavail'), files: n('files'),
    ffree: n('ffree'), favail: n('favail'), fsid: n('fsid'), flag: n('flag'), namemax: n('namemax'),
  };
}

/** A file opened for reading. Reads are positional so SFTP can issue them concurrently. */
export interface ReadHandle {
  readonly size: number;
  /** Reads up to `length` bytes at `position`; returns fewer (or 0) at end of file. */
  readAt(buf: Buffer, bufOffset: number, length: number, position: number): Promise<number>;
  /**
   * Optional: readAt into several buffers filled in order by one read (preadv),
   * for backends whose reads land straight in caller buffers (SFTP reads file
   * data into the SSH packets that carry it: sftpd/sftp/direct-data.ts).
   */
  readvAt?(buffers: Buffer[], position: number): Promise<number>;
  /** A sequential stream from `start` (FTP RETR, WebDAV GET). */
  createReadStream(start: number, end?: number): Readable;
  close(): Promise<void>;
}

/** A file opened for writing. */
export interface WriteHandle {
  writeAt(buf: Buffer, position: number): Promise<void>;
  /**
   * Writes `buf` at `position` before returning, when the backend can do so
   * cheaply right now (local disk, see vfs/inline-writes.ts), and returns
   * true; returns false without writing otherwise. Throws a write error.
   */
  writeNow?(buf: Buffer, position: number): boolean;
  truncate(size: number): Promise<void>;
  /** Only for handles opened with read: true. */
  readAt?(buf: Buffer, bufOffset: number, length: number, position: number): Promise<number>;
  stat(): Promise<FileInfo>;
  sync(): Promise<void>;
  /** Ends the upload and makes what was written the file's content (object stores commit here). */
  close(): Promise<void>;
  /**
   * Optional: close() for an upload the client interrupted, kept as far as
   * it got (features.keepPartialUploads): a handle holding out-of-order
   * bytes commits only the part received in sequence. Absent: close().
   */
  closeReceived?(): Promise<void>;
  /**
   * Ends a failed, cancelled or refused upload instead of close(): a backend
   * that commits whole objects discards everything written (S3 aborts the
   * multipart upload), so a partial object never replaces the old one. A
   * local file keeps the bytes already written; whether they stay is the
   * upload mode's decision, taken by common.
   */
  abort(reason: Error): Promise<void>;
}

export interface OpenWriteOptions {
  /** create if missing (always true for uploads) */
  create: boolean;
  truncate: boolean;
  append: boolean;
  /** fail if it exists (O_EXCL) */
  exclusive: boolean;
  /** also readable (SFTP READ|WRITE) */
  read: boolean;
  /** permission bits for a newly created file, before umask */
  mode?: number;
}

/** Files and their total size below a directory, recursively. */
export interface DirSize {
  files: number;
  size: number;
}

export interface SetStatAttrs {
  mode?: number;
  uid?: number;
  gid?: number;
  atime?: Date;
  mtime?: Date;
  size?: number;
}

export interface Fs {
  /** "osfs", "s3fs", "cryptfs" */
  readonly name: string;
  readonly features: FsFeatures;
  /** a description of the root for logs (a local path, "s3://bucket/prefix") */
  readonly root: string;
  /** SFTPGo's filesystem.provider number (0 local, 1 s3, 2 gcs, 3 azblob, 4 crypt, 5 sftp, 6 http) */
  readonly provider: number;

  /** The real path as the backend sees it (for logs and hooks: SFTPGO_ACTION_PATH). */
  fsPath(p: string): string;
  /** Creates the root if it is missing (the user's home at first login). */
  ensureRoot(): Promise<void>;
  stat(p: string): Promise<FileInfo>;
  lstat(p: string): Promise<FileInfo>;
  /** Batched listing: never the whole directory in memory at once. */
  readDir(p: string, batchSize?: number): AsyncIterable<FileInfo[]>;
  openRead(p: string): Promise<ReadHandle>;
  openWrite(p: string, opts: OpenWriteOptions): Promise<WriteHandle>;
  mkdir(p: string): Promise<void>;
  remove(p: string): Promise<void>;
  rmdir(p: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** `target` is stored as given (already validated as in-root by common). */
  symlink(target: string, link: string): Promise<void>;
  /** Returns the stored target: a backend path when it points inside the root, else throws PermissionDenied. */
  readlink(p: string): Promise<string>;
  link(existing: string, newPath: string): Promise<void>;
  setStat(p: string, attrs: SetStatAttrs): Promise<void>;
  statvfs(p: string): Promise<StatVFS>;
  /** Server-side copy of a file (features.serverSideCopy). */
  copy(from: string, to: string): Promise<void>;
  /**
   * Optional: the backend counts a directory's files and their size itself,
   * recursively (HTTPFs `dirsize`), instead of being walked. Quota scans use
   * it (httpd/quotascan.ts fsUsage) and walk when it throws Unsupported or
   * NotFound (a service that does not offer it, or a root never created).
   */
  dirSize?(p: string): Promise<DirSize>;
  /**
   * Optional: the content type the backend knows for a file (HTTPFs
   * `mimetype`); "" when it has none. Asked only for names whose extension
   * does not tell (webdavd/mime.ts ContentTypes).
   */
  mimeType?(p: string): Promise<string>;
  /** Unique sibling name for atomic uploads: `.sftpgo-upload.<id>.<name>` in the same dir. */
  tempUploadPath(p: string): string;
  close(): Promise<void>;
}

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

/**
 * A stored secret as the backends receive it (SFTPGo's secret JSON); the kms
 * decrypts it. Declared here so vfs needs nothing from the data provider.
 */
export interface StoredSecret {
  status: string;
  payload?: string;
  key?: string;
  additional_data?: string;
  mode?: number;
}
