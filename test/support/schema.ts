/** The newest schema version shipped for an engine: the highest NNNN of sql/<engine>/NNNN_name.sql. */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function latestSchemaVersion(engine: 'sqlite' | 'postgresql' | 'mysql'): number {
  // dist/test/support -> the repository root
  const dir = path.resolve(__dirname, '../../../sql', engine);
  const versions = fs.readdirSync(dir).filter((f) => /^\d{4}_.+\.sql$/.test(f) && !f.endsWith('.down.sql')).map((f) => Number(f.slice(0, 4)));
  return Math.max(0, ...versions);
}

/** The sqlite engine's newest version (the same for every engine). */
export const LATEST_SCHEMA_VERSION = latestSchemaVersion('sqlite');
