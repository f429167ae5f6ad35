/**
 * The `command` config section as SFTPGo applies it to program hooks
 * (internal/command): the global timeout (1-300 s, default 30) and `env`
 * apply to every program; a `commands[]` entry whose `path` is the hook's
 * program (and whose `hook` is empty or names this hook) adds its own `env`,
 * its `args` and replaces the timeout. The child gets only these variables
 * plus the hook's own SFTPGO_* ones: the server's environment is never passed.
 */
import path from 'node:path';
import type { CommandConfig } from '../config/types';
import { ConfigError } from '../config/errors';
import { HOOK_NAMES, type HookName, type HookTarget } from './types';

const MIN_TIMEOUT_S = 1;
const MAX_TIMEOUT_S = 300;

export interface ProgramSettings {
  timeoutMs: number;
  /** `KEY=value` entries, global first then per command (a later duplicate wins, as with exec's env) */
  env: string[];
  args: string[];
}

/** Refuses what SFTPGo's command.Initialize refuses, so a bad section stops start-up. */
export function validateCommandConfig(c: CommandConfig): void {
  if (!Number.isInteger(c.timeout) || c.timeout < MIN_TIMEOUT_S || c.timeout > MAX_TIMEOUT_S) {
    throw new ConfigError(`command.timeout: invalid timeout ${c.timeout}, must be between ${MIN_TIMEOUT_S} and ${MAX_TIMEOUT_S} seconds`);
  }
  checkEnv(c.env, 'command.env');
  c.commands.forEach((cmd, i) => {
    const key = `command.commands[${i}]`;
    if (cmd.path === '') throw new ConfigError(`${key}.path: invalid empty path`);
    if (cmd.timeout !== 0 && (!Number.isInteger(cmd.timeout) || cmd.timeout < MIN_TIMEOUT_S || cmd.timeout > MAX_TIMEOUT_S)) {
      throw new ConfigError(`${key}.timeout: invalid timeout ${cmd.timeout} for command "${cmd.path}"`);
    }
    checkEnv(cmd.env, `${key}.env`);
    if (cmd.hook !== '' && !(HOOK_NAMES as readonly string[]).includes(cmd.hook)) {
      throw new ConfigError(`${key}.hook: invalid hook name "${cmd.hook}", supported values: ${HOOK_NAMES.join(', ')}`);
    }
  });
}

function checkEnv(env: readonly string[], key: string): void {
  for (const e of env) {
    if (!e.includes('=')) throw new ConfigError(`${key}: invalid env var "${e}", expected KEY=value`);
  }
}

/**
 * SFTPGo GetConfig. `defaultTimeoutMs` replaces the global timeout when no
 * command entry matches (the keyboard-interactive flow has its own 60 s budget).
 */
export function programSettings(c: CommandConfig, program: string, hook: HookName, defaultTimeoutMs?: number): ProgramSettings {
  const out: ProgramSettings = { timeoutMs: defaultTimeoutMs ?? c.timeout * 1000, env: [...c.env], args: [] };
  const cmd = c.commands.find((x) => x.path === program && (x.hook === '' || x.hook === hook));
  if (cmd) {
    out.timeoutMs = (cmd.timeout === 0 ? c.timeout : cmd.timeout) * 1000;
    out.env.push(...cmd.env);
    out.args = [...cmd.args];
  }
  return out;
}

/** SFTPGo: "http..." is a URL, anything else must be an absolute path. */
export function parseHookTarget(value: string): HookTarget | undefined {
  if (value.startsWith('http')) return { kind: 'http', url: value };
  if (path.isAbsolute(value)) return { kind: 'program', path: value };
  return undefined;
}

/** Builds the child's environment: config entries, then the hook's variables. Nothing from process.env. */
export function buildEnv(configured: readonly string[], vars: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of configured) {
    const i = e.indexOf('=');
    env[e.slice(0, i)] = e.slice(i + 1);
  }
  // SFTPGo appends its own variables after the configured ones, so they win on a clash
  for (const [k, v] of Object.entries(vars)) env[k] = v;
  return env;
}
