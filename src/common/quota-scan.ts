/**
 * Disk usage of a user's home (plus the virtual folders counted in the
 * user's quota) or of a folder, walked on the local disk: the scans after a
 * loaddata and the system commands' quota accounting. Local storage only;
 * symlinks are not followed. The REST API's scans and the event manager's
 * quota resets measure any storage through its backend (backend-usage.ts).
 */
import { lstat, opendir } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { FilesystemConfig, User } from '../dataprovider/models';
import { FsError } from './errors';

/** Local (0) and encrypted local (4) storage can be walked on disk. */
export function isLocal(fs: FilesystemConfig | undefined): boolean {
  return fs === undefined || fs.provider === 0 || fs.provider === 4;
}

const within = (child: string, parent: string): boolean => child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);

/**
 * Size and file count under `root`, not following symlinks and skipping the
 * `exclude` trees (virtual folders mounted inside a home are counted apart).
 * A missing root counts as empty.
 */
export async function dirUsage(root: string, exclude: readonly string[] = [], shouldStop: () => boolean = () => false): Promise<{ size: number; files: number }> {
  let size = 0;
  let files = 0;
  const stack: string[] = [resolve(root)];
  const skip = exclude.map((e) => resolve(e));
  while (stack.length > 0) {
    if (shouldStop()) throw new FsError('Aborted', 'quota scan aborted: the service is stopping');
    const dir = stack.pop() as string;
    let handle;
    try {
      handle = await opendir(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw e;
    }
    for await (const ent of handle) {
      const full = join(dir, ent.name);
      if (ent.isDirectory()) {
        if (!skip.some((s) => s === full)) stack.push(full);
      } else if (ent.isFile()) {
        try {
          size += (await lstat(full)).size;
          files++;
        } catch {
          // removed while scanning: not counted
        }
      }
    }
  }
  return { size, files };
}

/** The usage counted in a user's quota: the home without the folders mounted inside it, plus the folders included in the quota. */
export async function userUsage(user: User, shouldStop: () => boolean = () => false): Promise<{ size: number; files: number }> {
  const home = resolve(user.home_dir);
  const included = (user.virtual_folders ?? []).filter((f) => f.quota_size === -1 && isLocal(f.filesystem));
  // every folder mounted inside the home is excluded from the home walk; the
  // ones counted in the user's quota are then walked on their own
  const nested = (user.virtual_folders ?? []).map((f) => resolve(f.mapped_path)).filter((p) => p !== home && within(p, home));
  const total = await dirUsage(home, nested, shouldStop);
  for (const f of included) {
    const u = await dirUsage(f.mapped_path, [], shouldStop);
    total.size += u.size;
    total.files += u.files;
  }
  return total;
}
