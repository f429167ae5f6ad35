/**
 * Maintenance actions (SFTPGo executeRuleAction): backup (the whole dump to
 * data_provider.backups_path as backup_<Weekday>_<hour>.json, UTC, 0600),
 * user/folder/transfer quota resets of the objects concerned, log rotation,
 * user inactivity.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { folderUsage, userUsage } from '../../common/backend-usage';
import type { FsFactory } from '../../common/fs-factory';
import type { Folder, User } from '../../dataprovider/models';
import type { DataProviderService } from '../../dataprovider/types';
import type { AppLogger } from '../../logger/types';
import type { EventParams } from './params';

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Writes the backup; the params then describe it ({{.FsPath}}, {{.ObjectName}}, {{.FileSize}}), as SFTPGo's setBackupParams. */
export async function runBackup(provider: DataProviderService, backupsDir: string, nowMs: number, params: EventParams): Promise<string> {
  const d = new Date(nowMs);
  const file = path.join(backupsDir, `backup_${WEEKDAYS[d.getUTCDay()]}_${d.getUTCHours()}.json`);
  await mkdir(backupsDir, { recursive: true, mode: 0o700 });
  await writeFile(file, JSON.stringify(await provider.dump()), { mode: 0o600 });
  params.fsPath = file;
  params.objectName = path.basename(file);
  params.objectType = 'backup';
  params.fileSize = (await stat(file)).size;
  return file;
}

export async function resetTransferQuota(provider: DataProviderService, usernames: string[], logger: AppLogger): Promise<void> {
  for (const u of usernames) {
    await provider.updateUserTransferQuota(u, 0, 0, true);
    logger.info('eventmanager', `transfer quota reset for user "${u}"`);
  }
}

const DAY_MS = 24 * 3600_000;

/** SFTPGo User.InactivityDays: whole days since the last login, or since creation when never logged in; 0 when unknown. */
export function inactivityDays(u: User, nowMs: number): number {
  const last = (u.last_login ?? 0) > 0 ? (u.last_login ?? 0) : (u.created_at ?? 0);
  return last > 0 ? Math.floor((nowMs - last) / DAY_MS) : 0;
}

/**
 * SFTPGo executeInactivityCheckForUser: delete past the delete threshold
 * (already disabled users, or no disable threshold), else disable past the
 * disable threshold. As SFTPGo, acting is reported as an error so failure
 * actions can tell someone.
 */
export async function runInactivityCheck(
  provider: DataProviderService, users: User[], cfg: { disable_threshold?: number; delete_threshold?: number }, nowMs: number, logger: AppLogger,
): Promise<void> {
  const disableAfter = cfg.disable_threshold ?? 0;
  const deleteAfter = cfg.delete_threshold ?? 0;
  // reported to provider actions and rules, as SFTPGo's ActionExecutorSystem changes
  const system = { username: '__system__', ip: '', reportSystemChange: true };
  const acted: string[] = [];
  for (const u of users) {
    const days = inactivityDays(u, nowMs);
    if (deleteAfter > 0 && (u.status === 0 || disableAfter === 0) && days > deleteAfter) {
      await provider.deleteUser(u.username, system);
      logger.info('eventmanager', `deleting inactive user "${u.username}", days of inactivity: ${days}/${deleteAfter}`);
      acted.push(`inactive user "${u.username}" deleted. Number of days of inactivity: ${days}`);
      continue;
    }
    if (disableAfter > 0 && u.status !== 0 && days > disableAfter) {
      // an empty password keeps the stored hash
      await provider.updateUser(u.username, { ...u, password: '', status: 0 }, system);
      logger.info('eventmanager', `disabling inactive user "${u.username}", days of inactivity: ${days}/${disableAfter}`);
      acted.push(`inactive user "${u.username}" disabled. Number of days of inactivity: ${days}`);
    }
  }
  if (acted.length > 0) throw new Error(acted.join(', '));
}

/**
 * SFTPGo's user quota reset: a scan of the home (and included folders)
 * through the storage backends, stored with reset semantics; a failed scan
 * leaves the stored usage alone and fails the action naming the user.
 */
export async function resetUserQuota(provider: DataProviderService, filesystems: FsFactory, users: User[], logger: AppLogger): Promise<void> {
  const failed: string[] = [];
  const log = (m: string): void => logger.info('eventmanager', `quota reset: ${m}`);
  for (const u of users) {
    let usage;
    try {
      usage = await userUsage(filesystems, u, () => false, log);
    } catch (e) {
      logger.error('eventmanager', `error scanning quota for user "${u.username}": ${e instanceof Error ? e.message : String(e)}`);
      failed.push(u.username);
      continue;
    }
    await provider.updateUserQuota(u.username, usage.size, usage.files, true);
    logger.info('eventmanager', `quota reset for user "${u.username}": ${usage.files} files, ${usage.size} bytes`);
  }
  if (failed.length > 0) throw new Error(`quota reset failed for users: ${failed.join(', ')}`);
}

export async function resetFolderQuota(provider: DataProviderService, filesystems: FsFactory, folders: Folder[], logger: AppLogger): Promise<void> {
  const failed: string[] = [];
  const log = (m: string): void => logger.info('eventmanager', `quota reset: ${m}`);
  for (const f of folders) {
    let usage;
    try {
      usage = await folderUsage(filesystems, f, () => false, log);
    } catch (e) {
      logger.error('eventmanager', `error scanning quota for folder "${f.name}": ${e instanceof Error ? e.message : String(e)}`);
      failed.push(f.name);
      continue;
    }
    await provider.updateFolderQuota(f.name, usage.size, usage.files, true);
    logger.info('eventmanager', `quota reset for folder "${f.name}": ${usage.files} files, ${usage.size} bytes`);
  }
  if (failed.length > 0) throw new Error(`quota reset failed for folders: ${failed.join(', ')}`);
}
