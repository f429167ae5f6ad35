/**
 * One place that knows how to call a hook whatever its kind: a program (with
 * the `command` section's settings) or a URL (with the `http` section's
 * client). Hook clients describe the call for both kinds and get back the raw
 * answer; interpreting it is theirs.
 */
import type { CommandConfig } from '../config/types';
import type { AppLogger } from '../logger/types';
import { parseHookTarget, programSettings } from './command-config';
import type { HookHttpClient, HookHttpResponse } from './http-client';
import { runProgram } from './program';
import { HOOK_SENDER, HookError, type HookName } from './types';

export interface HookCall {
  hook: HookName;
  /** the configured value: URL or absolute program path */
  target: string;
  /** program form: the SFTPGO_* variables */
  vars: Record<string, string>;
  /** HTTP form */
  http: { method: 'GET' | 'POST'; query?: Record<string, string>; body?: string; retry: boolean };
}

export type HookAnswer = { kind: 'program'; stdout: Buffer } | { kind: 'http'; response: HookHttpResponse };

export interface HookExecutorDeps {
  command: CommandConfig;
  http: HookHttpClient;
  logger: AppLogger;
}

export class HookExecutor {
  constructor(readonly deps: HookExecutorDeps) {}

  get logger(): AppLogger { return this.deps.logger; }

  /** Programs: a non-zero exit is a HookError. HTTP: any status is returned, the client decides. */
  async call(c: HookCall): Promise<HookAnswer> {
    const target = parseHookTarget(c.target);
    if (!target) {
      throw new HookError(c.hook, 'invalid-hook', `${HOOK_SENDER[c.hook]}: "${c.target}" is neither an http(s) URL nor an absolute path`);
    }
    if (target.kind === 'program') {
      const stdout = await runProgram({
        hook: c.hook, program: target.path, settings: programSettings(this.deps.command, target.path, c.hook),
        vars: c.vars, logger: this.deps.logger,
      });
      return { kind: 'program', stdout };
    }
    let url = target.url;
    if (c.http.query) {
      let parsed: URL;
      try {
        parsed = new URL(target.url);
      } catch {
        throw new HookError(c.hook, 'invalid-hook', `${HOOK_SENDER[c.hook]}: invalid URL`);
      }
      for (const [k, v] of Object.entries(c.http.query)) parsed.searchParams.append(k, v);
      url = parsed.toString();
    }
    const response = await this.deps.http.send({ hook: c.hook, method: c.http.method, url, body: c.http.body, retry: c.http.retry });
    return { kind: 'http', response };
  }
}

/** Parses a JSON object answer; anything else is a HookError naming the hook. */
export function parseJsonObject(hook: HookName, body: Buffer): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new HookError(hook, 'bad-json', `${HOOK_SENDER[hook]}: invalid JSON response: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new HookError(hook, 'bad-json', `${HOOK_SENDER[hook]}: the response is not a JSON object`);
  }
  return v as Record<string, unknown>;
}
