/**
 * The transfer data paths FTP (RETR/STOR) and WebDAV (GET/PUT) share, tuned
 * with `npm run bench` (512 MiB, loopback, --cpu-prof of the server):
 * - download: the generic Download.createReadStream() allocates a fresh
 *   buffer per read and passes it through a Transform, and GC was 12% of an
 *   FTP download profile. downloadPump() reads into three recycled buffers
 *   and issues the next read while the destination sends the previous chunk.
 * - upload: the generic Upload.createWriteStream() issues one positional
 *   write per 64 KiB socket read, one thread-pool round trip at a time (FTP
 *   upload 0.38x vsftpd). uploadSink() coalesces the chunks that pile up
 *   during one write into a single write of up to ~1 MiB copied into a
 *   reused buffer (0.56x on the same run conditions), and writes inline when
 *   the upload allows it (Upload.writeNow, see vfs/inline-writes.ts).
 *   lentChunkUpload() serves sources that lend one reused read buffer (plain
 *   FTP STOR, util/user-buffer-socket.ts): 1.2-1.4x vsftpd.
 * Memory stays bounded: the pump waits for 'drain' and owns at most three
 * buffers; the sink makes its source pause past its highWaterMark; the lent
 * sink pauses its source while a copied chunk is written.
 */
import { Writable } from 'node:stream';
import type { Download, Upload } from './types';

const SINK_HIGH_WATER_MARK = 1024 * 1024;

/** Writes `buf` at `position` inline when the upload can (writeNow), else with writeAt; then calls `done`. */
export function writeThen(ul: Upload, buf: Buffer, position: number, done: (err?: Error) => void): void {
  try {
    if (ul.writeNow(buf, position)) { done(); return; }
  } catch (e) { done(e as Error); return; }
  ul.writeAt(buf, position).then(() => done(), (e: Error) => done(e));
}

/** Sequential writer from `start`; the caller commits or aborts with ul.close(). */
export function uploadSink(ul: Upload, start: number): Writable {
  let pos = start;
  // reused: writeAt has finished with it before the next writev runs
  let scratch: Buffer | undefined;
  return new Writable({
    highWaterMark: SINK_HIGH_WATER_MARK,
    writev(chunks, cb) {
      let buf: Buffer;
      if (chunks.length === 1) {
        buf = chunks[0]!.chunk as Buffer;
      } else {
        let total = 0;
        for (const c of chunks) total += (c.chunk as Buffer).length;
        if (!scratch || scratch.length < total) scratch = Buffer.allocUnsafe(Math.max(total, SINK_HIGH_WATER_MARK + 64 * 1024));
        let off = 0;
        for (const c of chunks) off += (c.chunk as Buffer).copy(scratch, off);
        buf = scratch.subarray(0, total);
      }
      writeThen(ul, buf, pos, (err) => {
        if (!err) pos += buf.length;
        cb(err);
      });
    },
  });
}

/** Where a source that lends its chunks (see lentChunkUpload) puts them. */
export interface LentChunkSink {
  /**
   * Takes a chunk that is valid only during this call. Returns false when
   * the source must stop reading until `resume` (given to lentChunkUpload)
   * is called, or for good after a failure.
   */
  write(chunk: Buffer): boolean;
  /** Resolves once every accepted byte is written; rejects with the first failure. */
  flush(): Promise<void>;
}

/**
 * Sequential writer from `start` for a source that reads into one reused
 * buffer (a socket with `onread`, see util/user-buffer-socket.ts): no buffer
 * is allocated per chunk, and a chunk the upload can take at once (writeNow)
 * is written straight from the lent buffer. Any other chunk is copied,
 * written with writeAt while the source is paused, and `resume` called when
 * it is done. `onError` hears the first failure (the source is already paused).
 */
export function lentChunkUpload(ul: Upload, start: number, resume: () => void, onError: (e: Error) => void): LentChunkSink {
  let pos = start;
  let pending: Promise<void> = Promise.resolve();
  let inFlight = 0;
  let failure: Error | undefined;
  const fail = (e: unknown): void => {
    if (failure) return;
    failure = e instanceof Error ? e : new Error(String(e));
    onError(failure);
  };
  return {
    write(chunk) {
      if (failure) return false;
      if (inFlight === 0) {
        try {
          if (ul.writeNow(chunk, pos)) { pos += chunk.length; return true; }
        } catch (e) { fail(e); return false; }
      }
      // the lent buffer is reused by the next read: keep a copy
      const copy = Buffer.from(chunk);
      const at = pos;
      pos += copy.length;
      inFlight++;
      pending = pending.then(() => (failure ? undefined : ul.writeAt(copy, at))).then(
        () => { inFlight--; if (inFlight === 0 && !failure) resume(); },
        (e: unknown) => { inFlight--; fail(e); },
      );
      return false;
    },
    flush() {
      return pending.then(() => { if (failure) throw failure; });
    },
  };
}


/**
 * Read sizes of downloadPump: the first read is small (small files and
 * ranges stay cheap), each full read doubles the next up to MAX_READ_CHUNK.
 * 512 MiB from the page cache to a loopback socket on the 2-core bench
 * machine: 1301-1491 MB/s with 256 KiB reads, 2365-2562 MB/s with 1 MiB.
 * At most three buffers of the largest size are held per download.
 */
const FIRST_READ_CHUNK = 128 * 1024;
const MAX_READ_CHUNK = 1024 * 1024;

function closedError(): Error {
  return Object.assign(new Error('data connection closed'), { code: 'ECONNRESET' });
}

/** Resolves on 'drain', rejects if the destination closes or fails first. */
function drained(dst: Writable): Promise<void> {
  if (dst.destroyed) return Promise.reject(closedError());
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      dst.off('drain', onDrain);
      dst.off('close', onClose);
      dst.off('error', done);
      if (err) reject(err); else resolve();
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(closedError());
    dst.on('drain', onDrain);
    dst.once('close', onClose);
    dst.once('error', done);
  });
}

/**
 * Sends the file from `start` through `end` (inclusive; EOF when omitted) to
 * `dst`. The caller ends the destination. Write callbacks return buffers to
 * the pool, so `dst` must call them only once it is done with the data
 * (net.Socket and http.ServerResponse do).
 */
export async function downloadPump(dl: Download, dst: Writable, start: number, end?: number): Promise<void> {
  let size = FIRST_READ_CHUNK;
  let pool: Buffer[] = [];
  const take = (): Buffer => pool.pop() ?? Buffer.allocUnsafe(size);
  const stop = end === undefined ? Number.POSITIVE_INFINITY : end + 1;
  const read = (b: Buffer, at: number): Promise<number> => {
    const want = Math.min(b.length, stop - at);
    return want <= 0 ? Promise.resolve(0) : dl.readAt(b, 0, want, at);
  };
  let pos = start;
  let buf = take();
  let next = read(buf, pos);
  // bounded by the file size (or `end`): every iteration sends at least one byte or stops
  for (;;) {
    const n = await next;
    if (n <= 0) break;
    if (dst.destroyed) throw closedError();
    pos += n;
    const cur = buf;
    if (n === cur.length && size < MAX_READ_CHUNK) {
      // a full read: the next ones are larger; buffers of the old size are dropped
      size *= 2;
      pool = [];
    }
    buf = take();
    // the next read overlaps with sending this chunk
    next = read(buf, pos);
    // a rejected read is awaited at the top of the loop; keep it from being reported unhandled meanwhile
    next.catch(() => undefined);
    const more = dst.write(n === cur.length ? cur : cur.subarray(0, n), () => { if (cur.length === size) pool.push(cur); });
    if (!more) await drained(dst);
  }
}
