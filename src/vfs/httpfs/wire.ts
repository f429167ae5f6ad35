/**
 * HTTPFs wire values, which are Go's: a FileInfo's `mode` is a Go
 * fs.FileMode (type bits high: directory 1<<31, symlink 1<<27...; the
 * permission bits low), `flags` are Go's os.O_* values on Linux, times
 * are RFC 3339.
 */
import { FsError } from '../../common/errors';
import type { FileInfo, OpenWriteOptions } from '../fs';
import { S_IFDIR, S_IFLNK, S_IFREG } from '../fs';

// Go fs.FileMode bits (above 2^31 JavaScript's bitwise operators would sign them: tested with division)
const GO_DIR = 2 ** 31;
const GO_SYMLINK = 2 ** 27;
const GO_SETUID = 2 ** 23;
const GO_SETGID = 2 ** 22;
const GO_STICKY = 2 ** 20;
/** ModeDir | ModeSymlink | ModeNamedPipe | ModeSocket | ModeDevice | ModeCharDevice | ModeIrregular (the spec's 2401763328) */
const GO_TYPE_BITS = [2 ** 31, 2 ** 27, 2 ** 25, 2 ** 24, 2 ** 26, 2 ** 21, 2 ** 19];

const hasBit = (mode: number, bit: number): boolean => Math.floor(mode / bit) % 2 === 1;

// Go os.O_* on Linux
const O_WRONLY = 0x1;
const O_CREATE = 0x40;
const O_EXCL = 0x80;
const O_TRUNC = 0x200;
const O_APPEND = 0x400;

export function goOpenFlags(o: OpenWriteOptions): number {
  return O_WRONLY | O_CREATE | (o.truncate ? O_TRUNC : 0) | (o.exclusive ? O_EXCL : 0) | (o.append ? O_APPEND : 0);
}

/** POSIX permission bits (with setuid/setgid/sticky) as a Go FileMode. */
export function goFileMode(posix: number): number {
  return (posix & 0o777) + ((posix & 0o4000) ? GO_SETUID : 0) + ((posix & 0o2000) ? GO_SETGID : 0) + ((posix & 0o1000) ? GO_STICKY : 0);
}

/** SFTPGo formats times to the second (time.RFC3339). */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A FileInfo from the service's JSON; `name` overrides the answer's (stat of "/" names the root "/"). */
export function fileInfoOf(v: unknown, name?: string): FileInfo {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FsError('Generic', 'httpfs: a file info is not a JSON object');
  const o = v as Record<string, unknown>;
  const goMode = typeof o.mode === 'number' && Number.isSafeInteger(o.mode) && o.mode >= 0 ? o.mode : 0;
  const size = typeof o.size === 'number' && Number.isFinite(o.size) && o.size >= 0 ? o.size : 0;
  const parsed = typeof o.last_modified === 'string' ? new Date(o.last_modified) : new Date(0);
  const mtime = Number.isNaN(parsed.getTime()) ? new Date(0) : parsed;
  const isDirectory = hasBit(goMode, GO_DIR);
  const isSymlink = hasBit(goMode, GO_SYMLINK);
  const isFile = !GO_TYPE_BITS.some((b) => hasBit(goMode, b));
  const type = isDirectory ? S_IFDIR : isSymlink ? S_IFLNK : isFile ? S_IFREG : 0;
  const special = (hasBit(goMode, GO_SETUID) ? 0o4000 : 0) | (hasBit(goMode, GO_SETGID) ? 0o2000 : 0) | (hasBit(goMode, GO_STICKY) ? 0o1000 : 0);
  return {
    name: name ?? (typeof o.name === 'string' ? o.name : ''),
    size,
    mode: type | special | (goMode % 512),
    mtime, atime: mtime, uid: 0, gid: 0, isDirectory, isFile, isSymlink,
  };
}
