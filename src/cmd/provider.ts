/** `sftpgo initprovider`, `sftpgo resetprovider --force` and `sftpgo revertprovider [--to-version N]`. */
import * as fs from 'node:fs';
import type { RuntimeOptions } from '../config/types';
import { resolveConfigPath } from '../config';
import { initProvider as initDataProvider, revertProvider as revertDataProvider } from '../dataprovider/index';
import { prepare } from './serve';

export async function initProvider(rt: RuntimeOptions, out: (s: string) => void): Promise<number> {
  const { logger, config } = prepare(rt);
  try {
    if (config.data_provider.driver === 'memory') {
      out('The memory data provider needs no initialization');
      return 0;
    }
    const r = await initDataProvider({ config: config.data_provider, configDir: rt.configDir || '.', logger });
    out(`Data provider successfully initialized/updated (driver ${r.driver}, schema version ${r.schemaVersion})`);
    return 0;
  } finally {
    await logger.close();
  }
}

/**
 * Deletes every stored object: the sqlite files are removed; on PostgreSQL
 * and MySQL every sftpgo-ts table is dropped (the schema reverted to 0).
 */
export async function resetProvider(rt: RuntimeOptions, force: boolean, out: (s: string) => void): Promise<number> {
  if (!force) throw new Error('resetprovider deletes all data: run it again with --force to confirm');
  const { logger, config } = prepare(rt);
  try {
    const dp = config.data_provider;
    if (dp.driver === 'postgresql' || dp.driver === 'mysql' || dp.driver === 'cockroachdb') {
      await revertDataProvider({ config: dp, configDir: rt.configDir || '.', logger }, 0);
      logger.warn('dataprovider', `data provider reset: every ${dp.driver} table dropped`);
      out('Data provider reset: every table dropped; run "sftpgo initprovider" or "sftpgo serve" to recreate them');
      return 0;
    }
    if (dp.driver !== 'sqlite') throw new Error(`resetprovider is not supported for the "${dp.driver}" driver`);
    const file = resolveConfigPath(rt.configDir || '.', dp.name);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
    logger.warn('dataprovider', `data provider reset: ${file} removed`);
    out(`Data provider reset: ${file} removed; run "sftpgo initprovider" or "sftpgo serve" to recreate it`);
    return 0;
  } finally {
    await logger.close();
  }
}

/** Steps the schema back (to `toVersion`, or one version when it is negative) with the shipped revert scripts. */
export async function revertProvider(rt: RuntimeOptions, toVersion: number, out: (s: string) => void): Promise<number> {
  const { logger, config } = prepare(rt);
  try {
    const r = await revertDataProvider({ config: config.data_provider, configDir: rt.configDir || '.', logger },
      toVersion >= 0 ? toVersion : undefined);
    out(`Data provider successfully reverted (driver ${r.driver}, schema version ${r.schemaVersion})`);
    return 0;
  } finally {
    await logger.close();
  }
}
