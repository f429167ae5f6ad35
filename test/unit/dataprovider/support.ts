/**
 * Test helpers for the data provider: a recording AppLogger, a full
 * DataProviderConfig with SFTPGo defaults, temp dirs, and one factory per
 * backend so the conformance suite runs identically against each.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataProviderConfig } from '../../../src/config/types';
import type { AppLogger, LogFields } from '../../../src/logger/types';
import { openDataProvider } from '../../../src/dataprovider/index';
import type { DataProviderService } from '../../../src/dataprovider/types';
import { createDatabase, type SqlEngine } from '../../support/databases';

export interface LogLine { level: string; sender: string; message: string; fields?: LogFields }

export class RecordingLogger implements AppLogger {
  readonly lines: LogLine[] = [];
  debug(sender: string, message: string, fields?: LogFields): void { this.lines.push({ level: 'debug', sender, message, fields }); }
  info(sender: string, message: string, fields?: LogFields): void { this.lines.push({ level: 'info', sender, message, fields }); }
  warn(sender: string, message: string, fields?: LogFields): void { this.lines.push({ level: 'warn', sender, message, fields }); }
  error(sender: string, message: string, fields?: LogFields): void { this.lines.push({ level: 'error', sender, message, fields }); }
  isDebugEnabled(): boolean { return true; }
  transfer(): void { /* not used by the data provider */ }
  command(): void { /* not used by the data provider */ }
  connectionFailed(): void { /* not used by the data provider */ }
  login(): void { /* not used by the data provider */ }
  http(): void { /* not used by the data provider */ }
  rotate(): void { /* nothing to reopen */ }
  async flush(): Promise<void> { /* nothing buffered */ }
}

export function providerConfig(overrides: Partial<DataProviderConfig> = {}): DataProviderConfig {
  return {
    driver: 'sqlite', name: 'sftpgo.db', host: '', port: 0, username: '', password: '', password_file: '',
    sslmode: 0, disable_sni: false, target_session_attrs: '', root_cert: '', client_cert: '', client_key: '',
    connection_string: '', sql_tables_prefix: '', track_quota: 2, delayed_quota_update: 0, pool_size: 0,
    users_base_dir: '', actions: { execute_on: [], execute_for: [], hook: '' }, external_auth_hook: '',
    external_auth_scope: 0, pre_login_hook: '', post_login_hook: '', post_login_scope: 0, check_password_hook: '',
    check_password_scope: 0,
    // cost 4 keeps the suite fast; the cost itself is bcrypt's concern
    password_hashing: { bcrypt_options: { cost: 4 }, argon2_options: { memory: 65536, iterations: 1, parallelism: 2 }, algo: 'bcrypt' },
    password_validation: { admins: { min_entropy: 0 }, users: { min_entropy: 0 } },
    password_caching: true, update_mode: 0, create_default_admin: false, naming_rules: 5, is_shared: 0,
    node: { host: '', port: 0, proto: 'http' }, backups_path: 'backups',
    ...overrides,
  };
}

export function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sftpgo-dp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface BackendCase {
  name: string;
  open(dir: string, overrides?: Partial<DataProviderConfig>): Promise<DataProviderService>;
}

export const BACKENDS: BackendCase[] = [
  {
    name: 'sqlite',
    open: (dir, overrides) => openDataProvider({
      config: providerConfig({ driver: 'sqlite', name: 'test.db', ...overrides }), configDir: dir,
      logger: new RecordingLogger(), migrate: true, env: {},
    }),
  },
  {
    name: 'memory',
    open: (dir, overrides) => openDataProvider({
      config: providerConfig({ driver: 'memory', name: '', ...overrides }), configDir: dir,
      logger: new RecordingLogger(), migrate: true, env: {},
    }),
  },
  sqlServerCase('postgresql'),
  sqlServerCase('mysql'),
];

/**
 * A backend on a database server: each open() gets a fresh database, dropped
 * when the provider is closed (the suite closes every provider in t.after, so
 * a failing test drops its database too).
 */
function sqlServerCase(engine: SqlEngine): BackendCase {
  return {
    name: engine,
    async open(dir, overrides) {
      const db = await createDatabase(engine);
      let dp: DataProviderService;
      try {
        dp = await openDataProvider({
          config: providerConfig({ ...db.config, ...overrides }), configDir: dir,
          logger: new RecordingLogger(), migrate: true, env: {},
        });
      } catch (e) {
        await db.drop();
        throw e;
      }
      const close = dp.close.bind(dp);
      return Object.assign(dp, {
        close: async (): Promise<void> => {
          try {
            await close();
          } finally {
            await db.drop();
          }
        },
      });
    },
  };
}

/** A valid minimal user input (SFTPGo's create example). */
export function userInput(username: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { status: 1, username, password: 'secret', home_dir: `/srv/sftpgo/data/${username}`, permissions: { '/': ['*'] }, ...extra };
}

/** Removes ids: they depend on insertion order, which a restore does not preserve. */
export function withoutIds<T>(v: T): T {
  return JSON.parse(JSON.stringify(v, (k, val: unknown) => (k === 'id' ? undefined : val))) as T;
}
