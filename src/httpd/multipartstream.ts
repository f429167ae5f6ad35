/**
 * A streaming multipart/form-data reader: parts are read one after the other
 * straight from the request body, each part's data yielded in chunks as it
 * arrives, so uploads of any size are never buffered whole (memory is bounded
 * by one socket chunk plus the boundary). Bad framing is a MultipartError.
 */
const MAX_HEADER_BYTES = 16 * 1024;

export class MultipartError extends Error {}

export interface PartHeaders {
  /** form field name */
  name: string;
  /** present for file parts */
  filename?: string;
  contentType: string;
}

export function boundaryOf(contentType: string | undefined): string {
  const m = /^multipart\/form-data\b.*?;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType ?? '');
  const b = m?.[1] ?? m?.[2];
  if (!b) throw new MultipartError('the request is not multipart/form-data with a boundary');
  return b;
}

function decodeExtValue(v: string): string | undefined {
  // RFC 5987: charset'lang'percent-encoded
  const m = /^([\w-]+)'[^']*'(.*)$/.exec(v);
  if (!m) return undefined;
  try {
    return m[1]!.toLowerCase() === 'utf-8' ? decodeURIComponent(m[2]!) : unescape(m[2]!);
  } catch {
    return undefined;
  }
}

function parseHeaders(raw: string): PartHeaders {
  let name = '';
  let filename: string | undefined;
  let contentType = 'application/octet-stream';
  for (const line of raw.split('\r\n')) {
    const idx = line.indexOf(':');
    if (idx <= 0) continue;
    const key = line.slice(0, idx).trim().toLowerCase();
    const value = line.slice(idx + 1).trim();
    if (key === 'content-type') contentType = value;
    if (key !== 'content-disposition') continue;
    const params = /;\s*([\w*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/g;
    let extName: string | undefined;
    for (let m = params.exec(value); m; m = params.exec(value)) {
      const k = m[1]!.toLowerCase();
      const v = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
      if (k === 'name') name = v;
      else if (k === 'filename') filename = v;
      else if (k === 'filename*') extName = decodeExtValue(v);
    }
    if (extName !== undefined) filename = extName;
  }
  return { name, filename, contentType };
}

export class MultipartReader {
  private buf: Buffer;
  private readonly delimiter: Buffer;
  private ended = false;
  private done = false;
  private inPart = false;

  constructor(private readonly src: AsyncIterator<Buffer>, boundary: string) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
    // the first delimiter has no CRLF before it: pretend it had one
    this.buf = Buffer.from('\r\n', 'latin1');
  }

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.src.next();
    if (r.done) {
      this.ended = true;
      return false;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    return true;
  }

  /** Moves past the next delimiter; returns false at the closing one. */
  private async skipToDelimiter(): Promise<boolean> {
    for (;;) {
      const at = this.buf.indexOf(this.delimiter);
      if (at >= 0) {
        this.buf = this.buf.subarray(at + this.delimiter.length);
        break;
      }
      // keep only what could be the start of a delimiter
      this.buf = this.buf.subarray(Math.max(0, this.buf.length - this.delimiter.length));
      if (!(await this.fill())) throw new MultipartError('unexpected end of the multipart body');
    }
    while (this.buf.length < 2) if (!(await this.fill())) throw new MultipartError('unexpected end of the multipart body');
    if (this.buf[0] === 0x2d && this.buf[1] === 0x2d) return false;
    return true;
  }

  /** The next part's headers, or undefined after the closing delimiter. Unread data of the current part is skipped. */
  async nextPart(): Promise<PartHeaders | undefined> {
    if (this.done) return undefined;
    if (this.inPart) {
      const rest = this.partData();
      // bounded by the body: each step consumes input or ends
      while (!(await rest.next()).done) { /* the caller did not want this part's data */ }
    }
    if (!(await this.skipToDelimiter())) {
      this.done = true;
      return undefined;
    }
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n', 0, 'latin1');
      if (end >= 0) {
        // transport padding and the CRLF after the delimiter come first
        const raw = this.buf.subarray(0, end).toString('utf8');
        this.buf = this.buf.subarray(end + 4);
        this.inPart = true;
        return parseHeaders(raw.replace(/^[ \t]*\r\n/, ''));
      }
      if (this.buf.length > MAX_HEADER_BYTES) throw new MultipartError('multipart part headers too large');
      if (!(await this.fill())) throw new MultipartError('unexpected end of the multipart body');
    }
  }

  /** The current part's data, chunk by chunk, up to (not including) the next delimiter. */
  async *partData(): AsyncGenerator<Buffer> {
    if (!this.inPart) return;
    for (;;) {
      const at = this.buf.indexOf(this.delimiter);
      if (at >= 0) {
        if (at > 0) yield this.buf.subarray(0, at);
        // leave the delimiter for nextPart
        this.buf = this.buf.subarray(at);
        this.inPart = false;
        return;
      }
      const safe = this.buf.length - this.delimiter.length;
      if (safe > 0) {
        const out = this.buf.subarray(0, safe);
        this.buf = this.buf.subarray(safe);
        yield out;
      }
      if (!(await this.fill())) throw new MultipartError('unexpected end of the multipart body');
    }
  }
}
