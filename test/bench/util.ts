/**
 * Bench plumbing: child process registry (every server and client the bench
 * starts is killed on exit, error or SIGINT), /proc sampling, timing, table.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';

const children = new Set<ChildProcess>();
const cleanups: (() => void)[] = [];

/** Spawns a child that is killed by killAll(). */
export function track(cmd: string, args: string[], opts: SpawnOptions): ChildProcess {
  const p = spawn(cmd, args, opts);
  children.add(p);
  p.on('exit', () => children.delete(p));
  p.on('error', (e) => console.error(`${cmd}: ${e.message}`));
  return p;
}

/** Registers synchronous cleanup (temp dirs, users) run once by killAll(). */
export function onCleanup(f: () => void): void {
  cleanups.push(f);
}

/** Kills every tracked child (each by its own pid) and runs the cleanups, newest first. */
export function killAll(): void {
  for (const p of children) {
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }
  children.clear();
  while (cleanups.length > 0) {
    try {
      cleanups.pop()!();
    } catch (e) {
      console.error(`cleanup: ${(e as Error).message}`);
    }
  }
}

/** Ctrl-C and kill still take the servers and temp dirs down. */
export function installSignalCleanup(): void {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAll();
      process.exit(130);
    });
  }
  process.once('exit', killAll);
}

export function sh(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Runs a tracked child to completion; resolves with elapsed ms, rejects on a non-zero exit. */
export function timed(cmd: string, args: string[], opts: { input?: string; shell?: boolean } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const p = track(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'], shell: opts.shell });
    let err = '';
    p.stderr?.on('data', (c: Buffer) => { if (err.length < 4000) err += c.toString(); });
    p.stdin?.on('error', () => { /* the child may exit before reading stdin */ });
    p.stdin?.end(opts.input ?? '');
    p.on('exit', (code, sig) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code === 0) resolve(ms);
      else reject(new Error(`${cmd} ${args.join(' ').slice(0, 200)} exited ${code ?? sig}: ${err.trim()}`));
    });
  });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

export function rssKiB(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) total += Number(m[1]);
    } catch { /* process gone */ }
  }
  return total;
}

export function childPids(pid: number): number[] {
  const out = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.trim();
  const kids = out ? out.split('\n').map(Number) : [];
  return kids.flatMap((k) => [k, ...childPids(k)]);
}

/** Samples RSS every 100 ms until stopped; returns the peak in KiB. */
export function sampleRss(pids: () => number[]): () => number {
  let peak = rssKiB(pids());
  const t = setInterval(() => { peak = Math.max(peak, rssKiB(pids())); }, 100);
  return () => {
    clearInterval(t);
    return Math.max(peak, rssKiB(pids()));
  };
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A run of n consecutive free ports (passive FTP ranges), bounded tries. */
export async function freePortRange(n: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const start = 30000 + Math.floor(Math.random() * 25000);
    let ok = true;
    for (let p = start; p < start + n && ok; p++) ok = await portFree(p);
    if (ok) return start;
  }
  throw new Error(`no ${n} consecutive free ports found`);
}

export const MB = 1.048576; // MB (10^6) per MiB
export function fmt(n: number): string { return Number.isFinite(n) ? n.toFixed(1) : 'n/a'; }

export function printTable(rows: string[][]): void {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  '));
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** What each bench group runs, as [path of the binary, Debian package]. */
const BENCH_TOOLS: Record<string, [string, string][]> = {
  sftp: [['/usr/sbin/sshd', 'openssh-server'], ['/usr/bin/sftp', 'openssh-client'], ['/usr/bin/ssh-keygen', 'openssh-client']],
  ftp: [['/usr/sbin/vsftpd', 'vsftpd'], ['/usr/bin/lftp', 'lftp'], ['/usr/bin/openssl', 'openssl']],
  webdav: [['/usr/bin/rclone', 'rclone'], ['/usr/bin/curl', 'curl']],
  // npm run bench:storage (test/bench/storage-s3.ts): rclone against the same s3rver
  storage: [['/usr/bin/rclone', 'rclone'], ['/usr/bin/sftp', 'openssh-client']],
  http: [['/usr/bin/rclone', 'rclone'], ['/usr/bin/curl', 'curl']],
};

/**
 * Installs the reference servers and clients the chosen groups need (as
 * root, with apt-get), or stops with the list of packages to install: a bench
 * half run against a missing reference measures nothing.
 */
export function ensureBenchTools(groups: Set<string>): void {
  const needed = new Set<string>();
  for (const [group, tools] of Object.entries(BENCH_TOOLS)) {
    const wanted = group === 'sftp' ? ['idle', 'login', 'provider', 'sftp', 'parallel', 'events'].some((g) => groups.has(g)) : groups.has(group);
    if (!wanted) continue;
    for (const [bin, pkg] of tools) if (!isExecutable(bin)) needed.add(pkg);
  }
  if (needed.size === 0) return;
  const pkgs = [...needed];
  if (process.getuid?.() !== 0) throw new Error(`the bench needs these Debian packages: ${pkgs.join(' ')} (apt-get install -y ${pkgs.join(' ')})`);
  console.error(`[bench] installing ${pkgs.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const r = spawnSync('apt-get', ['install', '-y', '-qq', ...pkgs], { stdio: 'inherit', env });
  if (r.status !== 0) throw new Error(`apt-get install ${pkgs.join(' ')} failed (${r.status})`);
}

/** CPU ticks and minor page faults of a process, its reaped children included (/proc/PID/stat). */
export interface ProcCounters { cpuTicks: number; minorFaults: number }

export function procCounters(pid: number): ProcCounters {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after "(comm)": the command name may hold spaces or parentheses
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    // f[0] is field 3 (state): minflt 10, cminflt 11, utime 14, stime 15, cutime 16, cstime 17
    return { minorFaults: f[7]! + f[8]!, cpuTicks: f[11]! + f[12]! + f[13]! + f[14]! };
  } catch {
    return { cpuTicks: 0, minorFaults: 0 }; // process gone
  }
}

export function counterDelta(before: ProcCounters, after: ProcCounters): ProcCounters {
  return { cpuTicks: after.cpuTicks - before.cpuTicks, minorFaults: after.minorFaults - before.minorFaults };
}

/** A temporary directory (removed by killAll) holding a fresh ed25519 client key: what every bench run starts from. */
export function benchDirWithKey(prefix: string): { dir: string; key: string; pub: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const key = join(dir, 'id_ed25519');
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  return { dir, key, pub: readFileSync(`${key}.pub`, 'utf8') };
}
