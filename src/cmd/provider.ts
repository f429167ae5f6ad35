/** `sftpgo initprovider` and `sftpgo resetprovider --force`. */
import * as fs from 'node:fs';
import type { RuntimeOptions } from '../config/types';
import { resolveConfigPath } from '../config';
import { initProvider as initDataProvider } from '../dataprovider/index';
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

/** Deletes every stored object. Only the sqlite file is reset here: the database files are removed and recreated empty. */
export async function resetProvider(rt: RuntimeOptions, force: boolean, out: (s: string) => void): Promise<number> {
  if (!force) throw new Error('resetprovider deletes all data: run it again with --force to confirm');
  const { logger, config } = prepare(rt);
  try {
    const dp = config.data_provider;
    if (dp.driver !== 'sqlite') throw new Error(`resetprovider is supported only for the sqlite driver, not "${dp.driver}"`);
    const file = resolveConfigPath(rt.configDir || '.', dp.name);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
    logger.warn('dataprovider', `data provider reset: ${file} removed`);
    out(`Data provider reset: ${file} removed; run "sftpgo initprovider" or "sftpgo serve" to recreate it`);
    return 0;
  } finally {
    await logger.close();
  }
}
