/**
 * The one table that maps FsError kinds to SFTP status codes and the message
 * the client sees. Messages are fixed per kind (never the error's own text,
 * which may carry real filesystem paths); quota messages match SFTPGo's
 * (`failure: <ErrQuotaExceeded>` as pkg/sftp renders a wrapped ErrSSHFxFailure).
 */
import { isFsError, type ErrorKind } from '../common/errors';

export const SFTP_STATUS = {
  OK: 0,
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  NO_CONNECTION: 6,
  CONNECTION_LOST: 7,
  OP_UNSUPPORTED: 8,
} as const;

export type SftpStatusCode = (typeof SFTP_STATUS)[keyof typeof SFTP_STATUS];

export interface SftpStatus {
  code: SftpStatusCode;
  message: string;
}

export const SFTP_STATUS_BY_KIND: Readonly<Record<ErrorKind, SftpStatus>> = {
  NotFound: { code: SFTP_STATUS.NO_SUCH_FILE, message: 'no such file' },
  PermissionDenied: { code: SFTP_STATUS.PERMISSION_DENIED, message: 'permission denied' },
  QuotaExceeded: { code: SFTP_STATUS.FAILURE, message: 'failure: denying write due to space limit' },
  ReadQuotaExceeded: { code: SFTP_STATUS.FAILURE, message: 'failure: denying read due to transfer quota limit' },
  Unsupported: { code: SFTP_STATUS.OP_UNSUPPORTED, message: 'operation unsupported' },
  AlreadyExists: { code: SFTP_STATUS.FAILURE, message: 'failure: file already exists' },
  NotEmpty: { code: SFTP_STATUS.FAILURE, message: 'failure: directory not empty' },
  InvalidPath: { code: SFTP_STATUS.FAILURE, message: 'failure: invalid path' },
  IsDirectory: { code: SFTP_STATUS.FAILURE, message: 'failure: is a directory' },
  NotDirectory: { code: SFTP_STATUS.FAILURE, message: 'failure: not a directory' },
  Aborted: { code: SFTP_STATUS.FAILURE, message: 'failure: transfer aborted' },
  ShuttingDown: { code: SFTP_STATUS.FAILURE, message: 'failure: the server is shutting down' },
  TooManyConnections: { code: SFTP_STATUS.FAILURE, message: 'failure: too many open connections' },
  Unavailable: { code: SFTP_STATUS.FAILURE, message: 'failure: the storage backend is unavailable' },
  Generic: { code: SFTP_STATUS.FAILURE, message: 'failure' },
};

/** Status for anything thrown by FileOps; non-FsErrors are generic failures. */
export function sftpStatusFor(err: unknown): SftpStatus {
  if (isFsError(err)) return SFTP_STATUS_BY_KIND[err.kind] ?? SFTP_STATUS_BY_KIND.Generic;
  return SFTP_STATUS_BY_KIND.Generic;
}
