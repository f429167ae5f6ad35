/**
 * The one table that maps a kinded FsError to an FTP reply (RFC 959 codes).
 * Messages are fixed per kind: an FsError's own message may carry backend
 * paths, and whatever we put after the code reaches the client verbatim.
 */
import { ERROR_KINDS, isFsError, type ErrorKind } from '../common/errors';

export interface FtpReply { code: number; message: string }

export const ERROR_REPLIES: Readonly<Record<ErrorKind, FtpReply>> = {
  NotFound: { code: 550, message: 'no such file or directory' },
  PermissionDenied: { code: 550, message: 'permission denied' },
  // 552: "exceeded storage allocation" — what SFTPGo/ftpserverlib answer for quota
  QuotaExceeded: { code: 552, message: 'denying write due to space limit' },
  ReadQuotaExceeded: { code: 550, message: 'denying read due to transfer quota limit' },
  // the command exists, the backend cannot do it for this parameter
  Unsupported: { code: 504, message: 'operation unsupported' },
  AlreadyExists: { code: 550, message: 'file already exists' },
  NotEmpty: { code: 550, message: 'directory not empty' },
  // 553: "file name not allowed"
  InvalidPath: { code: 553, message: 'invalid path' },
  IsDirectory: { code: 550, message: 'is a directory' },
  NotDirectory: { code: 550, message: 'not a directory' },
  Aborted: { code: 426, message: 'transfer aborted' },
  ShuttingDown: { code: 421, message: 'the server is shutting down' },
  TooManyConnections: { code: 421, message: 'too many open connections' },
  // 451 "local error in processing": transient, the client may try again
  Unavailable: { code: 451, message: 'the storage backend is unavailable' },
  // 451: "local error in processing"
  Generic: { code: 451, message: 'local error in processing' },
};

export function kindOf(e: unknown): ErrorKind {
  return isFsError(e) ? e.kind : 'Generic';
}

/** The reply for an error, prefixed with what the client asked ("Could not delete file"). */
export function errorReply(e: unknown, prefix?: string): FtpReply {
  const r = ERROR_REPLIES[kindOf(e)];
  return { code: r.code, message: prefix ? `${prefix}: ${r.message}` : r.message };
}

/** Every kind has a reply (checked by the unit test, kept here so the table cannot drift). */
export function unmappedKinds(): ErrorKind[] {
  return ERROR_KINDS.filter((k) => ERROR_REPLIES[k] === undefined);
}
