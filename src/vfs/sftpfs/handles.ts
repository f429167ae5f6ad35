/**
 * Files opened on a remote SFTP server. Reads and writes are positional
 * requests on the remote handle, split into 32 KiB requests issued together
 * (one round trip per call, not per chunk) unless disable_concurrent_reads
 * asks for one request at a time. A write handle's abort() closes the remote
 * file: like a local file, what was written stays, and the upload mode
 * (common) decides what to do with it.
 */
import type { Readable } from 'node:stream';
import type { Stats } from 'ssh2';
import { FsError } from '../../common/errors';
import type { FileInfo, ReadHandle, WriteHandle } from '../fs';
import { readStreamFrom } from '../read-stream';
import type { Remote } from './remote';

const CHUNK = 32 * 1024;
/** SSH_FX_EOF */
const STATUS_EOF = 1;

export function fileInfoOf(name: string, st: Stats): FileInfo {
  return {
    name, size: st.size, mode: st.mode, mtime: new Date(st.mtime * 1000), atime: new Date(st.atime * 1000), uid: st.uid, gid: st.gid,
    isDirectory: st.isDirectory(), isFile: st.isFile(), isSymlink: st.isSymbolicLink(),
  };
}

/** A serial queue: with disable_concurrent_reads one request at a time per file. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task, task);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

export class SftpReadHandle implements ReadHandle {
  private closed = false;
  private readonly serial = new Serial();

  constructor(private readonly remote: Remote, private readonly handle: Buffer, readonly size: number,
    private readonly concurrent: boolean, private readonly release: () => void) {}

  private async readChunk(buf: Buffer, off: number, len: number, pos: number): Promise<number> {
    try {
      return await this.remote.read(this.handle, buf, off, len, pos);
    } catch (e) {
      if (e instanceof FsError && (e.cause as { code?: number } | undefined)?.code === STATUS_EOF) return 0;
      throw e;
    }
  }

  async readAt(buf: Buffer, bufOffset: number, length: number, position: number): Promise<number> {
    if (this.closed) throw new FsError('Aborted', 'the file is closed');
    const want = Math.max(Math.min(length, this.size - position), 0);
    if (want === 0) return 0;
    const starts: number[] = [];
    for (let o = 0; o < want; o += CHUNK) starts.push(o);
    const readOne = (o: number): Promise<number> => this.readChunk(buf, bufOffset + o, Math.min(CHUNK, want - o), position + o);
    const got = this.concurrent
      ? await Promise.all(starts.map(readOne))
      : await this.serial.run(async () => { const out: number[] = []; for (const o of starts) out.push(await readOne(o)); return out; });
    // bytes count up to the first short chunk: a file that shrank ends there
    let done = 0;
    for (let i = 0; i < got.length; i++) {
      done += got[i];
      if (got[i] < Math.min(CHUNK, want - starts[i])) break;
    }
    return done;
  }

  createReadStream(start: number, end?: number): Readable {
    return readStreamFrom((b, o, l, pos) => this.readAt(b, o, l, pos), this.size, start, end);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.remote.close(this.handle);
    } finally {
      this.release();
    }
  }
}

export class SftpWriteHandle implements WriteHandle {
  private closed = false;
  private written = 0;

  constructor(private readonly remote: Remote, private readonly handle: Buffer, private readonly name: string,
    private readonly sequentialOnly: boolean, start: number, private readonly release: () => void) {
    this.written = start;
  }

  async writeAt(buf: Buffer, position: number): Promise<void> {
    if (this.closed) throw new FsError('Aborted', 'the file is closed');
    if (this.sequentialOnly && position !== this.written) {
      throw new FsError('Unsupported', `buffered SFTP uploads are sequential: write at ${position}, expected ${this.written}`);
    }
    const parts: Promise<void>[] = [];
    for (let o = 0; o < buf.length; o += CHUNK) parts.push(this.remote.write(this.handle, buf.subarray(o, o + CHUNK), position + o));
    await Promise.all(parts);
    this.written = Math.max(this.written, position + buf.length);
  }

  async truncate(size: number): Promise<void> {
    if (this.sequentialOnly) throw new FsError('Unsupported', 'buffered SFTP uploads cannot be truncated');
    await this.remote.fsetstat(this.handle, { size });
    this.written = size;
  }

  async stat(): Promise<FileInfo> {
    return fileInfoOf(this.name, await this.remote.fstat(this.handle));
  }

  async sync(): Promise<void> {
    // the remote server decides durability; SFTP v3 has no portable fsync
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.remote.close(this.handle);
    } finally {
      this.release();
    }
  }

  async abort(): Promise<void> {
    await this.close().catch(() => undefined);
  }
}
