/**
 * The logging seam. logger/logger.ts builds it on pino with SFTPGo's JSON
 * fields: `level`, `time` (YYYY-MM-DDTHH:MM:SS.mmm, local or UTC), `sender`,
 * `message`, optional `connection_id`. Never pass a password, hash or key.
 */
export type LogFields = Record<string, string | number | boolean | null | undefined | string[]>;

export interface AppLogger {
  debug(sender: string, message: string, fields?: LogFields): void;
  info(sender: string, message: string, fields?: LogFields): void;
  warn(sender: string, message: string, fields?: LogFields): void;
  error(sender: string, message: string, fields?: LogFields): void;
  isDebugEnabled(): boolean;

  /** sender Upload|Download */
  transfer(entry: TransferLogEntry): void;
  /** sender Rename|Rmdir|Mkdir|Symlink|Remove|Chmod|Chown|Chtimes|Truncate|Copy|SSHCommand */
  command(entry: CommandLogEntry): void;
  /** sender connection_failed (debug level, matched by fail2ban) */
  connectionFailed(entry: { clientIp: string; username: string; loginType: string; protocol: string; error: string }): void;
  /** sender login (info) */
  login(entry: { ip: string; username: string; method: string; protocol: string; connectionId: string; client: string; encrypted: boolean; info?: string }): void;
  /** sender httpd */
  http(fields: LogFields & { resp_status: number }): void;
  /** Reopens the file (SIGUSR1 rotate, SIGHUP). */
  rotate(): void;
  flush(): Promise<void>;
}

export interface TransferLogEntry {
  sender: 'Upload' | 'Download';
  localAddr: string;
  remoteAddr: string;
  elapsedMs: number;
  sizeBytes: number;
  username: string;
  filePath: string;
  virtualPath: string;
  connectionId: string;
  protocol: string;
  ftpMode?: string;
  error?: string;
}

export interface CommandLogEntry {
  sender: string;
  localAddr: string;
  remoteAddr: string;
  username: string;
  filePath: string;
  targetPath?: string;
  virtualPath: string;
  virtualTargetPath?: string;
  fileMode?: number;
  uid?: number;
  gid?: number;
  atime?: string;
  mtime?: string;
  size?: number;
  elapsedMs: number;
  sshCommand?: string;
  connectionId: string;
  protocol: string;
  error?: string;
}
