/** SFTPv3 wire constants (draft-ietf-secsh-filexfer-02) and this server's limits. */

export const SFTP_VERSION = 3;

export const PKT = {
  INIT: 1,
  VERSION: 2,
  OPEN: 3,
  CLOSE: 4,
  READ: 5,
  WRITE: 6,
  LSTAT: 7,
  FSTAT: 8,
  SETSTAT: 9,
  FSETSTAT: 10,
  OPENDIR: 11,
  READDIR: 12,
  REMOVE: 13,
  MKDIR: 14,
  RMDIR: 15,
  REALPATH: 16,
  STAT: 17,
  RENAME: 18,
  READLINK: 19,
  SYMLINK: 20,
  STATUS: 101,
  HANDLE: 102,
  DATA: 103,
  NAME: 104,
  ATTRS: 105,
  EXTENDED: 200,
  EXTENDED_REPLY: 201,
} as const;

export const PFLAG = {
  READ: 0x01,
  WRITE: 0x02,
  APPEND: 0x04,
  CREAT: 0x08,
  TRUNC: 0x10,
  EXCL: 0x20,
} as const;

export const ATTR = {
  SIZE: 0x01,
  UIDGID: 0x02,
  PERMISSIONS: 0x04,
  ACMODTIME: 0x08,
  EXTENDED: 0x80000000,
} as const;

/** OpenSSH clients refuse packets over 256 KiB (SFTP_MAX_MSG_LENGTH). */
export const OPENSSH_MAX_MSG = 256 * 1024;
/** What we accept: a 255 KiB WRITE plus its header and a 256-byte handle fit easily. */
export const DEFAULT_MAX_PACKET_LENGTH = OPENSSH_MAX_MSG + 1024;
/** limits@openssh.com read/write lengths: OpenSSH uses min(limit, 256 KiB - 1024). */
export const MAX_READ_LENGTH = OPENSSH_MAX_MSG - 1024;
export const MAX_WRITE_LENGTH = OPENSSH_MAX_MSG - 1024;
export const DEFAULT_MAX_OPEN_HANDLES = 1024;
export const DEFAULT_MAX_INFLIGHT_READ_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_PENDING_WRITE_BYTES = 8 * 1024 * 1024;
/** Replies queued in the channel (ssh2's high-water mark is 2 MiB) below which a blocked session takes requests again. */
export const OUTBOUND_RESUME_BYTES = 1024 * 1024;
/** Requests being served at once (OpenSSH keeps 64 outstanding by default). */
export const MAX_INFLIGHT_REQUESTS = 256;
/** Entries per READDIR reply (SFTPGo/pkg/sftp sends at most 250 at a time too). */
export const READDIR_BATCH = 128;
/** DATA header: uint32 length, byte type, uint32 id, uint32 data length. */
export const DATA_HEADER_LEN = 13;

/** SSH_FXP_VERSION extension pairs, names and versions as OpenSSH's PROTOCOL file lists them. */
export const CHECK_FILE_ALGOS = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;
export type CheckFileAlgo = (typeof CHECK_FILE_ALGOS)[number];

export const VERSION_EXTENSIONS: ReadonlyArray<readonly [string, string]> = [
  ['posix-rename@openssh.com', '1'],
  ['statvfs@openssh.com', '2'],
  ['fstatvfs@openssh.com', '2'],
  ['hardlink@openssh.com', '1'],
  ['fsync@openssh.com', '1'],
  ['limits@openssh.com', '1'],
  ['expand-path@openssh.com', '1'],
  ['copy-data', '1'],
  ['home-directory', '1'],
  ['users-groups-by-id@openssh.com', '1'],
  // draft-ietf-secsh-filexfer-09 §9.1.2: the data is the list of hash algorithms
  // we can compute (paramiko and other clients read it that way).
  ['check-file', CHECK_FILE_ALGOS.join(',')],
];
