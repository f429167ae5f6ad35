/**
 * `serve --loaddata-from <dump>` with `--loaddata-mode` and `--loaddata-scan`:
 * the dump is restored before any service listens; with a scan mode the
 * restored users (1: all, 2: those with a quota limit) and folders get their
 * used quota recomputed from disk, as SFTPGo's RestoreUsers/RestoreFolders do.
 * SFTPGo scans in the background; here start-up waits for the scans, so the
 * first login already sees the right usage.
 */
import * as fs from 'node:fs';
import type { RuntimeOptions } from '../config/types';
import type { AppLogger } from '../logger/types';
import type { DataProviderService } from '../dataprovider/types';
import type { User } from '../dataprovider/models';
import { dirUsage, isLocal, userUsage as measureUserUsage } from '../common/quota-scan';

const SENDER = 'service';

function dumpFolderNames(dump: unknown): string[] {
  if (typeof dump !== 'object' || dump === null) return [];
  const folders = (dump as { folders?: unknown }).folders;
  if (!Array.isArray(folders)) return [];
  return folders.map((f) => (typeof f === 'object' && f !== null ? (f as { name?: unknown }).name : undefined))
    .filter((n): n is string => typeof n === 'string');
}

const hasQuotaLimit = (u: User): boolean => (u.quota_size ?? 0) > 0 || (u.quota_files ?? 0) > 0;

async function scanRestored(provider: DataProviderService, users: string[], folders: string[], mode: number, logger: AppLogger): Promise<void> {
  for (const name of folders) {
    const folder = await provider.getFolder(name);
    if (!folder || !isLocal(folder.filesystem)) continue;
    const u = await dirUsage(folder.mapped_path);
    await provider.updateFolderQuota(name, u.size, u.files, true);
    logger.info(SENDER, `quota scan for restored folder "${name}" done`, { files: u.files, size: u.size });
  }
  for (const username of users) {
    const user = await provider.getUser(username);
    if (!user || (mode === 2 && !hasQuotaLimit(user))) continue;
    if (!isLocal(user.filesystem)) {
      logger.warn(SENDER, `quota scan for restored user "${username}" skipped: only local storage can be scanned`);
      continue;
    }
    const u = await measureUserUsage(user);
    await provider.updateUserQuota(username, u.size, u.files, true);
    logger.info(SENDER, `quota scan for restored user "${username}" done`, { files: u.files, size: u.size });
  }
}

export async function loadInitialData(provider: DataProviderService, rt: RuntimeOptions, logger: AppLogger): Promise<void> {
  if (rt.loadDataFrom === '') return;
  if (![0, 1, 2].includes(rt.loadDataQuotaScan)) throw new Error(`invalid loaddata-scan ${rt.loadDataQuotaScan}: use 0, 1 or 2`);
  let dump: unknown;
  try {
    dump = JSON.parse(fs.readFileSync(rt.loadDataFrom, 'utf8'));
  } catch (err) {
    throw new Error(`cannot load data from ${rt.loadDataFrom}: ${(err as Error).message}`);
  }
  // mode 1 leaves existing folders untouched, and SFTPGo scans only the folders it restored
  const folderNames: string[] = [];
  for (const name of dumpFolderNames(dump)) {
    if (rt.loadDataMode !== 1 || !(await provider.getFolder(name))) folderNames.push(name);
  }
  const res = await provider.restore(dump, rt.loadDataMode);
  logger.info(SENDER, `data loaded from ${rt.loadDataFrom}`, { mode: rt.loadDataMode, users: res.users.length });
  if (rt.loadDataQuotaScan !== 0) await scanRestored(provider, res.users, folderNames, rt.loadDataQuotaScan, logger);
  if (rt.loadDataClean) {
    try {
      fs.unlinkSync(rt.loadDataFrom);
    } catch (err) {
      logger.warn(SENDER, `cannot remove ${rt.loadDataFrom}: ${(err as Error).message}`);
    }
  }
}
