/**
 * A minimal multipart/form-data parser for the web admin's multipart forms
 * (the restore file ≤ 10 MiB; the user and folder forms, which carry a GCS
 * credentials file), already buffered within the route's body limit. File
 * parts are returned as UTF-8 text (backups and credentials are JSON); a
 * name sent more than once (checkboxes) becomes a list, as urlencoded.
 */
import type { FormBody } from './form';

/** a user form with many directory permissions sends one part per checked box */
const MAX_PARTS = 2000;

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
      const value = content.toString('utf8');
      const prev = Object.hasOwn(out, name) ? out[name] : undefined;
      out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
      if (filename !== undefined) out[`${name}__filename`] = filename;
    }
    pos = next + 2;
  }
  throw new MultipartError(`too many multipart parts (at most ${MAX_PARTS})`);
}
