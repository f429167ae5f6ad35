/**
 * The rules for SSH commands that run a system program on the user's files
 * (git-receive-pack, git-upload-pack, git-upload-archive, rsync), as SFTPGo
 * applied them before it removed them: local backend only, no virtual folders
 * or file-pattern filters under the path, download+upload+create_dirs+list+
 * overwrite+delete on the path and everything below it, quota checked before
 * and reconciled after by scanning the touched tree. On top of SFTPGo, the path
 * is jailed: resolved with realpath inside realpath(root), symlinks leading
 * out refused. The adapter (sftpd) only runs the program inside this scope.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Permission, User } from '../dataprovider/models';
import { FsError } from './errors';
import type { MountTable } from './mounts';
import { mappedOwner } from './ownership';
import { hasPerm, hasPerms } from './permissions';
import type { QuotaService, TransferQuota } from './quota';
import { dirUsage } from './quota-scan';
import { isSameOrInside } from './vpath';

export const SYSTEM_COMMANDS = ['git-receive-pack', 'git-upload-pack', 'git-upload-archive', 'rsync'] as const;

/** SFTPGo asked for all of these, on the path and recursively below it, whatever the direction. */
const REQUIRED_PERMS: readonly Permission[] = ['download', 'upload', 'create_dirs', 'list', 'overwrite', 'delete'];

export interface SystemCommandScope {
  vpath: string;
  /** realpath of the backend root: the program's cwd and the jail */
  root: string;
  /** absolute local path of `vpath`, inside `root` (may not exist yet) */
  fsPath: string;
  /** bytes the client may still upload, 0 = unlimited (disk quota) */
  remainingQuota: number;
  transfer: TransferQuota;
  canCreateSymlinks: boolean;
  /** the user's uid/gid to run the program as (only honoured when the server runs as root) */
  owner?: { uid?: number; gid?: number };
  /**
   * Rescans the touched tree and adds the difference to the used quota, and the
   * bytes moved to the used data transfer; never throws.
   */
  finish(bytesIn: number, bytesOut: number): Promise<{ files: number; size: number }>;
}

export interface SystemCommandHost {
  readonly user: User;
  readonly mounts: MountTable;
  readonly quota: QuotaService;
}

const unsupported = (why: string): FsError => new FsError('Unsupported', `command unsupported for this configuration: ${why}`);

/** `child` is `parent` or below it, on real local paths. */
export function isWithin(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);
}

/** Perms on `vpath` and on every directory with its own permissions below it (SFTPGo HasRecursivePerms). */
function hasRecursivePerms(user: User, vpath: string): boolean {
  if (!hasPerms(user, REQUIRED_PERMS, vpath)) return false;
  return Object.keys(user.permissions ?? {}).every((dir) => !isSameOrInside(dir, vpath) || hasPerms(user, REQUIRED_PERMS, dir));
}

/** SFTPGo isSystemCommandAllowed: file patterns on, above or below the path refuse the command. */
function checkFilters(host: SystemCommandHost, vpath: string): void {
  if (host.mounts.isMountPoint(vpath)) return;
  if (host.mounts.hasMountsInside(vpath)) throw unsupported(`virtual folders are inside ${vpath}`);
  for (const f of host.user.filters?.file_patterns ?? []) {
    if (isSameOrInside(vpath, f.path) || isSameOrInside(f.path, vpath)) throw unsupported(`file patterns filters apply to ${f.path}`);
  }
}

/**
 * realpath of `p`, or of its deepest existing ancestor joined with the missing
 * names (the cleaned virtual path has no "..": the rest cannot climb).
 */
async function realpathPartial(p: string): Promise<string> {
  const missing: string[] = [];
  let cur = p;
  for (let i = 0; i < 4096; i++) {
    try {
      return path.join(await fsp.realpath(cur), ...missing.reverse());
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new FsError('PermissionDenied', `cannot resolve ${p}`);
      const parent = path.dirname(cur);
      if (parent === cur) break;
      missing.push(path.basename(cur));
      cur = parent;
    }
  }
  throw new FsError('InvalidPath', `cannot resolve ${p}`);
}

export async function prepareSystemCommand(host: SystemCommandHost, vpath: string): Promise<SystemCommandScope> {
  const { user, mounts, quota } = host;
  const resolved = mounts.resolve(vpath);
  // encrypted local (4) stores ciphertext: a program would read and write garbage
  if (resolved.fs.provider !== 0) throw unsupported('the path is not on the local filesystem');
  checkFilters(host, vpath);
  if (!hasRecursivePerms(user, vpath)) throw new FsError('PermissionDenied', 'permission denied');
  let root: string;
  try {
    root = await fsp.realpath(resolved.fs.root);
  } catch {
    throw new FsError('NotFound', 'the home directory does not exist');
  }
  const fsPath = await realpathPartial(path.join(root, ...resolved.fsPath.split('/').filter((s) => s !== '')));
  if (!isWithin(fsPath, root)) throw new FsError('PermissionDenied', `${vpath} leads outside the home directory`);
  // an existing directory is written into: its quota owner is what counts (SFTPGo "fakecontent")
  const isDir = await fsp.stat(fsPath).then((s) => s.isDirectory(), () => false);
  const quotaPath = isDir ? path.posix.join(vpath, 'fakecontent') : vpath;
  const disk = await quota.check(quotaPath, false);
  const transfer = await quota.transferQuota();
  if (!disk.hasSpace || transfer.upload === 0 || transfer.download === 0) throw new FsError('QuotaExceeded', 'denying command: quota exceeded');
  const usage = (): Promise<{ files: number; size: number }> => dirUsage(fsPath).catch(() => ({ files: 0, size: 0 }));
  const before = await usage();
  return {
    vpath, root, fsPath, remainingQuota: disk.remainingSize, transfer,
    canCreateSymlinks: hasPerm(user, 'create_symlinks', vpath),
    owner: mappedOwner(user),
    async finish(bytesIn, bytesOut) {
      const after = await usage();
      const delta = { files: after.files - before.files, size: after.size - before.size };
      await quota.update(quotaPath, delta.files, delta.size);
      if (quota.hasTransferLimits()) await quota.updateTransfer(bytesIn, bytesOut);
      return delta;
    },
  };
}
