/**
 * Recording test doubles for the logging, metrics and quota seams, plus a
 * default CommonConfig. Tests assert on what was recorded.
 */
import { after } from 'node:test';
import { mkdirSync, mkdtempSync, rmSync, realpathSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CommonConfig } from '../../../src/config/types';
import type { Folder, User } from '../../../src/dataprovider/models';
import type { AppLogger, CommandLogEntry, LogFields, TransferLogEntry } from '../../../src/logger/types';
import type { Metrics } from '../../../src/metrics/types';
import type { QuotaProvider } from '../../../src/common/quota';

export class RecordingLogger implements AppLogger {
  lines: { level: string; sender: string; message: string; fields?: LogFields }[] = [];
  transfers: TransferLogEntry[] = [];
  commands: CommandLogEntry[] = [];
  debug(sender: string, message: string, fields?: LogFields): void { this.lines.push({ level: 'debug', sender, message, fields }); }
  info(sender: string, message: string, fields?: LogFields): void { this.lines.push({ level: 'info', sender, message, fields }); }
  warn(sender: string, message: string, fields?: LogFields): void { this.lines.push({ level: 'warn', sender, message, fields }); }
  error(sender: string, message: string, fields?: LogFields): void { this.lines.push({ level: 'error', sender, message, fields }); }
  isDebugEnabled(): boolean { return true; }
  transfer(entry: TransferLogEntry): void { this.transfers.push(entry); }
  command(entry: CommandLogEntry): void { this.commands.push(entry); }
  connectionFailed(): void { /* not used by common */ }
  login(): void { /* not used by common */ }
  http(): void { /* not used by common */ }
  rotate(): void { /* nothing to reopen */ }
  async flush(): Promise<void> { /* nothing buffered */ }
}

export class RecordingMetrics implements Metrics {
  transfers: { kind: 'upload' | 'download'; bytes: number; failed: boolean }[] = [];
  active = 0;
  readonly contentType = 'text/plain';
  transferCompleted(kind: 'upload' | 'download', bytes: number, failed: boolean): void { this.transfers.push({ kind, bytes, failed }); }
  sshCommand(): void { /* unused */ }
  loginAttempt(): void { /* unused */ }
  loginResult(): void { /* unused */ }
  noAuthTried(): void { /* unused */ }
  activeConnections(delta: number): void { this.active += delta; }
  providerAvailability(): void { /* unused */ }
  httpRequest(): void { /* unused */ }
  async render(): Promise<string> { return ''; }
}

/** In-memory users/folders with the quota methods common calls; records every call. */
export class QuotaRecorder implements QuotaProvider {
  users = new Map<string, User>();
  folders = new Map<string, Folder>();
  calls: { fn: string; name: string; size: number; files: number }[] = [];

  constructor(users: User[] = [], folders: Folder[] = []) {
    for (const u of users) this.users.set(u.username, { ...u });
    for (const f of folders) this.folders.set(f.name, { ...f });
  }
  async getUser(username: string): Promise<User | undefined> { return this.users.get(username); }
  async getFolder(name: string): Promise<Folder | undefined> { return this.folders.get(name); }
  async updateUserQuota(username: string, sizeDelta: number, filesDelta: number): Promise<void> {
    this.calls.push({ fn: 'user', name: username, size: sizeDelta, files: filesDelta });
    const u = this.users.get(username);
    if (u) { u.used_quota_size = (u.used_quota_size ?? 0) + sizeDelta; u.used_quota_files = (u.used_quota_files ?? 0) + filesDelta; }
  }
  async updateFolderQuota(name: string, sizeDelta: number, filesDelta: number): Promise<void> {
    this.calls.push({ fn: 'folder', name, size: sizeDelta, files: filesDelta });
    const f = this.folders.get(name);
    if (f) { f.used_quota_size = (f.used_quota_size ?? 0) + sizeDelta; f.used_quota_files = (f.used_quota_files ?? 0) + filesDelta; }
  }
  async updateUserTransferQuota(username: string, up: number, down: number): Promise<void> {
    this.calls.push({ fn: 'transfer', name: username, size: up, files: down });
    const u = this.users.get(username);
    if (u) {
      u.used_upload_data_transfer = (u.used_upload_data_transfer ?? 0) + up;
      u.used_download_data_transfer = (u.used_download_data_transfer ?? 0) + down;
    }
  }
  async updateUserTransferTimestamps(username: string, isUpload: boolean): Promise<void> {
    this.calls.push({ fn: isUpload ? 'first_upload' : 'first_download', name: username, size: 0, files: 0 });
  }
}

export function commonConfig(over: Partial<CommonConfig> = {}): CommonConfig {
  return {
    idle_timeout: 15, workers: 0, upload_mode: 0, actions: { execute_on: [], execute_sync: [], hook: '' }, setstat_mode: 0,
    rename_mode: 0, symlink_mode: 0, resume_max_size: 0, secret_min_entropy: 80, proxy_protocol: 0, proxy_allowed: [],
    proxy_skipped: [], startup_hook: '', post_connect_hook: '', post_disconnect_hook: '', max_total_connections: 0,
    max_per_host_connections: 20, allowlist_status: 0, allow_self_connections: 0, umask: '', server_version: '', tz: '',
    metadata: { read: 0 },
    defender: {
      enabled: false, driver: 'memory', ban_time: 30, ban_time_increment: 50, threshold: 15, score_invalid: 2, score_valid: 1,
      score_limit_exceeded: 3, score_no_auth: 0, observation_time: 30, entries_soft_limit: 100, entries_hard_limit: 150,
      login_delay: { success: 0, password_failed: 1000 },
    },
    rate_limiters: [], event_manager: { enabled_commands: [] },
    ...over,
  };
}

/** A fresh temp dir (realpath'd: macOS /tmp is a link); remove it with cleanup(). */
export function tempDir(prefix = 'sftpgo-ts-'): { dir: string; cleanup: () => void } {
  const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), prefix)));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** openWrite's request for a plain upload (STOR, PUT): truncate, from offset 0. */
export const PLAIN_UPLOAD = { truncate: true, append: false, exclusive: false, read: false, offset: 0 };

/** For a test file: a temp dir removed after its tests, and a new empty home in it per call. */
export function freshHomes(): () => string {
  const t = tempDir();
  after(() => t.cleanup());
  let n = 0;
  return () => {
    const d = path.join(t.dir, `home${++n}`);
    mkdirSync(d);
    return d;
  };
}

export function makeUser(home: string, over: Partial<User> = {}): User {
  return { status: 1, username: 'u1', home_dir: home, permissions: { '/': ['*'] }, ...over };
}
