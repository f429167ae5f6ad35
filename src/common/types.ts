/**
 * The seam between `common` and the protocol adapters (sftpd, ftpd, webdavd,
 * httpd). Adapters call these methods with *virtual* paths ("/a/b" as the
 * client sees it) and map the kinded FsError they throw to protocol codes.
 * Every rule (permissions, jail, virtual folders, quota, filters, upload
 * modes, hooks, logs, metrics) is applied inside, once, for every protocol.
 */
import type { Readable, Writable } from 'node:stream';
import type { FileInfo, SetStatAttrs, StatVFS } from '../vfs/fs';
import type { User } from '../dataprovider/models';

/** SFTPGo's protocol names as used in logs, hooks and the connections API. */
export type Protocol = 'SFTP' | 'SCP' | 'SSH' | 'FTP' | 'DAV' | 'HTTP' | 'HTTPShare' | 'DataRetention' | 'EventAction';

export interface OpenWriteRequest {
  /** SFTP: pflags mapped by the adapter; FTP: STOR = truncate, APPE = append; DAV PUT = truncate. */
  truncate: boolean;
  append: boolean;
  exclusive: boolean;
  /** also open for reading (SFTP READ|WRITE) */
  read: boolean;
  /** start offset for a resumed upload (FTP REST + STOR); 0 otherwise */
  offset: number;
  /** mode bits requested by the client for a new file */
  mode?: number;
  /** SFTPGO_ACTION_OPEN_FLAGS value (the client's raw open flags) */
  openFlags?: number;
}

/** A download in progress. Closing it logs the transfer and updates counters. */
export interface Download {
  readonly id: number;
  readonly virtualPath: string;
  readonly size: number;
  readAt(buf: Buffer, bufOffset: number, length: number, position: number): Promise<number>;
  /** readAt filling `buffers` in order with one read; only when the backend has ReadHandle.readvAt. */
  readonly readvAt?: (buffers: Buffer[], position: number) => Promise<number>;
  /** A throttled, counted stream from `start` (to `end` inclusive when given). */
  createReadStream(start: number, end?: number): Readable;
  close(error?: Error): Promise<void>;
}

/** An upload in progress. close() commits (atomic rename, quota, hooks); close(err) aborts. */
export interface Upload {
  readonly id: number;
  readonly virtualPath: string;
  writeAt(buf: Buffer, position: number): Promise<void>;
  /**
   * writeAt's synchronous fast path: true when `buf` was written (and
   * counted) before returning; false, with nothing written, when the caller
   * must use writeAt (bandwidth limit, a backend without one, slow storage).
   * Throws as writeAt rejects (quota, closed transfer, write error).
   */
  writeNow(buf: Buffer, position: number): boolean;
  /** A counted, throttled stream starting at the request's offset. */
  createWriteStream(): Writable;
  readAt(buf: Buffer, bufOffset: number, length: number, position: number): Promise<number>;
  truncate(size: number): Promise<void>;
  stat(): Promise<FileInfo>;
  sync(): Promise<void>;
  close(error?: Error): Promise<void>;
}

export interface ActiveTransferInfo {
  operation_type: 'upload' | 'download';
  path: string;
  start_time: number;
  size: number;
}

/** One client session as the connection manager and GET /api/v2/connections see it. */
export interface ConnectionInfo {
  id: string;
  username: string;
  protocol: Protocol;
  remoteAddr: string;
  localAddr: string;
  clientVersion: string;
  connectedAt: number;
  lastActivity: number;
  command: string;
  transfers: ActiveTransferInfo[];
  /** the user's role: admins with a role see only these connections */
  role?: string;
}

/** Operations a protocol session performs; implemented by common/connection.ts. */
export interface FileOps {
  readonly id: string;
  readonly protocol: Protocol;
  readonly user: User;
  /** Cleans a client path into an absolute virtual path ("/" based, no "..", no "."). */
  cleanPath(p: string, cwd?: string): string;
  stat(vpath: string): Promise<FileInfo>;
  lstat(vpath: string): Promise<FileInfo>;
  /** Entries of a directory in batches, virtual folders included; needs `list`. */
  readDir(vpath: string): AsyncIterable<FileInfo[]>;
  mkdir(vpath: string): Promise<void>;
  removeFile(vpath: string): Promise<void>;
  removeDir(vpath: string): Promise<void>;
  /**
   * Removes a file, or a directory and everything below it (SFTPGo RemoveAll:
   * sftpgo-remove, WebDAV DELETE). Each item is checked and logged like a single
   * removeFile/removeDir; symlinks are removed, never followed; bounded in items.
   */
  removeAll(vpath: string): Promise<void>;
  /** Overwrites an existing file when allowed (SFTPGo semantics). */
  rename(from: string, to: string): Promise<void>;
  symlink(target: string, link: string): Promise<void>;
  /** Returns a virtual path. */
  readlink(vpath: string): Promise<string>;
  link(existing: string, newPath: string): Promise<void>;
  setStat(vpath: string, attrs: SetStatAttrs): Promise<void>;
  statvfs(vpath: string): Promise<StatVFS>;
  /**
   * Server-side copy of a file or a whole directory (recursively, bounded; symlinks
   * skipped). Copying onto an existing directory copies inside it, as `cp -r`.
   */
  copy(from: string, to: string): Promise<void>;
  openRead(vpath: string, offset?: number): Promise<Download>;
  openWrite(vpath: string, req: OpenWriteRequest): Promise<Upload>;
  /**
   * The content type the file's storage backend knows (Fs.mimeType; "" when
   * it has none), or undefined when that backend cannot tell; needs `list`
   * on the parent, as stat. common/connection.ts implements it.
   */
  backendMimeType?(vpath: string): Promise<string | undefined>;
  /** hex digest of [offset, offset+length) (length 0 = to the end); needs download. */
  checksum(vpath: string, algo: 'md5' | 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512', offset?: number, length?: number): Promise<Buffer>;
  /** Marks activity for the idle timeout. */
  touch(): void;
  /** Updates the command shown in the connections API. */
  setCommand(cmd: string): void;
  /** An SSH command finished: reported as SFTPGo's `ssh_cmd` action (common/connection-events.ts). */
  sshCommandDone?(commandLine: string, vpath: string, virtualTarget: string, elapsedMs: number, error?: Error): Promise<void>;
  /** Jail, permission and quota checks for a system SSH command (git, rsync) on `vpath` (common/system-command.ts). */
  systemCommandScope?(vpath: string): Promise<import('./system-command').SystemCommandScope>;
  /** Creates the home and folder roots after login (SFTPGo CheckFsRoot); common/connection.ts implements it. */
  ensureRoots?(): Promise<void>;
}

/** What the adapter gives the manager so it can close a session (idle timeout, API, shutdown). */
export interface SessionHandle {
  /** Disconnects the client; must be idempotent. */
  disconnect(reason: string): void;
}
