/**
 * The one table mapping kinded FsErrors to WebDAV answers.
 *
 * webdav-server maps errors to HTTP codes *by identity* with its own
 * `Errors.*` singletons (anything else becomes 500), so each kind names both
 * the HTTP status our own handlers (GET, HEAD, PUT, auth) send and the library
 * singleton handed back from FileSystem callbacks. The unit test checks that
 * the library maps each singleton to the same status. Kinds without a library
 * singleton of the right status (`davError: undefined`) reach the client as
 * 500 when they surface inside a library-driven method (PROPFIND, MOVE...).
 */
import { v2 } from 'webdav-server';
import { FsError, isFsError, type ErrorKind } from '../common/errors';

/**
 * The library has no singleton for a failing upstream; this one is added to
 * its status table (HTTPRequestContext.defaultErrorStatusCodes, the list it
 * maps errors with) once, so a backend that is down answers 502 from
 * library-driven methods as well as from our own handlers.
 */
const BACKEND_UNAVAILABLE = new Error('the storage backend is unavailable');
const BAD_GATEWAY = 502;
abstract class LibraryStatusTable extends v2.HTTPRequestContext {
  /** the list is a protected static of the library's class: a subclass reaches the same array */
  static add(error: Error, code: number): void {
    const table = v2.HTTPRequestContext.defaultErrorStatusCodes;
    if (!table.some((c) => c.error === error)) table.push({ error, code });
  }
}
LibraryStatusTable.add(BACKEND_UNAVAILABLE, BAD_GATEWAY);

export interface DavStatus {
  status: number;
  davError: Error | undefined;
}

export const DAV_STATUS: Readonly<Record<ErrorKind, DavStatus>> = {
  NotFound: { status: 404, davError: v2.Errors.ResourceNotFound },
  // 403, never 401: a 401 makes clients prompt for credentials again.
  PermissionDenied: { status: 403, davError: v2.Errors.Forbidden },
  QuotaExceeded: { status: 507, davError: v2.Errors.InsufficientStorage },
  ReadQuotaExceeded: { status: 403, davError: v2.Errors.Forbidden },
  Unsupported: { status: 403, davError: v2.Errors.Forbidden },
  AlreadyExists: { status: 409, davError: v2.Errors.ResourceAlreadyExists },
  // the library only branches on ResourceAlreadyExists/IntermediateResourceMissing;
  // WrongParentTypeForCreation is a neutral 409.
  NotEmpty: { status: 409, davError: v2.Errors.WrongParentTypeForCreation },
  InvalidPath: { status: 403, davError: v2.Errors.IllegalArguments },
  IsDirectory: { status: 409, davError: v2.Errors.WrongParentTypeForCreation },
  NotDirectory: { status: 409, davError: v2.Errors.IntermediateResourceMissing },
  Aborted: { status: 500, davError: undefined },
  ShuttingDown: { status: 503, davError: undefined },
  TooManyConnections: { status: 503, davError: undefined },
  Unavailable: { status: BAD_GATEWAY, davError: BACKEND_UNAVAILABLE },
  Generic: { status: 500, davError: undefined },
};

/** HTTP status for any thrown value (non-FsError → 500). */
export function httpStatusOf(e: unknown): number {
  return isFsError(e) ? DAV_STATUS[e.kind].status : 500;
}

/** The library error to pass to a webdav-server callback. */
export function toDavError(e: unknown): Error {
  if (isFsError(e)) return DAV_STATUS[e.kind].davError ?? e;
  return e instanceof Error ? e : new FsError('Generic', String(e));
}
