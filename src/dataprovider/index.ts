/**
 * Entry points: openDataProvider (serve, tests), initProvider and
 * revertProvider (the CLI commands). Picks the backend from
 * data_provider.driver: sqlite, postgresql/cockroachdb (pg), mysql (mysql2),
 * memory; bolt is refused with the way to move its data.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { DataProviderConfig } from '../config/types';
import type { AppLogger } from '../logger/types';
import { MemoryBackend } from './memory';
import { DEFAULT_PASSWORD_HASHING } from './passwords';
import type { DataProviderBackend } from './provider';
import { ProviderService } from './service';
import { openSqliteBackend } from './sqlite';
import type { SqlBackend } from './sql/backend';
import { explainTlsFailure } from './sql/options';
import type { DataProviderService } from './types';
import type { AccountSecrets } from './secrets';
import type { SecretsKms } from '../kms/types';
import { lazy } from '../util/lazy';

// a driver (pg or mysql2) loads only when data_provider.driver selects it
const pgBackend = lazy(() => require('./sql/pgsql') as typeof import('./sql/pgsql'));
const mysqlBackend = lazy(() => require('./sql/mysql') as typeof import('./sql/mysql'));

export { ProviderService } from './service';
export { ValidationError, isValidationError } from './validation';
export { hashPassword, verifyPassword, isHashedPassword } from './passwords';

export interface OpenOptions {
  config: DataProviderConfig;
  configDir: string;
  logger: AppLogger;
  /** apply pending migrations (serve with update_mode 0, initprovider) */
  migrate: boolean;
  /** for SFTPGO_DEFAULT_ADMIN_*; defaults to process.env */
  env?: NodeJS.ProcessEnv;
  /** kms + mfa.totp (service/app.ts); absent: no TOTP configuration, enabled ones are refused */
  secrets?: AccountSecrets;
  /** told when the database stops or starts answering (sftpgo_dataprovider_availability) */
  onAvailability?: (available: boolean) => void;
  /** seals storage secrets (S3 keys, crypt passphrases) on save */
  kms?: SecretsKms;
}

/** SFTPGo checks the provider every 55 s (its scheduler); a lost database is also noticed by the first failing call. */
const AVAILABILITY_CHECK_MS = 55_000;

const SENDER = 'dataprovider';
const PREFIX_RE = /^[a-z0-9_]*$/;

function resolveFile(configDir: string, name: string): string {
  return path.isAbsolute(name) ? name : path.join(configDir, name);
}

function checkPrefix(config: DataProviderConfig): void {
  const prefix = config.sql_tables_prefix ?? '';
  if (!PREFIX_RE.test(prefix)) {
    throw new Error(`invalid data_provider.sql_tables_prefix "${prefix}": only a-z, 0-9 and _ are allowed`);
  }
}

const BOLT_REFUSED = 'data_provider.driver "bolt" is not supported: export the data from SFTPGo (GET /api/v2/dumpdata or ' +
  'the web admin\'s Maintenance page), choose sqlite, postgresql or mysql here, and load the file with ' +
  '"sftpgo serve --loaddata-from <file>" or POST /api/v2/loaddata';

function openSql(opts: OpenOptions): SqlBackend {
  const cfg = opts.config;
  checkPrefix(cfg);
  const onIdleError = (err: Error): void => {
    opts.logger.warn(SENDER, `idle database connection closed: ${err.message}`);
  };
  switch (cfg.driver) {
    case 'sqlite':
      return openSqliteBackend({ file: resolveFile(opts.configDir, cfg.name || 'sftpgo.db'), tablesPrefix: cfg.sql_tables_prefix });
    case 'postgresql':
    case 'cockroachdb':
      return pgBackend().openPgBackend({ config: cfg, driverName: cfg.driver, onIdleError });
    case 'mysql':
      return mysqlBackend().openMysqlBackend({ config: cfg, onIdleError });
    case 'bolt':
      throw new Error(BOLT_REFUSED);
    default:
      throw new Error(`unknown data_provider.driver "${String(cfg.driver)}": valid values are sqlite, postgresql, ` +
        'cockroachdb, mysql and memory');
  }
}

async function checkSchema(backend: SqlBackend): Promise<void> {
  const current = await backend.schemaVersion();
  const latest = backend.latestSchemaVersion();
  if (current === 0) {
    throw new Error('the data provider is not initialized: run "sftpgo initprovider" (or serve with data_provider.update_mode 0)');
  }
  if (current < latest) {
    throw new Error(`the data provider schema is at version ${current}, version ${latest} is required: run "sftpgo initprovider"`);
  }
}

