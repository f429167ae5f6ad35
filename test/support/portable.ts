/**
 * `sftpgo portable` as a child process for tests: started with the given
 * flags (optionally behind a wrapper such as `ip netns exec NAME`), ready
 * once it printed its ready block ("Permissions:" is the block's last line), stopped with SIGTERM (SIGKILL after
 * a bound) at the end of the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';

export const PORTABLE_MAIN = path.resolve(__dirname, '../../src/cmd/main.js');
/** the environment without SFTPGO_* overrides of the test runner */
export const PORTABLE_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SFTPGO_')));

export interface RunningPortable {
  child: ChildProcess;
  /** stdout lines so far */
  lines: string[];
  stderr(): string;
  /** SIGTERM, then SIGKILL after 10 s; resolves to the exit code, or the signal's name when a signal ended it */
  stop(): Promise<number | string | null>;
}

export interface PortableRun {
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** command prefix, e.g. ['ip', 'netns', 'exec', 'ns1'] */
  wrapper?: string[];
  readyTimeoutMs?: number;
}

export async function startPortable(o: PortableRun): Promise<RunningPortable> {
  const argv = [...(o.wrapper ?? []), process.execPath, PORTABLE_MAIN, 'portable', ...o.args];
  const child = spawn(argv[0], argv.slice(1), { cwd: o.cwd, env: o.env ?? PORTABLE_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const lines: string[] = [];
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-20_000); });
  const stop = async (): Promise<number | string | null> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    return child.exitCode ?? child.signalCode;
  };
  const ready = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => { lines.push(l); if (l.startsWith('Permissions: ')) resolve(); });
    void exited.then(([code]) => reject(new Error(`portable exited (${String(code)}) before ready: ${lines.join('\n')}\n${stderr}`)));
  });
  const timeoutMs = o.readyTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([ready, new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`portable not ready within ${timeoutMs} ms`)), timeoutMs); })]);
  } catch (e) {
    await stop();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  return { child, lines, stderr: () => stderr, stop };
}
