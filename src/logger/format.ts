/**
 * SFTPGo-compatible field shapes and time format for JSON log lines.
 * Kept apart from the pino wiring so the shapes can be unit-tested and the
 * rotation code can reuse the timestamp helpers.
 */
import type { CommandLogEntry, LogFields, TransferLogEntry } from './types';

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `YYYY-MM-DDTHH:MM:SS.mmm` without zone, as SFTPGo (zerolog TimeFieldFormat). */
export function formatLogTime(d: Date, utc: boolean): string {
  if (utc) {
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T` +
      `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
  }
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** lumberjack's backup timestamp `2006-01-02T15-04-05.000` (no colons: valid on every filesystem). */
export function formatBackupTime(d: Date, utc: boolean): string {
  return formatLogTime(d, utc).replace(/:/g, '-');
}

export function transferFields(e: TransferLogEntry): LogFields {
  const f: LogFields = {
    sender: e.sender,
    local_addr: e.localAddr,
    remote_addr: e.remoteAddr,
    elapsed_ms: e.elapsedMs,
    size_bytes: e.sizeBytes,
    username: e.username,
    file_path: e.filePath,
    virtual_path: e.virtualPath,
    connection_id: e.connectionId,
    protocol: e.protocol,
  };
  if (e.ftpMode !== undefined) f.ftp_mode = e.ftpMode;
  if (e.error !== undefined) f.error = e.error;
  return f;
}

/** SFTPGo always writes every command field; unused numbers are -1, unused strings empty. */
export function commandFields(e: CommandLogEntry): LogFields {
  const f: LogFields = {
    sender: e.sender,
    local_addr: e.localAddr,
    remote_addr: e.remoteAddr,
    username: e.username,
    file_path: e.filePath,
    target_path: e.targetPath ?? '',
    virtual_path: e.virtualPath,
    virtual_target_path: e.virtualTargetPath ?? '',
    filemode: e.fileMode ?? -1,
    uid: e.uid ?? -1,
    gid: e.gid ?? -1,
    access_time: e.atime ?? '',
    modification_time: e.mtime ?? '',
    size: e.size ?? -1,
    elapsed: e.elapsedMs,
    ssh_command: e.sshCommand ?? '',
    connection_id: e.connectionId,
    protocol: e.protocol,
  };
  if (e.error !== undefined) f.error = e.error;
  return f;
}

/**
 * Field names whose value must never reach a log line. Callers are told not
 * to pass secrets; this is the safety net (pino redact, top level and one
 * level deep).
 */
export const SECRET_FIELD_NAMES = [
  'password', 'passwd', 'pass', 'new_password', 'current_password', 'key', 'private_key',
  'key_passphrase', 'passphrase', 'secret', 'client_secret', 'token', 'access_token',
  'refresh_token', 'api_key', 'authorization', 'master_key', 'signing_passphrase',
];

export function redactPaths(): string[] {
  return [...SECRET_FIELD_NAMES, ...SECRET_FIELD_NAMES.map((n) => `*.${n}`)];
}