/** Logs availability changes once each and forwards them (metrics); checks the database periodically. */
function watchAvailability(backend: SqlBackend, opts: OpenOptions): void {
  backend.onAvailabilityChange((available, reason) => {
    if (available) opts.logger.info(SENDER, `data provider available again: ${reason}`);
    else opts.logger.error(SENDER, `data provider unavailable: ${reason}`);
    opts.onAvailability?.(available);
  });
  backend.startAvailabilityChecks(AVAILABILITY_CHECK_MS);
}

async function openBackend(opts: OpenOptions): Promise<DataProviderBackend> {
  if (opts.config.driver === 'memory') return new MemoryBackend();
  const backend = openSql(opts);
  try {
    if (opts.migrate) await backend.migrate();
    else await checkSchema(backend);
  } catch (e) {
    await backend.close();
    throw explainTlsFailure(e);
  }
  watchAvailability(backend, opts);
  if (opts.config.delayed_quota_update > 0) {
    backend.enableDelayedQuota(opts.config.delayed_quota_update * 1000, (m) => opts.logger.warn(SENDER, m));
  }
  return backend;
}

/** Loads the memory driver's dump file (data_provider.name), as SFTPGo does. */
async function loadMemoryDump(service: ProviderService, opts: OpenOptions): Promise<void> {
  const file = resolveFile(opts.configDir, opts.config.name);
  if (!existsSync(file)) throw new Error(`memory provider: the dump file "${file}" (data_provider.name) does not exist`);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`memory provider: unable to parse the dump file "${file}": ${(e as Error).message}`);
  }
  const r = await service.restore(data, 0);
  opts.logger.info(SENDER, `memory provider: loaded ${r.users.length} users from "${file}"`);
}

export async function openDataProvider(opts: OpenOptions): Promise<DataProviderService> {
  const backend = await openBackend(opts);
  const cfg = opts.config;
  const service = new ProviderService({
    backend,
    logger: opts.logger,
    env: opts.env,
    secrets: opts.secrets,
    kms: opts.kms,
    config: {
      naming_rules: cfg.naming_rules ?? 5,
      users_base_dir: cfg.users_base_dir ?? '',
      password_caching: cfg.password_caching ?? true,
      create_default_admin: cfg.create_default_admin ?? false,
      password_hashing: {
        algo: cfg.password_hashing?.algo || DEFAULT_PASSWORD_HASHING.algo,
        bcrypt_options: { ...DEFAULT_PASSWORD_HASHING.bcrypt_options, ...cfg.password_hashing?.bcrypt_options },
        argon2_options: { ...DEFAULT_PASSWORD_HASHING.argon2_options, ...cfg.password_hashing?.argon2_options },
      },
    },
  });
  try {
    if (backend.driver === 'memory' && cfg.name) await loadMemoryDump(service, opts);
    await service.ensureDefaultAdmin();
  } catch (e) {
    await service.close();
    throw e;
  }
  opts.logger.info(SENDER, `data provider "${backend.driver}" ready`);
  return service;
}

/** `sftpgo initprovider`: creates or upgrades the schema, then closes. */
export async function initProvider(opts: Omit<OpenOptions, 'migrate'>): Promise<{ driver: string; schemaVersion: number }> {
  if (opts.config.driver === 'memory') {
    opts.logger.info(SENDER, 'the memory data provider needs no initialization');
    return { driver: 'memory', schemaVersion: 0 };
  }
  const service = await openDataProvider({ ...opts, migrate: true });
  try {
    const version = await service.backend.schemaVersion();
    opts.logger.info(SENDER, `data provider initialized, schema version ${version}`);
    return { driver: service.backend.driver, schemaVersion: version };
  } finally {
    await service.close();
  }
}

/**
 * `sftpgo revertprovider`: steps the schema back to `toVersion` (default:
 * one version back) with the shipped down scripts. Not for memory.
 */
export async function revertProvider(opts: Omit<OpenOptions, 'migrate'>, toVersion?: number): Promise<{ driver: string; schemaVersion: number }> {
  if (opts.config.driver === 'memory') throw new Error('revertprovider is not supported for the memory data provider');
  const backend = openSql({ ...opts, migrate: false });
  try {
    const version = await backend.revert(toVersion);
    opts.logger.warn(SENDER, `data provider schema reverted to version ${version}`);
    return { driver: backend.driver, schemaVersion: version };
  } finally {
    await backend.close();
  }
}
