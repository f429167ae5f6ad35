/**
 * Download and Upload: the open files every protocol reads and writes
 * through. They count bytes, throttle, enforce quota mid-transfer, and on
 * close commit (atomic rename), account quota, log and record metrics.
 */
import { Transform, Writable, type Readable } from 'node:stream';
import type { FileInfo, Fs, ReadHandle, SetStatAttrs, WriteHandle } from '../vfs/fs';
import { FsError, fromNodeError } from './errors';
import { writeThen } from './pump';
import { Throttle } from './throttle';
import { endUpload } from './upload-outcome';
import type { ActiveTransferInfo, Download, Upload } from './types';
import type { ActiveTransfer, TransferHost } from './transfer-host';
import { vbase } from './vpath';

export type { ActiveTransfer, TransferHost } from './transfer-host';

abstract class BaseTransfer implements ActiveTransfer {
  protected readonly startTime = Date.now();
  protected failure: FsError | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    readonly id: number,
    protected readonly host: TransferHost,
    readonly virtualPath: string,
    protected readonly fs: Fs,
    protected readonly fsPath: string,
    protected readonly throttle: Throttle,
  ) {
    host.register(this);
  }

  abstract info(): ActiveTransferInfo;
  protected abstract finish(error: Error | undefined): Promise<Error | undefined>;

  protected get closed(): boolean { return this.closing !== undefined; }
  /** false once close() started: a closing transfer takes no more requests */
  get isOpen(): boolean { return this.closing === undefined; }

  protected ensureOpen(): void {
    if (this.closing) throw new FsError('Aborted', 'the transfer is closed');
    if (this.failure) throw this.failure;
  }

  /** Idempotent: the first call decides the outcome, later calls share its promise. */
  close(error?: Error): Promise<void> {
    if (!this.closing) {
      this.closing = (async () => {
        let err: Error | undefined;
        try {
          err = await this.finish(this.failure ?? error); // the first failure wins (SFTPGo TransferError): a refusal stays one
        } finally {
          this.host.unregister(this);
        }
        if (err && !error) throw err instanceof FsError ? err : fromNodeError(err);
      })();
    }
    return this.closing;
  }

  protected logTransfer(sender: 'Upload' | 'Download', size: number, err: Error | undefined): void {
    this.host.logger.transfer({
      sender,
      localAddr: this.host.localAddr,
      remoteAddr: this.host.remoteAddr,
      elapsedMs: Date.now() - this.startTime,
      sizeBytes: size,
      username: this.host.user.username,
      filePath: this.fs.fsPath(this.fsPath),
      virtualPath: this.virtualPath,
      connectionId: this.host.id,
      protocol: this.host.protocol,
      ...(err ? { error: err.message } : {}),
    });
  }
}

/** The first `length` bytes of `buffers`, as views (a quota-capped readv). */
function leading(buffers: Buffer[], length: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0, left = length; i < buffers.length && left > 0; left -= buffers[i]!.length, i++) out.push(buffers[i]!.subarray(0, left));
  return out;
}

export interface DownloadParams {
  id: number;
  host: TransferHost;
  virtualPath: string;
  fs: Fs;
  fsPath: string;
  handle: ReadHandle;
  /** bytes/s, 0 unlimited */
  bandwidth: number;
  /** remaining data-transfer bytes, -1 unlimited */
  allowed: number;
}

export class DownloadTransfer extends BaseTransfer implements Download {
  private bytesSent = 0;
  private readonly handle: ReadHandle;
  private readonly allowed: number;

  readonly readvAt?: (buffers: Buffer[], position: number) => Promise<number>;

  constructor(p: DownloadParams) {
    super(p.id, p.host, p.virtualPath, p.fs, p.fsPath, new Throttle(p.bandwidth));
    this.handle = p.handle;
    this.allowed = p.allowed;
    const readv = p.handle.readvAt?.bind(p.handle);
    if (readv) {
      this.readvAt = (buffers, position) => {
        const total = buffers.reduce((sum, b) => sum + b.length, 0);
        return this.countedRead(total, position, (capped) => readv(capped < total ? leading(buffers, capped) : buffers, position));
      };
    }
  }

