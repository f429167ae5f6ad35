/**
 * Open files of the encrypted local backend: reads decrypt the DARE
 * packages a range covers (the last one kept for the next sequential read);
 * writes are sequential, buffered into 64 KiB packages sealed as they fill,
 * the last one sealed final at close (as sio's writer).
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { FsError } from '../../common/errors';
import type { FileInfo, ReadHandle, WriteHandle } from '../fs';
import { readStreamFrom } from '../read-stream';
import { FILE_HEADER_SIZE, MAX_PACKAGE, MAX_PAYLOAD, openPackage, sealPackage } from './dare';

export class CryptReadHandle implements ReadHandle {
  private cached: { idx: number; plain: Buffer } | undefined;
  private readonly lastIdx: number;

  constructor(private readonly inner: ReadHandle, private readonly key: Buffer, readonly size: number, private readonly encBody: number) {
    this.lastIdx = Math.max(Math.ceil(encBody / MAX_PACKAGE) - 1, 0);
  }

  private async packageAt(idx: number): Promise<Buffer> {
    if (this.cached?.idx === idx) return this.cached.plain;
    const len = Math.min(MAX_PACKAGE, this.encBody - idx * MAX_PACKAGE);
    const pkg = Buffer.allocUnsafe(len);
    let fill = 0;
    // bounded: each round reads at least one byte or fails
    while (fill < len) {
      const n = await this.inner.readAt(pkg, fill, len - fill, FILE_HEADER_SIZE + idx * MAX_PACKAGE + fill);
      if (n === 0) throw new FsError('Generic', 'encrypted file: unexpected end of file');
      fill += n;
    }
    const plain = openPackage(this.key, pkg, idx, idx === this.lastIdx);
    this.cached = { idx, plain };
    return plain;
  }

  async readAt(buf: Buffer, bufOffset: number, length: number, position: number): Promise<number> {
    let done = 0;
    // bounded: each round copies at least one byte or stops at the end
    while (done < length && position + done < this.size) {
      const pos = position + done;
      const idx = Math.floor(pos / MAX_PAYLOAD);
      const plain = await this.packageAt(idx);
      const inPkg = pos - idx * MAX_PAYLOAD;
      const n = Math.min(length - done, plain.length - inPkg);
      if (n <= 0) throw new FsError('Generic', 'encrypted file: size mismatch');
      plain.copy(buf, bufOffset + done, inPkg, inPkg + n);
      done += n;
    }
    return done;
  }

  createReadStream(start: number, end?: number): Readable {
    return readStreamFrom((b, o, l, p) => this.readAt(b, o, l, p), this.size, start, end);
  }

  close(): Promise<void> {
    this.cached = undefined;
    return this.inner.close();
  }
}

export class CryptWriteHandle implements WriteHandle {
  private readonly streamNonce = randomBytes(12);
  private readonly buffer = Buffer.allocUnsafe(MAX_PAYLOAD);
  private fill = 0;
  private seq = 0;
  private written = 0;
  /** next byte of the file to write (after the file header) */
  private filePos = FILE_HEADER_SIZE;

  constructor(private readonly inner: WriteHandle, private readonly key: Buffer) {}

  private async flushPackage(final: boolean): Promise<void> {
    const pkg = sealPackage(this.key, this.streamNonce, this.seq++, this.buffer.subarray(0, this.fill), final);
    this.fill = 0;
    await this.inner.writeAt(pkg, this.filePos);
    this.filePos += pkg.length;
  }

  async writeAt(buf: Buffer, position: number): Promise<void> {
    if (position !== this.written) {
      throw new FsError('Unsupported', `encrypted files are written sequentially: write at ${position}, expected ${this.written}`);
    }
    let off = 0;
    // bounded: each round copies at least one byte into a package with room
    while (off < buf.length) {
      // a full package is sealed only once more data arrives: the last one must be sealed final
      if (this.fill === MAX_PAYLOAD) await this.flushPackage(false);
      const n = buf.copy(this.buffer, this.fill, off);
      this.fill += n;
      off += n;
      this.written += n;
    }
  }

  async truncate(size: number): Promise<void> {
    if (size !== this.written) throw new FsError('Unsupported', 'encrypted files cannot be truncated');
  }

  async stat(): Promise<FileInfo> {
    return { ...(await this.inner.stat()), size: this.written };
  }

  sync(): Promise<void> {
    return this.inner.sync();
  }

  async close(): Promise<void> {
    try {
      if (this.fill > 0) await this.flushPackage(true);
    } catch (e) {
      await this.inner.abort(e as Error).catch(() => undefined);
      throw e;
    }
    await this.inner.close();
  }

  abort(reason: Error): Promise<void> {
    return this.inner.abort(reason);
  }
}
