/** A sequential Readable over [start, end] (end inclusive) of any positional reader. */
import { Readable } from 'node:stream';

type ReadAt = (buf: Buffer, bufOffset: number, length: number, position: number) => Promise<number>;

const STREAM_CHUNK = 256 * 1024;

export function readStreamFrom(readAt: ReadAt, size: number, start: number, end?: number): Readable {
  let pos = start;
  const last = end === undefined ? size - 1 : Math.min(end, size - 1);
  const stream: Readable = new Readable({
    highWaterMark: STREAM_CHUNK,
    read: (want) => {
      const n = Math.min(Math.max(want, 1), STREAM_CHUNK, last - pos + 1);
      if (n <= 0) { stream.push(null); return; }
      const buf = Buffer.allocUnsafe(n);
      readAt(buf, 0, n, pos).then((got) => {
        if (got === 0) { stream.push(null); return; }
        pos += got;
        stream.push(got === n ? buf : buf.subarray(0, got));
      }, (err: Error) => stream.destroy(err));
    },
  });
  return stream;
}
