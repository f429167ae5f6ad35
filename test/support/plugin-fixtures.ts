/**
 * Test plugins as real executables: a /bin/sh launcher per plugin (what
 * `cmd` points at, so sha256sum pins the launcher) that execs node on the
 * compiled plugin script; plus a capturing logger and plugin config entries.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { PluginConfig } from '../../src/config/types';
import { createNullLogger } from '../../src/logger/logger';
import type { AppLogger } from '../../src/logger/types';

export type TestPluginKind = 'auth' | 'notifier' | 'ipfilter' | 'kms';

/** Writes `<dir>/<name>` that runs the compiled test plugin of that kind; returns its path. */
export function writePluginLauncher(dir: string, name: string, kind: TestPluginKind): string {
  const script = path.join(__dirname, 'plugins', `${kind}-plugin.js`);
  const file = path.join(dir, name);
  const q = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;
  writeFileSync(file, `#!/bin/sh\nexec ${q(process.execPath)} ${q(script)} "$@"\n`);
  chmodSync(file, 0o755);
  return file;
}

export function pluginConfig(type: TestPluginKind, cmd: string, over: Partial<PluginConfig> = {}): PluginConfig {
  return {
    type, cmd, args: [], sha256sum: '', auto_mtls: false, env_prefix: '', env_vars: [],
    notifier_options: { fs_events: [], provider_events: [], provider_objects: [], log_events: [], retry_max_time: 0, retry_queue_max_size: 0 },
    kms_options: { scheme: '', encrypted_status: '' },
    auth_options: { scope: 0 },
    ...over,
  };
}

export interface CapturedLine { level: string; sender: string; message: string; fields?: Record<string, unknown> }

export function captureLogger(): AppLogger & { lines: CapturedLine[]; text(): string } {
  const lines: CapturedLine[] = [];
  const at = (level: string) => (sender: string, message: string, fields?: Record<string, unknown>): void => {
    lines.push({ level, sender, message, fields });
  };
  return {
    ...createNullLogger(),
    debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'),
    lines,
    text: () => lines.map((l) => `${l.level} ${l.sender} ${l.message} ${JSON.stringify(l.fields ?? {})}`).join('\n'),
  };
}