  get size(): number { return this.handle.size; }

  info(): ActiveTransferInfo {
    return { operation_type: 'download', path: this.virtualPath, start_time: this.startTime, size: this.bytesSent };
  }

  /** Bytes of reads in flight, counted as used: pipelined READs must not each see the same quota left. */
  private reserved = 0;

  /** Caps a read to the data-transfer quota left. */
  private capLength(length: number): number {
    if (this.allowed < 0) return length;
    const left = this.allowed - this.bytesSent - this.reserved;
    if (left <= 0) {
      this.failure = new FsError('ReadQuotaExceeded');
      throw this.failure;
    }
    return Math.min(length, left);
  }

  readAt(buf: Buffer, bufOffset: number, length: number, position: number): Promise<number> {
    return this.countedRead(length, position, (capped) => this.handle.readAt(buf, bufOffset, capped, position));
  }

  /** A read of up to `length` bytes by `read(capped)`: quota-capped, reserved while in flight, counted, throttled. */
  private async countedRead(length: number, position: number, read: (capped: number) => Promise<number>): Promise<number> {
    this.ensureOpen();
    // an EOF probe is not data: it must not fail a download that used its quota exactly
    if (position >= this.handle.size && this.allowed >= 0 && this.bytesSent + this.reserved >= this.allowed) return 0;
    const capped = this.capLength(length);
    this.reserved += capped;
    let n: number;
    try { n = await read(capped); } finally { this.reserved -= capped; }
    // no await between the release and the count: the quota never looks freer than it is
    this.bytesSent += n;
    this.host.touch();
    await this.throttle.consume(n);
    return n;
  }

  createReadStream(start: number, end?: number): Readable {
    this.ensureOpen();
    const src = this.handle.createReadStream(start, end);
    const counter = new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        let out = chunk;
        try {
          const n = this.capLength(chunk.length);
          if (n < chunk.length) out = chunk.subarray(0, n);
        } catch (e) { cb(e as Error); return; }
        this.bytesSent += out.length;
        this.host.touch();
        this.throttle.consume(out.length).then(() => cb(null, out), (e: Error) => cb(e));
      },
    });
    src.on('error', (e) => {
      this.failure ??= fromNodeError(e, 'read');
      counter.destroy(e);
    });
    counter.on('close', () => { if (!src.destroyed) src.destroy(); });
    src.pipe(counter);
    return counter;
  }

  protected async finish(error: Error | undefined): Promise<Error | undefined> {
    let err = error;
    try { await this.handle.close(); } catch (e) { err ??= e as Error; }
    await this.host.quota.updateTransfer(0, this.bytesSent);
    const first = !err && this.bytesSent > 0 && await this.host.quota.markFirstTransfer('download');
    this.logTransfer('Download', this.bytesSent, err);
    this.host.metrics.transferCompleted('download', this.bytesSent, !!err);
    const done = { fileSize: this.bytesSent, elapsedMs: Date.now() - this.startTime, error: err };
    await this.host.actionDone('download', this.virtualPath, done);
    if (first) await this.host.actionDone('first-download', this.virtualPath, done);
    return err;
  }
}

export interface UploadParams {
  id: number;
  host: TransferHost;
  virtualPath: string;
  fs: Fs;
  /** the requested target (backend path) */
  fsPath: string;
  /** where bytes are written: the target, or a temp sibling for atomic uploads */
  writePath: string;
  handle: WriteHandle;
  /** 0 direct, 1 atomic (temp deleted on error), 2 atomic with resume (temp renamed on error) */
  atomicMode: 0 | 1 | 2;
  existedBefore: boolean;
  sizeBefore: number;
  /** first byte a sequential stream writes */
  startOffset: number;
  /** writes below this offset are refused (resume) */
  minWriteOffset: number;
  /** 0 = unlimited */
  maxWriteSize: number;
  /** remaining data-transfer bytes, -1 unlimited */
  allowed: number;
  bandwidth: number;
}

