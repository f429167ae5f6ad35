/**
 * The command action (SFTPGo executeCommandRuleAction): only programs listed
 * in common.event_manager.enabled_commands, run without a shell by the hooks'
 * program runner, with an empty environment plus the action's env_vars
 * ("$" copies the server's variable of the same name, never an SFTPGO_ one),
 * placeholders in arguments and values, killed at the action's timeout.
 */
import type { CommandActionConfig } from '../../dataprovider/event-models';
import type { AppLogger } from '../../logger/types';
import { runProgram } from '../../hooks/program';

export async function runCommandAction(
  c: CommandActionConfig, enabled: readonly string[], replace: (s: string) => string, logger: AppLogger, serverEnv: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const cmd = c.cmd ?? '';
  // checked again at run time: the allow list may have shrunk since the action was saved
  if (!enabled.includes(cmd)) throw new Error(`command "${cmd}" is not allowed`);
  const vars: Record<string, string> = {};
  for (const kv of c.env_vars ?? []) {
    if (kv.value === '$') {
      if (kv.key.toUpperCase().startsWith('SFTPGO_')) continue;
      const v = serverEnv[kv.key];
      if (v !== undefined) vars[kv.key] = v;
    } else {
      vars[kv.key] = replace(kv.value);
    }
  }
  await runProgram({
    hook: 'fs_actions', program: cmd, logger, vars,
    settings: { timeoutMs: (c.timeout ?? 20) * 1000, env: [], args: (c.args ?? []).map(replace) },
  });
}
