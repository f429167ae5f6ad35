/**
 * Open-file handles of the local backend. Reads and writes are positional on
 * one fs.promises FileHandle (writes also inline on its fd, see
 * inline-writes.ts); the read stream is a thin wrapper over that same handle
 * and never closes it (the owner closes the handle).
 */
import { writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import * as path from 'node:path';
import { fromNodeError } from '../common/errors';
import type { FileInfo, ReadHandle, WriteHandle } from './fs';
import { InlineWritePolicy, processInlineWriteBudget } from './inline-writes';
import { statsToFileInfo } from './osfs-info';

const STREAM_CHUNK = 256 * 1024;

async function readAt(fh: FileHandle, buf: Buffer, bufOffset: number, length: number, position: number): Promise<number> {
  try {
    const { bytesRead } = await fh.read(buf, bufOffset, length, position);
    return bytesRead;
  } catch (e) {
    throw fromNodeError(e, 'read');
  }
}

/** A sequential reader over [start, end] (end inclusive, as fs.createReadStream). */
export function positionalReadStream(fh: FileHandle, start: number, end?: number): Readable {
  let pos = start;
  const last = end === undefined ? Number.POSITIVE_INFINITY : end;
  return new Readable({
    highWaterMark: STREAM_CHUNK,
    read(size) {
      const want = Math.min(Math.max(size, 1), STREAM_CHUNK, last - pos + 1);
      if (want <= 0) { this.push(null); return; }
      const buf = Buffer.allocUnsafe(want);
      readAt(fh, buf, 0, want, pos).then((n) => {
        if (n === 0) { this.push(null); return; }
        pos += n;
        this.push(n === want ? buf : buf.subarray(0, n));
      }, (err: Error) => this.destroy(err));
    },
  });
}

/** Writes `buf` fully at `position` (a single write may be short). */
async function writeFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let off = 0;
  // bounded: each iteration writes at least one byte or throws
  while (off < buf.length) {
    let written: number;
    try {
      ({ bytesWritten: written } = await fh.write(buf, off, buf.length - off, position + off));
    } catch (e) {
      throw fromNodeError(e, 'write');
    }
    if (written <= 0) throw fromNodeError(Object.assign(new Error('short write'), { code: 'EIO' }), 'write');
    off += written;
  }
}

/** writeFully on the loop (see inline-writes.ts for when). */
function writeFullyInline(fd: number, buf: Buffer, position: number): void {
  let off = 0;
  // bounded: each iteration writes at least one byte or throws
  while (off < buf.length) {
    const written = writeSync(fd, buf, off, buf.length - off, position + off);
    if (written <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
    off += written;
  }
}

export class OsReadHandle implements ReadHandle {
  constructor(private readonly fh: FileHandle, readonly size: number) {}
  readAt(buf: Buffer, bufOffset: number, length: number, position: number): Promise<number> {
    return readAt(this.fh, buf, bufOffset, length, position);
  }
  async readvAt(buffers: Buffer[], position: number): Promise<number> {
    try {
      const { bytesRead } = await this.fh.readv(buffers, position);
      return bytesRead;
    } catch (e) {
      throw fromNodeError(e, 'read');
    }
  }
  createReadStream(start: number, end?: number): Readable {
    return positionalReadStream(this.fh, start, end);
  }
  async close(): Promise<void> {
    try { await this.fh.close(); } catch (e) { throw fromNodeError(e, 'close'); }
  }
}

export class OsWriteHandle implements WriteHandle {
  readonly readAt?: (buf: Buffer, bufOffset: number, length: number, position: number) => Promise<number>;
  private readonly inline = new InlineWritePolicy(processInlineWriteBudget);

  constructor(private readonly fh: FileHandle, private readonly realPath: string, readable: boolean) {
    if (readable) this.readAt = (buf, bufOffset, length, position) => readAt(this.fh, buf, bufOffset, length, position);
  }
  writeAt(buf: Buffer, position: number): Promise<void> {
    return writeFully(this.fh, buf, position);
  }
  writeNow(buf: Buffer, position: number): boolean {
    try {
      return this.inline.tryInline(buf.length, () => writeFullyInline(this.fh.fd, buf, position));
    } catch (e) {
      throw fromNodeError(e, 'write');
    }
  }
  async truncate(size: number): Promise<void> {
    try { await this.fh.truncate(size); } catch (e) { throw fromNodeError(e, 'truncate'); }
  }
  async stat(): Promise<FileInfo> {
    try { return statsToFileInfo(path.basename(this.realPath), await this.fh.stat()); } catch (e) { throw fromNodeError(e, 'stat'); }
  }
  async sync(): Promise<void> {
    try { await this.fh.sync(); } catch (e) { throw fromNodeError(e, 'sync'); }
  }
  async close(): Promise<void> {
    try { await this.fh.close(); } catch (e) { throw fromNodeError(e, 'close'); }
  }
  /** The bytes are already in the file: closing is all a local disk can do (common applies the upload mode). */
  abort(_reason: Error): Promise<void> {
    return this.close();
  }
}
