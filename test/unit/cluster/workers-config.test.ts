/**
 * The worker count and the shared-provider checks `serve` runs before it
 * starts anything: --workers beats common.workers; 0 = cores with a shared
 * provider, 1 otherwise; more than one worker or is_shared 1 without a
 * shareable database (or without node.host) is refused with one clear line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config';
import type { AppConfig, RuntimeOptions } from '../../../src/config/types';
import { checkSharedProvider } from '../../../src/service/cluster';
import { checkWorkers, workerCount } from '../../../src/service/workers';

function config(env: Record<string, string>): AppConfig {
  const dir = mkdtempSync(join(tmpdir(), 'sftpgo-workers-cfg-'));
  try {
    return loadConfig({ configDir: dir, env });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rt = (workers?: number): RuntimeOptions => ({ workers } as RuntimeOptions);
const shared = { SFTPGO_DATA_PROVIDER__DRIVER: 'postgresql', SFTPGO_DATA_PROVIDER__IS_SHARED: '1', SFTPGO_DATA_PROVIDER__NODE__HOST: '10.0.0.5' };

test('worker count: flag, then config, then cores with a shared provider', () => {
  assert.equal(workerCount(config({}), rt(), 8), 1, 'not shared: one process');
  assert.equal(workerCount(config(shared), rt(), 8), 8, 'shared: one per core');
  assert.equal(workerCount(config({ ...shared, SFTPGO_COMMON__WORKERS: '3' }), rt(), 8), 3);
  assert.equal(workerCount(config({ ...shared, SFTPGO_COMMON__WORKERS: '3' }), rt(2), 8), 2, 'the flag wins');
  assert.equal(workerCount(config({ ...shared, SFTPGO_COMMON__WORKERS: '3' }), rt(-1), 8), 3, '-1 = the config');
});

test('workers and is_shared refused where they cannot hold', () => {
  assert.throws(() => checkWorkers(config({}), 2), /2 workers need data_provider.is_shared 1/);
  checkWorkers(config({}), 1);
  checkWorkers(config(shared), 4);
  assert.throws(() => checkSharedProvider(config({ SFTPGO_DATA_PROVIDER__IS_SHARED: '1' })), /not supported with the sqlite driver/);
  assert.throws(() => checkSharedProvider(config({ SFTPGO_DATA_PROVIDER__DRIVER: 'memory', SFTPGO_DATA_PROVIDER__IS_SHARED: '1' })),
    /not supported with the memory driver/);
  assert.throws(() => checkSharedProvider(config({ ...shared, SFTPGO_DATA_PROVIDER__NODE__HOST: '' })), /needs data_provider.node.host/);
  checkSharedProvider(config(shared));
  checkSharedProvider(config({ ...shared, SFTPGO_DATA_PROVIDER__DRIVER: 'mysql' }));
});