export class UploadTransfer extends BaseTransfer implements Upload {
  private bytesReceived = 0;
  private readonly p: UploadParams;
  /** times a client set while uploading (OpenSSH `put -p`): applied once the file is in place */
  private pendingTimes: { atime?: Date; mtime?: Date } | undefined;

  constructor(p: UploadParams) {
    super(p.id, p.host, p.virtualPath, p.fs, p.fsPath, new Throttle(p.bandwidth));
    this.p = p;
  }

  info(): ActiveTransferInfo {
    return { operation_type: 'upload', path: this.virtualPath, start_time: this.startTime, size: this.bytesReceived };
  }

  private admit(length: number, position: number): void {
    this.ensureOpen();
    if (position < this.p.minWriteOffset) {
      throw new FsError('Generic', `invalid write offset: ${position} minimum valid value: ${this.p.minWriteOffset}`);
    }
    const after = this.bytesReceived + length;
    if (this.p.maxWriteSize > 0 && after > this.p.maxWriteSize) {
      this.failure = new FsError('QuotaExceeded');
      throw this.failure;
    }
    if (this.p.allowed >= 0 && after > this.p.allowed) {
      this.failure = new FsError('QuotaExceeded', 'denying write due to transfer quota limit');
      throw this.failure;
    }
  }

  writeNow(buf: Buffer, position: number): boolean {
    const write = this.p.handle.writeNow;
    if (!write || this.throttle.limited) return false;
    this.admit(buf.length, position);
    if (!write.call(this.p.handle, buf, position)) return false;
    this.bytesReceived += buf.length;
    this.host.touch();
    return true;
  }

  async writeAt(buf: Buffer, position: number): Promise<void> {
    this.admit(buf.length, position);
    await this.throttle.consume(buf.length);
    // re-check: the transfer may have been closed while we waited
    this.ensureOpen();
    await this.p.handle.writeAt(buf, position);
    this.bytesReceived += buf.length;
    this.host.touch();
  }

  /**
   * Sequential writer from the request's offset. Ending it commits the
   * upload (so "finish" means the file is in place); destroying it with an
   * error aborts the upload.
   */
  createWriteStream(): Writable {
    let pos = this.p.startOffset;
    let ended = false;
    return new Writable({
      highWaterMark: 256 * 1024,
      write: (chunk: Buffer, _enc, cb) => {
        writeThen(this, chunk, pos, (err) => {
          if (!err) pos += chunk.length;
          cb(err);
        });
      },
      final: (cb) => {
        ended = true;
        this.close().then(() => cb(), (e: Error) => cb(e));
      },
      destroy: (err, cb) => {
        if (ended && !err) { cb(null); return; }
        this.close(err ?? new FsError('Aborted')).then(() => cb(err), () => cb(err));
      },
    });
  }

  async readAt(buf: Buffer, bufOffset: number, length: number, position: number): Promise<number> {
    this.ensureOpen();
    const read = this.p.handle.readAt;
    if (!read) throw new FsError('PermissionDenied', 'the file is not open for reading');
    return read.call(this.p.handle, buf, bufOffset, length, position);
  }

  async truncate(size: number): Promise<void> {
    this.ensureOpen();
    if (this.p.maxWriteSize > 0 && size > this.p.maxWriteSize + this.p.minWriteOffset) throw new FsError('QuotaExceeded');
    await this.p.handle.truncate(size);
    this.host.touch();
  }

  async stat(): Promise<FileInfo> {
    this.ensureOpen();
    return { ...(await this.p.handle.stat()), name: vbase(this.virtualPath) };
  }

  async sync(): Promise<void> {
    this.ensureOpen();
    await this.p.handle.sync();
  }

  /**
   * Attributes set on the file while it is being uploaded (SFTPGo applies them
   * to the in-progress file): mode/uid/gid go to the file being written (the
   * temp file for atomic uploads, since the target does not exist yet), size
   * truncates it, and times are kept until close, because later writes and the
   * commit rename would otherwise lose them. Permissions are the caller's job.
   */
  async setAttrs(attrs: SetStatAttrs): Promise<void> {
    this.ensureOpen();
    const { mode, uid, gid, atime, mtime, size } = attrs;
    if (mode !== undefined || uid !== undefined || gid !== undefined) {
      await this.p.fs.setStat(this.p.writePath, { mode, uid, gid });
    }
    if (size !== undefined) await this.truncate(size);
    if (atime !== undefined || mtime !== undefined) {
      this.pendingTimes = { atime: atime ?? this.pendingTimes?.atime, mtime: mtime ?? this.pendingTimes?.mtime };
    }
    this.host.touch();
  }

