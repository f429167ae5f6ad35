/**
 * Entry points: openDataProvider (serve, tests) and initProvider (the
 * `initprovider` command). Picks the backend from data_provider.driver; the
 * PostgreSQL/MySQL seam is here (a Dialect + SqlDriver in sql/) for later.
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
import type { DataProviderService } from './types';
import type { SecretsKms } from '../kms/types';

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
  /** seals storage secrets (S3 keys, crypt passphrases) on save */
  kms?: SecretsKms;
}

const SENDER = 'dataprovider';
const PREFIX_RE = /^[a-z0-9_]*$/;

function resolveFile(configDir: string, name: string): string {
  return path.isAbsolute(name) ? name : path.join(configDir, name);
}

function openSqlite(opts: OpenOptions): SqlBackend {
  const prefix = opts.config.sql_tables_prefix ?? '';
  if (!PREFIX_RE.test(prefix)) {
    throw new Error(`invalid data_provider.sql_tables_prefix "${prefix}": only a-z, 0-9 and _ are allowed`);
  }
  const file = resolveFile(opts.configDir, opts.config.name || 'sftpgo.db');
  return openSqliteBackend({ file, tablesPrefix: prefix });
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
  if (current > latest) {
    throw new Error(`the data provider schema version ${current} is newer than this build supports (${latest})`);
  }
}

async function openBackend(opts: OpenOptions): Promise<DataProviderBackend> {
  const driver = opts.config.driver;
  switch (driver) {
    case 'sqlite': {
      const backend = openSqlite(opts);
      try {
        if (opts.migrate) await backend.migrate();
        else await checkSchema(backend);
      } catch (e) {
        await backend.close();
        throw e;
      }
      return backend;
    }
    case 'memory':
      return new MemoryBackend();
    case 'postgresql':
    case 'mysql':
    case 'cockroachdb':
    case 'bolt':
      throw new Error(`data_provider.driver "${driver}" is not supported yet: use "sqlite" or "memory"`);
    default:
      throw new Error(`unknown data_provider.driver "${String(driver)}": valid values are sqlite, memory ` +
        '(postgresql, mysql, cockroachdb and bolt are not supported yet)');
  }
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
