/** The schema version the shipped migrations reach (every helper adding a migration moves it). */
import { readdirSync } from 'node:fs';
import { findMigrationsDir } from '../../src/dataprovider/sql/migrate';

export const LATEST_SCHEMA_VERSION = readdirSync(findMigrationsDir('sqlite')).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f)).length;