  protected async finish(error: Error | undefined): Promise<Error | undefined> {
    const p = this.p;
    // a failed upload is aborted, never committed (object stores drop what was sent), unless upload_mode keeps an interrupted one
    let err = await endUpload(p.handle, p.fs.features, error, (msg) => this.host.logger.info('common', msg, { connection_id: this.host.id, file_path: p.fs.fsPath(p.writePath) }));
    if (err instanceof FsError && err.kind === 'QuotaExceeded' && p.fs.features.commitOnClose) {
      // the abort discarded what was sent: what stands at the path is the previous
      // content, untouched, which must not be removed (SFTPGo removes only local files)
      this.host.logger.warn('common', 'upload denied due to space limit, nothing committed', { connection_id: this.host.id, file_path: p.fs.fsPath(p.writePath) });
    } else if (err instanceof FsError && err.kind === 'QuotaExceeded') {
      // An upload denied for space removes what it wrote, in every upload mode (as
      // SFTPGo): a partial file would keep using the space the quota just refused.
      const removeErr = await p.fs.remove(p.writePath).then(() => undefined,
        (e: Error) => (e instanceof FsError && e.kind === 'NotFound' ? undefined : e));
      this.host.logger.warn('common', 'upload denied due to space limit, partial file removed',
        { connection_id: this.host.id, file_path: p.fs.fsPath(p.writePath), error: removeErr?.message ?? '' });
    } else if (p.writePath !== p.fsPath) {
      if (!err || p.atomicMode === 2) {
        try {
          await p.fs.rename(p.writePath, p.fsPath);
        } catch (e) {
          err ??= e as Error;
          await p.fs.remove(p.writePath).catch(() => undefined);
        }
      } else {
        await p.fs.remove(p.writePath).catch((e: Error) => {
          this.host.logger.warn('common', `unable to remove partial upload: ${e.message}`, { connection_id: this.host.id });
        });
      }
    }
    if (!err && this.pendingTimes) {
      // a failed chtimes does not undo a complete upload: it is logged, as SFTPGo does
      await p.fs.setStat(p.fsPath, this.pendingTimes).catch((e: Error) => {
        this.host.logger.warn('common', `unable to set times on uploaded file: ${e.message}`, { connection_id: this.host.id });
      });
    }
    // quota from what is really on disk now: covers truncation, resume, overwrite and aborts
    let existsAfter = false;
    let sizeAfter = 0;
    try {
      const st = await p.fs.lstat(p.fsPath);
      existsAfter = st.isFile; sizeAfter = st.isFile ? st.size : 0;
    } catch { /* not there: aborted atomic upload */ }
    const hookErr = await this.host.uploadDone(this.virtualPath, sizeAfter, Date.now() - this.startTime, err);
    if (hookErr && existsAfter) {
      // SFTPGo executeUploadHook: a failed synchronous upload action removes the file and fails the upload
      if (await p.fs.remove(p.fsPath).then(() => true, () => false)) { existsAfter = false; sizeAfter = 0; }
    }
    err ??= hookErr;
    await this.host.quota.update(this.virtualPath, (existsAfter ? 1 : 0) - (p.existedBefore ? 1 : 0), sizeAfter - p.sizeBefore);
    await this.host.quota.updateTransfer(this.bytesReceived, 0);
    const first = !err && await this.host.quota.markFirstTransfer('upload');
    this.logTransfer('Upload', this.bytesReceived, err);
    this.host.metrics.transferCompleted('upload', this.bytesReceived, !!err);
    if (first) await this.host.actionDone('first-upload', this.virtualPath, { fileSize: sizeAfter, elapsedMs: Date.now() - this.startTime });
    return err;
  }
}
