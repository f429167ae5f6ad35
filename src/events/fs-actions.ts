/**
 * SFTPGo's `common.actions`: a program or URL told about filesystem events,
 * with exactly SFTPGo's environment (notificationAsEnvVars) and JSON body
 * (the SDK's FsEvent, field order and omitempty rules kept). pre-* actions
 * are always synchronous and gate the operation; the others are
 * synchronous when listed in execute_sync, else queued.
 */
import { existsSync } from 'node:fs';
import type { ActionsConfig } from '../config/types';
import { ConfigError } from '../config/errors';
import { FS_ACTIONS, notificationStatus, type FsAction, type FsEventInput } from '../common/events';
import { ipFromAddr } from '../common/throttle';
import { parseHookTarget } from '../hooks/command-config';
import type { HookExecutor } from '../hooks/executor';
import { HookError } from '../hooks/types';

/** The SDK's FsEvent as SFTPGo builds it (newActionNotification). */
export interface FsEventRecord {
  action: string;
  username: string;
  path: string;
  target_path: string;
  virtual_path: string;
  virtual_target_path: string;
  ssh_cmd: string;
  file_size: number;
  fs_provider: number;
  bucket: string;
  endpoint: string;
  status: number;
  protocol: string;
  ip: string;
  session_id: string;
  /** nanoseconds since the epoch, as a decimal string (beyond 2^53) */
  timestamp: string;
  open_flags: number;
  role: string;
  elapsed: number;
}

/** Nanoseconds since the epoch as decimal digits (Go's time.UnixNano). */
export function unixNanos(ms: number): string {
  return (BigInt(Math.trunc(ms)) * 1_000_000n).toString();
}

export function toFsEventRecord(e: FsEventInput, nowMs: number): FsEventRecord {
  const s = e.session;
  return {
    action: e.action, username: s.user.username, path: e.fsPath, target_path: e.fsTargetPath ?? '',
    virtual_path: e.virtualPath, virtual_target_path: e.virtualTargetPath ?? '', ssh_cmd: e.sshCmd ?? '',
    file_size: e.fileSize, fs_provider: e.fsProvider, bucket: '', endpoint: '', status: notificationStatus(e.error),
    protocol: s.protocol, ip: ipFromAddr(s.remoteAddr), session_id: s.id, timestamp: unixNanos(nowMs),
    open_flags: e.openFlags ?? 0, role: s.user.role ?? '', elapsed: e.elapsedMs,
  };
}

/** SFTPGo notificationAsEnvVars, same names and order. */
export function fsEventEnv(r: FsEventRecord): Record<string, string> {
  return {
    SFTPGO_ACTION: r.action,
    SFTPGO_ACTION_USERNAME: r.username,
    SFTPGO_ACTION_PATH: r.path,
    SFTPGO_ACTION_TARGET: r.target_path,
    SFTPGO_ACTION_VIRTUAL_PATH: r.virtual_path,
    SFTPGO_ACTION_VIRTUAL_TARGET: r.virtual_target_path,
    SFTPGO_ACTION_SSH_CMD: r.ssh_cmd,
    SFTPGO_ACTION_FILE_SIZE: String(r.file_size),
    SFTPGO_ACTION_ELAPSED: String(r.elapsed),
    SFTPGO_ACTION_FS_PROVIDER: String(r.fs_provider),
    SFTPGO_ACTION_BUCKET: r.bucket,
    SFTPGO_ACTION_ENDPOINT: r.endpoint,
    SFTPGO_ACTION_STATUS: String(r.status),
    SFTPGO_ACTION_PROTOCOL: r.protocol,
    SFTPGO_ACTION_IP: r.ip,
    SFTPGO_ACTION_SESSION_ID: r.session_id,
    SFTPGO_ACTION_OPEN_FLAGS: String(r.open_flags),
    SFTPGO_ACTION_TIMESTAMP: r.timestamp,
    SFTPGO_ACTION_ROLE: r.role,
  };
}

/** The SDK FsEvent JSON: Go's field order, omitempty fields left out when empty/zero, a trailing newline (json.Encoder). */
export function fsEventJson(r: FsEventRecord): string {
  const parts: string[] = [];
  const add = (k: string, v: string | number, omitEmpty: boolean): void => {
    if (omitEmpty && (v === '' || v === 0)) return;
    parts.push(`${JSON.stringify(k)}:${typeof v === 'number' ? String(v) : JSON.stringify(v)}`);
  };
  add('action', r.action, false);
  add('username', r.username, false);
  add('path', r.path, false);
  add('target_path', r.target_path, true);
  add('virtual_path', r.virtual_path, false);
  add('virtual_target_path', r.virtual_target_path, true);
  add('ssh_cmd', r.ssh_cmd, true);
  add('file_size', r.file_size, true);
  add('fs_provider', r.fs_provider, false);
  add('bucket', r.bucket, true);
  add('endpoint', r.endpoint, true);
  add('status', r.status, false);
  add('protocol', r.protocol, false);
  add('ip', r.ip, false);
  add('session_id', r.session_id, false);
  parts.push(`"timestamp":${r.timestamp}`);
  add('open_flags', r.open_flags, true);
  add('role', r.role, true);
  add('elapsed', r.elapsed, true);
  return `{${parts.join(',')}}\n`;
}

/** Start-up checks (fail closed): known action names, a usable hook when actions are configured. */
export function validateActionsConfig(c: ActionsConfig): void {
  for (const [key, list] of [['execute_on', c.execute_on], ['execute_sync', c.execute_sync]] as const) {
    for (const a of list) {
      if (!(FS_ACTIONS as readonly string[]).includes(a)) {
        throw new ConfigError(`common.actions.${key}: unknown action "${a}", valid actions: ${FS_ACTIONS.join(', ')}`);
      }
    }
  }
  if (c.hook === '') return;
  const t = parseHookTarget(c.hook);
  if (!t) throw new ConfigError(`common.actions.hook: invalid hook "${c.hook}": must be an http(s) URL or an absolute path`);
  if (t.kind === 'program' && !existsSync(t.path)) throw new ConfigError(`common.actions.hook: hook program "${t.path}" does not exist`);
  if (t.kind === 'http') {
    try {
      new URL(t.url);
    } catch {
      throw new ConfigError('common.actions.hook: invalid hook URL');
    }
  }
}

export class FsActionsHook {
  private readonly on: Set<FsAction>;
  private readonly sync: Set<FsAction>;

  constructor(private readonly cfg: ActionsConfig, private readonly executor: HookExecutor, private readonly now: () => number = Date.now) {
    validateActionsConfig(cfg);
    // SFTPGo warns and does nothing when actions are listed without a hook
    this.on = new Set(cfg.hook === '' ? [] : cfg.execute_on as FsAction[]);
    this.sync = new Set(cfg.execute_sync as FsAction[]);
  }

  wants(action: FsAction): boolean { return this.on.has(action); }
  /** pre-* are always synchronous (they decide the operation) */
  isSync(action: FsAction): boolean { return action.startsWith('pre-') || this.sync.has(action); }

  /** Runs the hook; rejects with a HookError unless the program exits 0 / the URL answers 200. */
  async run(e: FsEventInput): Promise<void> {
    const record = toFsEventRecord(e, this.now());
    const answer = await this.executor.call({
      hook: 'fs_actions', target: this.cfg.hook, vars: fsEventEnv(record),
      http: { method: 'POST', body: fsEventJson(record), retry: true },
    });
    if (answer.kind === 'http' && answer.response.status !== 200) {
      throw new HookError('fs_actions', 'http-status', `fs_actions_hook: unexpected HTTP status ${answer.response.status}`);
    }
  }
}
