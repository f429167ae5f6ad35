/**
 * The HTTP/1.1 response head and body framing, parsed strictly for the
 * ranged GETs sent on raw sockets (direct-get.ts): a status line, header
 * lines, a blank line. Anything else is a protocol error, never guessed at:
 * those bytes come from the storage service and land in window buffers.
 */

/** a response head longer than this is refused (S3's are well under 2 KiB) */
export const MAX_HEAD_BYTES = 16 * 1024;

export interface ResponseHead {
  status: number;
  /** header names in lower case; a repeated header's values joined with ", " */
  headers: Map<string, string>;
  /** bytes of the head, blank line included: the body starts here */
  length: number;
  /** the connection can carry another request after this response */
  keepAlive: boolean;
}

/** How the body of a response ends. */
export type BodyFraming = { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };

export class HttpProtocolError extends Error {
  constructor(message: string) {
    super(`s3: ${message}`);
    this.name = 'HttpProtocolError';
  }
}

const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: [^\r\n]*)?$/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Parses the head at the start of buf (its first `length` bytes are data).
 * Undefined while the blank line has not come; throws HttpProtocolError on
 * a malformed head or one longer than MAX_HEAD_BYTES.
 */
export function parseResponseHead(buf: Buffer, length: number): ResponseHead | undefined {
  const end = buf.subarray(0, length).indexOf('\r\n\r\n', 0, 'latin1');
  if (end < 0) {
    if (length >= MAX_HEAD_BYTES) throw new HttpProtocolError(`response head longer than ${MAX_HEAD_BYTES} bytes`);
    return undefined;
  }
  const lines = buf.toString('latin1', 0, end).split('\r\n');
  const m = STATUS_LINE.exec(lines[0]);
  if (!m) throw new HttpProtocolError(`malformed status line ${JSON.stringify(lines[0].slice(0, 80))}`);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!HEADER_NAME.test(name)) throw new HttpProtocolError(`malformed header line ${JSON.stringify(line.slice(0, 80))}`);
    const key = name.toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = headers.get(key);
    headers.set(key, prev === undefined ? value : `${prev}, ${value}`);
  }
  const connection = (headers.get('connection') ?? '').toLowerCase();
  const keepAlive = m[1] === '1' ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
  return { status: Number(m[2]), headers, length: end + 4, keepAlive };
}

/** The body framing of a response head (RFC 9112 §6.3): Transfer-Encoding wins, then Content-Length, else the close. */
export function bodyFraming(head: ResponseHead): BodyFraming {
  const te = head.headers.get('transfer-encoding');
  if (te !== undefined) {
    if (!/(^|,)\s*chunked\s*$/i.test(te)) throw new HttpProtocolError(`unsupported transfer-encoding ${JSON.stringify(te)}`);
    return { kind: 'chunked' };
  }
  const cl = head.headers.get('content-length');
  if (cl === undefined) return { kind: 'close' };
  // a repeated Content-Length is allowed only when every value is the same
  const values = new Set(cl.split(',').map((v) => v.trim()));
  const [only] = values;
  if (values.size !== 1 || !/^\d{1,15}$/.test(only)) throw new HttpProtocolError(`invalid content-length ${JSON.stringify(cl)}`);
  return { kind: 'length', length: Number(only) };
}

/**
 * Decodes a complete chunked body (error documents only: they are small and
 * read whole). Undefined while the last chunk has not come.
 */
export function decodeChunked(raw: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let off = 0;
  // bounded: each round consumes one chunk of raw or stops
  for (;;) {
    const eol = raw.indexOf('\r\n', off, 'latin1');
    if (eol < 0) return undefined;
    const sizeText = raw.toString('latin1', off, eol).split(';')[0].trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw new HttpProtocolError(`malformed chunk size ${JSON.stringify(sizeText.slice(0, 20))}`);
    const size = parseInt(sizeText, 16);
    if (size === 0) {
      // the last chunk, then optional trailers and a blank line
      return raw.indexOf('\r\n\r\n', eol, 'latin1') >= 0 ? Buffer.concat(parts) : undefined;
    }
    if (raw.length < eol + 2 + size + 2) return undefined;
    parts.push(raw.subarray(eol + 2, eol + 2 + size));
    off = eol + 2 + size + 2;
  }
}
