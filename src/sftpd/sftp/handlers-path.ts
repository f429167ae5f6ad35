/**
 * Path-based requests: LSTAT, STAT, SETSTAT, REMOVE, MKDIR, RMDIR, REALPATH,
 * RENAME, READLINK, SYMLINK. Paths are cleaned against the start directory;
 * FileOps applies permissions and the jail.
 */
import { vdir } from '../../common/vpath';
import { SFTP_STATUS } from '../status';
import { PKT } from './constants';
import { attrsPacket, toSetStat } from './handlers-file';
import { namePacket, readAttrs, statusPacket } from './packet';
import type { RequestHandler } from './session';

const ok = (id: number): Buffer => statusPacket(id, SFTP_STATUS.OK, 'Success');

/** A NAME reply with one path and empty attrs (REALPATH, READLINK, expand-path, home-directory). */
export function singleName(id: number, p: string): Buffer {
  return namePacket(id, [{ filename: p, longname: p }]);
}

const lstat: RequestHandler = async (s, id, r) => attrsPacket(id, await s.ops.lstat(s.resolve(r.string())));

const stat: RequestHandler = async (s, id, r) => attrsPacket(id, await s.ops.stat(s.resolve(r.string())));

const setstat: RequestHandler = async (s, id, r) => {
  const vpath = s.resolve(r.string());
  const attrs = toSetStat(readAttrs(r));
  if (Object.keys(attrs).length > 0) await s.ops.setStat(vpath, attrs);
  return ok(id);
};

const remove: RequestHandler = async (s, id, r) => {
  await s.ops.removeFile(s.resolve(r.string()));
  return ok(id);
};

const mkdir: RequestHandler = async (s, id, r) => {
  const vpath = s.resolve(r.string());
  // the requested mode is ignored, as SFTPGo does: new dirs follow the server's umask
  readAttrs(r);
  await s.ops.mkdir(vpath);
  return ok(id);
};

const rmdir: RequestHandler = async (s, id, r) => {
  await s.ops.removeDir(s.resolve(r.string()));
  return ok(id);
};

const realpath: RequestHandler = async (s, id, r) => {
  // v3 has only the path; "" and "." are the start directory
  return singleName(id, s.resolve(r.string()));
};

const rename: RequestHandler = async (s, id, r) => {
  const from = s.resolve(r.string());
  const to = s.resolve(r.string());
  await s.ops.rename(from, to);
  return ok(id);
};

const readlink: RequestHandler = async (s, id, r) => {
  return singleName(id, await s.ops.readlink(s.resolve(r.string())));
};

/**
 * OpenSSH sends SYMLINK as (targetpath, linkpath), the reverse of the draft,
 * and every common client follows it; pkg/sftp (SFTPGo) reads it that way too.
 * A relative target is resolved against the link's directory.
 */
const symlink: RequestHandler = async (s, id, r) => {
  const target = r.string();
  const link = s.resolve(r.string());
  await s.ops.symlink(s.ops.cleanPath(target, vdir(link)), link);
  return ok(id);
};

export const PATH_HANDLERS: Record<number, RequestHandler> = {
  [PKT.LSTAT]: lstat,
  [PKT.STAT]: stat,
  [PKT.SETSTAT]: setstat,
  [PKT.REMOVE]: remove,
  [PKT.MKDIR]: mkdir,
  [PKT.RMDIR]: rmdir,
  [PKT.REALPATH]: realpath,
  [PKT.RENAME]: rename,
  [PKT.READLINK]: readlink,
  [PKT.SYMLINK]: symlink,
};
