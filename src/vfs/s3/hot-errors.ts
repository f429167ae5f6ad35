/**
 * S3's error answers for the requests sent without the SDK (hot.ts), shaped
 * as the SDK's service exceptions (name = the S3 error code, status in
 * $metadata.httpStatusCode) so fromS3Error maps both the same way: 404 and
 * NoSuchKey NotFound, 401/403 PermissionDenied, 5xx Unavailable.
 */
import type { IncomingMessage } from 'node:http';

/** an error document is a few hundred bytes: more is not read */
const MAX_ERROR_BODY = 64 * 1024;

/** the names the SDK gives bodiless errors (HEAD, or a server that sends no XML) */
const NAME_BY_STATUS: Record<number, string> = { 301: 'PermanentRedirect', 304: 'NotModified', 400: 'BadRequest', 403: 'Forbidden', 404: 'NotFound', 412: 'PreconditionFailed' };

export class S3ResponseError extends Error {
  readonly $metadata: { httpStatusCode: number; requestId?: string };

  constructor(readonly code: string, message: string, status: number, requestId?: string) {
    super(message);
    this.name = code;
    this.$metadata = { httpStatusCode: status, requestId };
  }
}

function xmlField(xml: string, field: string): string | undefined {
  const m = new RegExp(`<${field}>([^<]*)</${field}>`).exec(xml);
  return m ? decodeXml(m[1]) : undefined;
}

function decodeXml(s: string): string {
  return s.replace(/&(lt|gt|quot|apos|amp);/g, (_m, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e] ?? '');
}

/** Parses an error document (`<Error><Code>…</Code><Message>…</Message></Error>`); a body without one names the status. */
export function s3ErrorFrom(status: number, body: string, requestId?: string): S3ResponseError {
  const code = xmlField(body, 'Code') ?? NAME_BY_STATUS[status] ?? (status >= 500 ? 'ServiceUnavailable' : `Http${status}`);
  const message = xmlField(body, 'Message') ?? `HTTP status ${status}`;
  return new S3ResponseError(code, message, status, requestId);
}

/** Reads (at most MAX_ERROR_BODY of) an error response and resolves with the error it describes. */
export function readErrorResponse(res: IncomingMessage, status: number): Promise<S3ResponseError> {
  const requestId = typeof res.headers['x-amz-request-id'] === 'string' ? res.headers['x-amz-request-id'] : undefined;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (): void => resolve(s3ErrorFrom(status, Buffer.concat(chunks).toString('utf8'), requestId));
    res.on('data', (c: Buffer) => {
      if (size < MAX_ERROR_BODY) { chunks.push(c); size += c.length; }
    });
    res.on('end', finish);
    // a connection cut while reading the error: the status still says what happened
    res.on('error', finish);
    res.on('aborted', finish);
  });
}
