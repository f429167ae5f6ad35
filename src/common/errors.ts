/**
 * Errors are values with a kind. `common` and `vfs` only ever throw FsError;
 * each protocol adapter maps the kind to its own status code in one table
 * (sftpd/status.ts, ftpd/replies.ts, webdavd/status.ts, httpd/errors.ts).
 */
export type ErrorKind =
  | 'NotFound'
  | 'PermissionDenied'
  | 'QuotaExceeded'
  | 'ReadQuotaExceeded'
  | 'Unsupported'
  | 'AlreadyExists'
  | 'NotEmpty'
  | 'InvalidPath'
  | 'IsDirectory'
  | 'NotDirectory'
  | 'Aborted'
  | 'ShuttingDown'
  | 'TooManyConnections'
  /** the storage backend (object store, remote SFTP) could not be reached, timed out or answered a server error */
  | 'Unavailable'
  | 'Generic';

export const ERROR_KINDS: readonly ErrorKind[] = [
  'NotFound', 'PermissionDenied', 'QuotaExceeded', 'ReadQuotaExceeded', 'Unsupported',
  'AlreadyExists', 'NotEmpty', 'InvalidPath', 'IsDirectory', 'NotDirectory', 'Aborted',
  'ShuttingDown', 'TooManyConnections', 'Unavailable', 'Generic',
];

export class FsError extends Error {
  readonly kind: ErrorKind;
  override readonly cause?: unknown;
  constructor(kind: ErrorKind, message?: string, cause?: unknown) {
    super(message ?? defaultMessage(kind));
    this.name = 'FsError';
    this.kind = kind;
    this.cause = cause;
  }
}

function defaultMessage(kind: ErrorKind): string {
  switch (kind) {
    case 'NotFound': return 'no such file or directory';
    case 'PermissionDenied': return 'permission denied';
    case 'QuotaExceeded': return 'denying write due to space limit';
    case 'ReadQuotaExceeded': return 'denying read due to transfer quota limit';
    case 'Unsupported': return 'operation unsupported';
    case 'AlreadyExists': return 'file already exists';
    case 'NotEmpty': return 'directory not empty';
    case 'InvalidPath': return 'invalid path';
    case 'IsDirectory': return 'is a directory';
    case 'NotDirectory': return 'not a directory';
    case 'Aborted': return 'transfer aborted';
    case 'ShuttingDown': return 'the server is shutting down';
    case 'TooManyConnections': return 'too many open connections';
    case 'Unavailable': return 'the storage backend is unavailable';
    default: return 'failure';
  }
}

export const fsErr = (kind: ErrorKind, message?: string, cause?: unknown): FsError =>
  new FsError(kind, message, cause);

export function isFsError(e: unknown, kind?: ErrorKind): e is FsError {
  return e instanceof FsError && (kind === undefined || e.kind === kind);
}

/** Translate a Node.js system error (errno code) into a kinded FsError. */
export function fromNodeError(e: unknown, what?: string): FsError {
  if (e instanceof FsError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const msg = what ? `${what}: ${codeMessage(code)}` : undefined;
  switch (code) {
    case 'ENOENT': return new FsError('NotFound', msg, e);
    case 'EACCES': case 'EPERM': return new FsError('PermissionDenied', msg, e);
    case 'EEXIST': return new FsError('AlreadyExists', msg, e);
    case 'ENOTEMPTY': return new FsError('NotEmpty', msg, e);
    case 'EISDIR': return new FsError('IsDirectory', msg, e);
    case 'ENOTDIR': return new FsError('NotDirectory', msg, e);
    case 'EDQUOT': case 'ENOSPC': return new FsError('QuotaExceeded', msg, e);
    case 'ENOSYS': case 'ENOTSUP': case 'EOPNOTSUPP': case 'EXDEV': return new FsError('Unsupported', msg, e);
    case 'ELOOP': case 'ENAMETOOLONG': case 'EINVAL': return new FsError('InvalidPath', msg, e);
    default: return new FsError('Generic', msg, e);
  }
}

function codeMessage(code: string | undefined): string {
  switch (code) {
    case 'ENOENT': return 'no such file or directory';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EEXIST': return 'file exists';
    case 'ENOTEMPTY': return 'directory not empty';
    default: return code ?? 'failure';
  }
}
