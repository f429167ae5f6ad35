/**
 * Promise wrappers over one pooled SFTP session: every request has a
 * deadline (a timed-out request drops the connection, the next one
 * reconnects) and every error becomes an FsError whose message names the
 * remote server and the operation, for the log.
 */
import type { Attributes, FileEntry, OpenMode, SFTPWrapper, Stats } from 'ssh2';
import { FsError } from '../../common/errors';
import { isUnreachable } from '../backend-errors';
import { SFTP_CALL_TIMEOUT_MS, type PooledSftp } from './pool';

/** SFTP status codes (draft-ietf-secsh-filexfer-02) */
const STATUS_NO_SUCH_FILE = 2;
const STATUS_PERMISSION_DENIED = 3;
const STATUS_OP_UNSUPPORTED = 8;

interface SftpErrorShape { code?: number | string; message?: string }

export function fromSftpError(e: unknown, what: string): FsError {
  if (e instanceof FsError) return e;
  const err = (e ?? {}) as SftpErrorShape;
  const msg = `${what}: ${err.message ?? String(e)}`;
  if (err.code === STATUS_NO_SUCH_FILE || err.code === 'ENOENT') return new FsError('NotFound', msg, e);
  if (err.code === STATUS_PERMISSION_DENIED) return new FsError('PermissionDenied', msg, e);
  if (err.code === STATUS_OP_UNSUPPORTED) return new FsError('Unsupported', msg, e);
  // the session is gone (ssh2: "No response from server", a closed channel) or never got through
  if (isUnreachable(e) || /no response from server|channel (is )?(not open|closed)/i.test(err.message ?? '')) return new FsError('Unavailable', msg, e);
  return new FsError('Generic', msg, e);
}

export class Remote {
  constructor(private readonly conn: PooledSftp, private readonly label: string, private readonly warn: (msg: string) => void) {}

  get sftp(): SFTPWrapper {
    return this.conn.sftp;
  }

  /** Runs one request; `start` gets the node-style callback. */
  call<T>(op: string, start: (sftp: SFTPWrapper, cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        const err = new FsError('Unavailable', `sftpfs ${this.label} ${op}: timed out`);
        this.warn(err.message);
        this.conn.drop(`${op} timed out`);
        reject(err);
      }, SFTP_CALL_TIMEOUT_MS);
      const done = (err: Error | null | undefined, value?: T): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!err) { resolve(value as T); return; }
        const fe = fromSftpError(err, `sftpfs ${this.label} ${op}`);
        if (fe.kind === 'Generic' || fe.kind === 'Unavailable') this.warn(fe.message);
        reject(fe);
      };
      try {
        start(this.conn.sftp, done);
      } catch (e) {
        // ssh2 throws synchronously when the channel is gone or an extension is missing
        done(e as Error);
      }
    });
  }

  stat(p: string): Promise<Stats> { return this.call(`stat ${p}`, (s, cb) => s.stat(p, cb)); }
  lstat(p: string): Promise<Stats> { return this.call(`lstat ${p}`, (s, cb) => s.lstat(p, cb)); }
  realpath(p: string): Promise<string> { return this.call(`realpath ${p}`, (s, cb) => s.realpath(p, cb)); }
  mkdir(p: string): Promise<void> { return this.call(`mkdir ${p}`, (s, cb) => s.mkdir(p, cb)); }
  rmdir(p: string): Promise<void> { return this.call(`rmdir ${p}`, (s, cb) => s.rmdir(p, cb)); }
  unlink(p: string): Promise<void> { return this.call(`remove ${p}`, (s, cb) => s.unlink(p, cb)); }
  /** ssh2 sends only the attributes present; its types ask for all of them */
  setstat(p: string, a: Partial<Attributes>): Promise<void> { return this.call(`setstat ${p}`, (s, cb) => s.setstat(p, a as Attributes, cb)); }
  open(p: string, flags: OpenMode, mode?: number): Promise<Buffer> {
    return this.call(`open ${p}`, (s, cb) => (mode === undefined ? s.open(p, flags, cb) : s.open(p, flags, { mode }, cb)));
  }
  close(h: Buffer): Promise<void> { return this.call('close', (s, cb) => s.close(h, cb)); }
  fstat(h: Buffer): Promise<Stats> { return this.call('fstat', (s, cb) => s.fstat(h, cb)); }
  opendir(p: string): Promise<Buffer> { return this.call(`opendir ${p}`, (s, cb) => s.opendir(p, cb)); }

  /** One batch of entries, or undefined at the end of the directory. */
  async readdir(h: Buffer, p: string): Promise<FileEntry[] | undefined> {
    try {
      return await this.call<FileEntry[] | false>(`readdir ${p}`, (s, cb) => s.readdir(h, cb)) || undefined;
    } catch (e) {
      // ssh2 reports the end of a directory as an EOF status
      if (e instanceof FsError && /EOF|end of file/i.test(e.message)) return undefined;
      throw e;
    }
  }

  read(h: Buffer, buf: Buffer, off: number, len: number, pos: number): Promise<number> {
    return this.call('read', (s, cb) => s.read(h, buf, off, len, pos, (err, n) => cb(err, n)));
  }

  write(h: Buffer, buf: Buffer, pos: number): Promise<void> {
    return this.call('write', (s, cb) => s.write(h, buf, 0, buf.length, pos, cb));
  }

  fsetstat(h: Buffer, a: Partial<Attributes>): Promise<void> { return this.call('fsetstat', (s, cb) => s.fsetstat(h, a as Attributes, cb)); }

  /** posix-rename@openssh.com (replaces the target atomically) when the server has it, else a plain rename. */
  rename(from: string, to: string): Promise<void> {
    return this.call(`rename ${from}`, (s, cb) => {
      try {
        s.ext_openssh_rename(from, to, cb);
      } catch {
        s.rename(from, to, cb);
      }
    });
  }

  statvfs(p: string): Promise<Record<string, number>> {
    return this.call(`statvfs ${p}`, (s, cb) => s.ext_openssh_statvfs(p, (err, st) => cb(err, st as unknown as Record<string, number>)));
  }
}
