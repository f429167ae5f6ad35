/**
 * Recognises a database that holds someone else's tables under our names,
 * above all SFTPGo's own schema (same table names, a schema_version at 33 or
 * more), so sftpgo-ts refuses it instead of reading or migrating over it.
 */
import { FsError } from '../../common/errors';
import { num, type SqlContext } from './context';

/**
 * Tables SFTPGo's schema creates (its initial schema, version 33, has them
 * all) that sftpgo-ts has no table for. Checked only when the recorded version
 * is beyond what this build ships, so a future table of ours with one of
 * these names cannot trigger a false match on our own databases.
 */
const SFTPGO_ONLY_TABLES = ['shared_sessions', 'rules_actions_mapping', 'events_rules', 'tasks'];

async function tableExists(ctx: SqlContext, name: string): Promise<boolean> {
  return (await ctx.get(ctx.dialect.tableExistsSql, [`${ctx.prefix}${name}`])) !== undefined;
}

/**
 * The schema version recorded in this database (0: empty), after checking it
 * is ours. Throws with a message saying what was found and what to do.
 */
export async function ownSchemaVersion(ctx: SqlContext, latest: number): Promise<number> {
  const where = ctx.prefix ? ` (sql_tables_prefix "${ctx.prefix}")` : '';
  if (!(await tableExists(ctx, 'schema_version'))) {
    if (await tableExists(ctx, 'users')) {
      throw new FsError('Generic', `the database holds a "${ctx.prefix}users" table${where} that sftpgo-ts did not create ` +
        '(no schema_version table): use an empty database or another data_provider.sql_tables_prefix');
    }
    return 0;
  }
  const version = num((await ctx.get(`SELECT MAX(version) AS v FROM ${ctx.t('schema_version')}`))?.v);
  if (version <= latest) return version;
  for (const table of SFTPGO_ONLY_TABLES) {
    if (await tableExists(ctx, table)) {
      throw new FsError('Generic', `the database holds SFTPGo's own schema (version ${version}, table "${ctx.prefix}${table}")${where}: ` +
        'sftpgo-ts keeps its data in its own tables and does not read or change SFTPGo\'s. Point data_provider at an ' +
        'empty database (or another sql_tables_prefix) and move the data with "sftpgo dumpdata" on SFTPGo and ' +
        '"sftpgo serve --loaddata-from" (or POST /api/v2/loaddata) here');
    }
  }
  throw new FsError('Generic', `the data provider schema version ${version} is newer than this build supports (${latest})`);
}
