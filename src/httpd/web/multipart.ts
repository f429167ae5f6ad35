/**
 * A minimal multipart/form-data parser for the one upload the web admin
 * takes (the restore file, ≤ 10 MiB, already buffered by Fastify's body
 * limit). File parts are returned as UTF-8 text: backups are JSON.
 */
import type { FormBody } from './form';

const MAX_PARTS = 50;

export class MultipartError extends Error {}

export function boundaryOf(contentType: string): string {
  const m = /boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  const b = m?.[1] ?? m?.[2];
  if (!b) throw new MultipartError('multipart body without boundary');
  return b;
}

export function parseMultipart(body: Buffer, boundary: string): FormBody {
  const out: FormBody = {};
  const delim = Buffer.from(`--${boundary}`);
  let pos = body.indexOf(delim);
  if (pos < 0) throw new MultipartError('malformed multipart body');
  for (let n = 0; n < MAX_PARTS; n++) {
    pos += delim.length;
    // "--" after the delimiter ends the body
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return out;
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2;
    const headEnd = body.indexOf('\r\n\r\n', pos);
    if (headEnd < 0) throw new MultipartError('malformed multipart part');
    const head = body.subarray(pos, headEnd).toString('utf8');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), headEnd + 4);
    if (next < 0) throw new MultipartError('unterminated multipart part');
    const content = body.subarray(headEnd + 4, next);
    const disp = /content-disposition:\s*form-data;([^\r\n]*)/i.exec(head)?.[1] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disp)?.[1];
    const filename = /\bfilename="([^"]*)"/i.exec(disp)?.[1];
    if (name !== undefined && name !== '' && !name.startsWith('__proto')) {
      out[name] = content.toString('utf8');
      if (filename !== undefined) out[`${name}__filename`] = filename;
    }
    pos = next + 2;
  }
  throw new MultipartError(`too many multipart parts (at most ${MAX_PARTS})`);
}
