import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OsFs } from '../../../src/vfs/osfs';
import { runConformance } from '../../support/vfs-conformance';

runConformance('local', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vfs-conf-local-'));
  return { fs: new OsFs({ root: join(dir, 'root') }), cleanup: () => rm(dir, { recursive: true, force: true }) };
});
