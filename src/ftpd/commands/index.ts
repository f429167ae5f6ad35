/** The command table, built once from the per-area tables (immutable, shared by every session). */
import type { Command } from './types';
import { LOGIN_COMMANDS } from './login';
import { FILE_COMMANDS } from './files';
import { DATA_COMMANDS } from './dataconn';
import { TRANSFER_COMMANDS } from './transfer';
import { LIST_COMMANDS } from './listing';

export const COMMANDS: ReadonlyMap<string, Command> = new Map(Object.entries({
  ...LOGIN_COMMANDS, ...FILE_COMMANDS, ...DATA_COMMANDS, ...TRANSFER_COMMANDS, ...LIST_COMMANDS,
}));
