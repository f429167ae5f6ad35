/**
 * Rules every backend shares: where an atomic upload is written before the rename
 * (SFTPGo's `.sftpgo-upload.<xid>.<name>` beside the target), how a backend that
 * cannot change attributes answers a SETSTAT (nothing asked: fine; anything asked:
 * unsupported, which setstat_mode then decides on), and what a streamed upload
 * reports of itself before it is a file.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { FsError } from '../common/errors';
import type { FileInfo, SetStatAttrs } from './fs';
import { S_IFREG } from './fs';

export function atomicUploadPath(p: string): string {
  const dir = path.posix.dirname(p);
  const name = `.sftpgo-upload.${randomBytes(8).toString('hex')}.${path.posix.basename(p)}`;
  return dir === '/' ? '/' + name : `${dir}/${name}`;
}

/** Where a GCS resume uploads the new bytes before composing them onto the object: SFTPGo's `.sftpgo-partial.<xid>.<name>`. */
export function partialObjectPath(p: string): string {
  const dir = path.posix.dirname(p);
  const name = `.sftpgo-partial.${randomBytes(8).toString('hex')}.${path.posix.basename(p)}`;
  return dir === '/' ? '/' + name : `${dir}/${name}`;
}

export function refuseSetStat(attrs: SetStatAttrs, backend: string): Promise<void> {
  const asked = Object.values(attrs).some((v) => v !== undefined);
  return asked ? Promise.reject(new FsError('Unsupported', `changing file attributes is not supported on ${backend}`)) : Promise.resolve();
}

/** The FSTAT of a streamed upload (object stores, HTTPFs): what was written so far. */
export function uploadingInfo(name: string, written: number, started: Date): FileInfo {
  return {
    name, size: written, mode: S_IFREG | 0o644, mtime: started, atime: started,
    uid: 0, gid: 0, isDirectory: false, isFile: true, isSymlink: false,
  };
}
