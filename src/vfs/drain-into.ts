/** Reading a storage SDK's response body into a caller's buffer (S3, GCS, Azure Blob); no SDK here, so one backend's reads never load another's SDK. */
import type { Readable } from 'node:stream';
import { FsError } from '../common/errors';

/** Copies a response body into buf; more data than buf holds is an error. */
export async function drainInto(body: Readable | undefined, buf: Buffer, name: string): Promise<number> {
  let fill = 0;
  if (!body) return 0;
  for await (const chunk of body) {
    const c = chunk as Buffer;
    if (fill + c.length > buf.length) throw new FsError('Generic', `read of ${name}: more data than requested`);
    fill += c.copy(buf, fill);
  }
  return fill;
}
