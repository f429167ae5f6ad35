/**
 * Runs program hooks the way SFTPGo does (exec.CommandContext): no shell,
 * the environment built by command-config.ts only, a deadline after which
 * the program is killed. Unlike Go we start the program in its own process
 * group and kill the whole group, so a `sh` script's children cannot hold the
 * pipes open and keep a login waiting. Stdout is collected up to 1 MiB (more
 * is a failure, the program is killed); stderr lines are logged as warnings
 * with the hook's sender, bounded in count and length so a chatty program
 * cannot flood the log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { AppLogger } from '../logger/types';
import { buildEnv, type ProgramSettings } from './command-config';
import { HOOK_SENDER, HookError, MAX_HOOK_RESPONSE_BYTES, type HookName } from './types';

const MAX_STDERR_LINES = 100;
const MAX_LOGGED_LINE = 2048;

export interface ProgramRun {
  hook: HookName;
  program: string;
  settings: ProgramSettings;
  /** the hook's SFTPGO_* variables (may hold a password: never logged) */
  vars: Record<string, string>;
  logger: AppLogger;
}

/** Kills the program's process group: also after the program itself exited, when a child it left holds the pipes. */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // the group is gone (ESRCH): nothing left to kill
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** Logs stderr line by line (SFTPGo: warn, sender = hook). */
function logStderr(child: ChildProcess, run: ProgramRun): void {
  let pending = '';
  let logged = 0;
  const emit = (line: string): void => {
    if (line === '' || logged >= MAX_STDERR_LINES) return;
    logged++;
    run.logger.warn(HOOK_SENDER[run.hook], line.length > MAX_LOGGED_LINE ? `${line.slice(0, MAX_LOGGED_LINE)}...` : line);
    if (logged === MAX_STDERR_LINES) run.logger.warn(HOOK_SENDER[run.hook], 'further stderr output of the hook is not logged');
  };
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    if (pending.length > MAX_LOGGED_LINE * 4) pending = pending.slice(0, MAX_LOGGED_LINE * 4);
    for (const l of lines) emit(l.replace(/\r$/, ''));
  });
  child.stderr?.on('end', () => emit(pending));
  child.stderr?.on('error', () => undefined);
}

export interface StartedProgram {
  child: ChildProcess;
  /** resolves once the program exited and its stdout ended; rejects with a HookError on timeout/spawn failure/kill */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** kills the process group and makes `done` reject with this failure */
  abort(failure: 'output-too-large' | 'bad-json' | 'bad-response', message: string): void;
}

/** Starts a program hook with a deadline. `stdin` decides whether the child gets a stdin pipe. Throws a HookError when it cannot be spawned. */
export function startProgram(run: ProgramRun, stdin: boolean): StartedProgram {
  const sender = HOOK_SENDER[run.hook];
  let child: ChildProcess;
  try {
    child = spawn(run.program, run.settings.args, {
      env: buildEnv(run.settings.env, run.vars),
      shell: false,
      detached: true,
      stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
  } catch (err) {
    // e.g. a NUL byte in a variable: never echo the variables themselves
    throw new HookError(run.hook, 'spawn', `${sender}: cannot start "${run.program}": ${(err as Error).name}`);
  }
  let settle: { resolve: (v: { code: number | null; signal: NodeJS.Signals | null }) => void; reject: (e: HookError) => void } | undefined;
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => { settle = { resolve, reject }; });
  let finished = false;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let stdoutEnded = false;
  const finish = (err?: HookError): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    if (err) {
      killGroup(child);
      child.stdout?.destroy();
      child.stderr?.destroy();
      child.stdin?.destroy();
      settle?.reject(err);
    } else if (exit) {
      settle?.resolve(exit);
    }
  };
  const timer = setTimeout(() => {
    finish(new HookError(run.hook, 'timeout', `${sender}: "${run.program}" killed after the ${run.settings.timeoutMs / 1000} s timeout`));
  }, run.settings.timeoutMs);
  child.on('error', (err: NodeJS.ErrnoException) => {
    finish(new HookError(run.hook, 'spawn', `${sender}: cannot run "${run.program}": ${err.code ?? err.message}`));
  });
  child.on('exit', (code, signal) => {
    exit = { code, signal };
    if (stdoutEnded) finish();
  });
  child.stdout?.on('end', () => {
    stdoutEnded = true;
    if (exit) finish();
  });
  child.stdout?.on('error', () => undefined);
  child.stdin?.on('error', () => undefined);
  logStderr(child, run);
  return {
    child,
    done,
    abort: (failure, message) => finish(new HookError(run.hook, failure, `${sender}: ${message}`)),
  };
}

/** Runs a program hook to completion and returns its stdout. Non-zero exit, timeout, too much output => HookError. */
export async function runProgram(run: ProgramRun): Promise<Buffer> {
  const started = startProgram(run, false);
  const chunks: Buffer[] = [];
  let size = 0;
  started.child.stdout?.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_HOOK_RESPONSE_BYTES) {
      started.abort('output-too-large', `"${run.program}" wrote more than ${MAX_HOOK_RESPONSE_BYTES} bytes, killed`);
      return;
    }
    chunks.push(chunk);
  });
  const { code, signal } = await started.done;
  if (code !== 0) {
    throw new HookError(run.hook, 'exit', `${HOOK_SENDER[run.hook]}: "${run.program}" ${signal ? `killed by ${signal}` : `exited with status ${code}`}`);
  }
  return Buffer.concat(chunks);
}
