/**
 * The one table mapping kinded errors to HTTP status codes, plus the API
 * error body SFTPGo uses: `{"error": "...", "message": "..."}`.
 */
import { STATUS_CODES } from 'node:http';
import { FsError, type ErrorKind } from '../common/errors';
import { isValidationError } from '../dataprovider/validation';

export const FS_ERROR_STATUS: Record<ErrorKind, number> = {
  NotFound: 404,
  PermissionDenied: 403,
  QuotaExceeded: 413,
  ReadQuotaExceeded: 403,
  Unsupported: 400,
  AlreadyExists: 409,
  NotEmpty: 400,
  InvalidPath: 400,
  IsDirectory: 400,
  NotDirectory: 400,
  Aborted: 500,
  ShuttingDown: 503,
  TooManyConnections: 429,
  Unavailable: 502,
  Generic: 500,
};

/** An error raised by a route with an explicit status (auth, permissions, bad query). */
export class ApiError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = statusCode;
  }
}

export interface ApiErrorBody { error: string; message: string }

export function errorBody(status: number, detail: string): ApiErrorBody {
  return { error: detail || (STATUS_CODES[status] ?? 'error'), message: detail || (STATUS_CODES[status] ?? '') };
}

interface FastifyLikeError { statusCode?: number; validation?: unknown; code?: string; message: string }

/**
 * Maps any thrown value to {status, detail}. Only messages we know are safe
 * to show are returned; anything unexpected becomes a generic 500.
 */
export function classifyError(e: unknown): { status: number; detail: string; internal: boolean } {
  if (e instanceof FsError) {
    const status = FS_ERROR_STATUS[e.kind];
    return { status, detail: e.message, internal: status >= 500 };
  }
  if (e instanceof ApiError) return { status: e.statusCode, detail: e.message, internal: false };
  if (isValidationError(e)) return { status: 400, detail: e.message, internal: false };
  if (e instanceof Error) {
    const fe = e as FastifyLikeError;
    if (fe.validation) {
      // the raw pattern means nothing to API clients
      const msg = fe.message.replace(/must match pattern ".*"$/, 'contains characters that are not allowed');
      return { status: 400, detail: `invalid request: ${msg}`, internal: false };
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      return { status: fe.statusCode, detail: fe.message, internal: false };
    }
  }
  return { status: 500, detail: 'internal server error', internal: true };
}
