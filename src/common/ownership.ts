/**
 * uid/gid mapping (SFTPGo SetPathPermissions): when a user has `uid`/`gid`,
 * what the server creates for them (home and folder roots, directories,
 * uploaded files, rename and copy targets) is given to that system account,
 * so a server running as root serves each user as their own account on disk.
 * 0 means "not set" (files stay the server's), as in SFTPGo. Only root can
 * do this; validation refuses other ids when not root (dataprovider/ownership.ts).
 */
import type { Fs } from '../vfs/fs';
import type { User } from '../dataprovider/models';
import type { AppLogger } from '../logger/types';
import { FsError } from './errors';

const MAX_ID = 0x7fffffff;

/** SFTPGo GetUID/GetGID: a usable id, or undefined to leave that part unchanged. */
function usableId(v: number | undefined): number | undefined {
  return v !== undefined && Number.isInteger(v) && v > 0 && v <= MAX_ID ? v : undefined;
}

export function mappedOwner(user: User): { uid?: number; gid?: number } | undefined {
  const uid = usableId(user.uid);
  const gid = usableId(user.gid);
  return uid === undefined && gid === undefined ? undefined : { uid, gid };
}

/**
 * Gives `fsPath` to the user's uid/gid. A failure is logged, not raised, as
 * in SFTPGo: the item exists and the operation succeeded; the log says why
 * its owner is wrong.
 */
export async function giveToUser(fs: Fs, fsPath: string, user: User, logger: AppLogger, connectionId: string): Promise<void> {
  const owner = mappedOwner(user);
  if (!owner || !fs.features.chown) return;
  try {
    await fs.setStat(fsPath, owner);
  } catch (e) {
    logger.warn('connection', `cannot give ${fs.fsPath(fsPath)} to uid ${owner.uid ?? '-'} gid ${owner.gid ?? '-'}: ${(e as Error).message}`, { connection_id: connectionId, username: user.username });
  }
}

/** ensureRoot that gives a root it had to create to the user (SFTPGo CheckRootPath). */
export async function ensureRootOwned(fs: Fs, user: User, logger: AppLogger, connectionId: string): Promise<void> {
  let existed = true;
  if (mappedOwner(user)) {
    try {
      await fs.stat('/');
    } catch (e) {
      if (!(e instanceof FsError) || e.kind !== 'NotFound') throw e;
      existed = false;
    }
  }
  await fs.ensureRoot();
  if (!existed) await giveToUser(fs, '/', user, logger, connectionId);
}
