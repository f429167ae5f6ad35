/** Running the real `sftpgo` entry point as a child process (shared by the CLI e2e tests). */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export const MAIN = path.resolve(__dirname, '../../../src/cmd/main.js');
export const CLEAN_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SFTPGO_')));

type After = { after: (fn: () => Promise<void> | void) => void };

export function tmpDir(t: After, prefix = 'sftpgo-cli-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

export interface Result { code: number | null; stdout: string; stderr: string }

export function run(args: string[], opts: { cwd: string; env?: Record<string, string>; stdin?: string }): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd: opts.cwd, env: { ...CLEAN_ENV, ...opts.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.stdin ?? '');
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A long-running child; waitLine() resolves with the first stderr line matching re (fails if the child exits first). */
export function startChild(t: After, args: string[], opts: { cwd: string; env?: Record<string, string> }) {
  const child: ChildProcess = spawn(process.execPath, [MAIN, ...args], { cwd: opts.cwd, env: { ...CLEAN_ENV, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const seen: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  if (child.stdout) child.stdout.resume();
  if (child.stderr) {
    createInterface({ input: child.stderr }).on('line', (line) => {
      seen.push(line);
      for (const w of [...waiters]) {
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    });
  }
  const waitLine = (re: RegExp): Promise<string> => {
    const found = seen.find((l) => re.test(l));
    if (found) return Promise.resolve(found);
    return Promise.race([
      new Promise<string>((resolve) => waiters.push({ re, resolve })),
      exited.then((code) => {
        throw new Error(`process exited (${code}) before ${re}: ${seen.join('\n')}`);
      }),
    ]);
  };
  const stop = async (): Promise<number | null> => {
    child.kill('SIGTERM');
    return exited;
  };
  return { child, exited, waitLine, stop, seen };
}

export function request(url: string, opts: { method?: string; auth?: string; token?: string; body?: unknown } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    const data = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    if (data) headers['Content-Type'] = 'application/json';
    const req = http.request(url, { method: opts.method ?? 'GET', auth: opts.auth, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}
