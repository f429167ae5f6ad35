/**
 * When a backend failure means the storage is unavailable (FsError kind
 * 'Unavailable', which every protocol maps in its one table: SFTP failure
 * with a message, FTP 451, WebDAV and the REST API 502): the request never
 * reached the service (refused, reset, unresolvable, timed out) or the
 * service answered a server error (5xx). The backends' error mappers (s3,
 * azblob, gcs, sftpfs) ask here, so the rule is the same for all of them.
 */

/** Node's network errno codes and the SDKs' own names for a request that did not get through. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  'EPIPE', 'REQUEST_SEND_ERROR', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT',
]);
const TIMEOUT_NAMES = new Set(['TimeoutError', 'AbortError', 'RequestTimeout']);
/** causes followed at most (SDK errors wrap the socket error once or twice) */
const MAX_CAUSE_DEPTH = 4;

interface ErrorShape { name?: unknown; code?: unknown; cause?: unknown; errors?: unknown }

/** The request did not reach the service or never got an answer, in the error or one of its causes. */
export function isUnreachable(e: unknown): boolean {
  let cur: unknown = e;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && typeof cur === 'object' && cur !== null; depth++) {
    const err = cur as ErrorShape;
    if (typeof err.code === 'string' && UNREACHABLE_CODES.has(err.code)) return true;
    if (typeof err.name === 'string' && TIMEOUT_NAMES.has(err.name)) return true;
    // Node's connect to "localhost" tries each address: an AggregateError of the refusals
    if (Array.isArray(err.errors) && err.errors.some((x) => isUnreachable(x))) return true;
    cur = err.cause;
  }
  return false;
}

/** A failure of the service itself (HTTP 5xx): the storage is there but cannot serve now. */
export function isServerError(status: number | undefined): boolean {
  return status !== undefined && status >= 500 && status <= 599;
}
