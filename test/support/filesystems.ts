/** The real filesystem registry for tests that build a connection manager by hand. */
import type { CommonConfig } from '../../src/config/types';
import { createKms } from '../../src/kms';
import type { SecretsKms } from '../../src/kms/types';
import type { AppLogger } from '../../src/logger/types';
import type { Metrics } from '../../src/metrics/types';
import { createFilesystems } from '../../src/service/filesystems';
import type { FsFactory } from '../../src/common/fs-factory';

export function testKms(): SecretsKms {
  return createKms({ secrets: { url: '', master_key: '', master_key_path: '' } });
}

export function testFilesystems(common: Pick<CommonConfig, 'umask' | 'rename_mode'>, logger: AppLogger, metrics: Metrics, kms: SecretsKms = testKms()): FsFactory {
  return createFilesystems({ common, kms, logger, metrics });
}
