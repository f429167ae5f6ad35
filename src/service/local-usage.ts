/**
 * What `serve --loaddata-scan` measures at start-up, before any service exists: the local disk
 * usage of restored users (home without the folders mounted inside it, plus local folders counted
 * in the user's quota) and folders. Users and folders on other backends are scanned through the
 * API's quota scans (httpd/quotascan.ts), which walk any backend through the VFS.
 */
import { lstat, opendir } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { FsError } from '../common/errors';
import type { FilesystemConfig, User } from '../dataprovider/models';

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

/**
 * What a user's quota counts on disk: the home without the folders mounted
 * inside it, plus the local folders included in the user's quota
 * (quota_size -1). Shared by API scans and `serve --loaddata-scan`.
 */
export async function measureUserUsage(user: User, shouldStop: () => boolean = () => false): Promise<{ size: number; files: number }> {
  const home = resolve(user.home_dir);
  const included = (user.virtual_folders ?? []).filter((f) => f.quota_size === -1 && isLocal(f.filesystem));
  const nested = (user.virtual_folders ?? []).map((f) => resolve(f.mapped_path)).filter((p) => p !== home && within(p, home));
  const total = await dirUsage(home, nested, shouldStop);
  for (const f of included) {
    const u = await dirUsage(f.mapped_path, [], shouldStop);
    total.size += u.size;
    total.files += u.files;
  }
  return total;
}
