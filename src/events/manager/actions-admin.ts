/**
 * Maintenance actions (SFTPGo executeRuleAction): backup (the whole dump to
 * data_provider.backups_path as backup_<Weekday>_<hour>.json, UTC, 0600),
 * transfer quota reset of the users concerned, log rotation.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
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
