/**
 * Where a download's CPU goes, process by process and thread by thread, for
 * our server and OpenSSH side by side (issue 16): `sftp get` of a
 * BENCH_SIZES MiB file (default 1024) to /dev/null with each cipher
 * (BENCH_CIPHER=aes|chacha, both by default), BENCH_ROUNDS rounds (default
 * 3) interleaved, each side going first in turn. `BENCH_B=<checkout>[,...]`
 * adds other builds as more sides, named B, C, ... (BENCH_B_ENV / BENCH_B_FLAGS
 * as in probe-download.ts, applied to each).
 *
 * Per transfer and per entity: user and system CPU (/proc stat ticks),
 * time on CPU and time runnable but waiting for a CPU (/proc schedstat, ns),
 * and how often it went to sleep or was preempted (context switches).
 * Our daemon: its main thread, the libuv pool threads, V8's threads and the
 * rest, from /proc/<pid>/task/* (the daemon lives on, so these are exact
 * deltas). OpenSSH: sshd's per-connection processes (privileged monitor,
 * the session's network process that encrypts, the internal-sftp child
 * that reads the file) and the client (sftp and its ssh child), sampled
 * every BENCH_POLL_MS (default 20) until they exit; the CPU they used after
 * their last sample is reported as "unsampled" (the exact totals come from
 * the listener's and GNU time's reaped-children counters).
 * The machine line is the busy share of both CPUs (/proc/stat) over the
 * transfer, whoever used it: other jobs included.
 * `node dist/test/bench/probe-split.js` (not part of npm run bench).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { sshArgs } from './rows';
import { type Endpoint, makeCert, startOpenSsh, startOurs } from './servers';
import { benchDirWithKey, installSignalCleanup, killAll, median, procCounters, sh } from './util';

const TICK_S = 0.01;

/** CPU of one task: stat ticks split user/system, schedstat ns on CPU and waiting for one. */
interface TaskCpu { user: number; sys: number; runNs: number; waitNs: number; sleeps: number; preempted: number }
const ZERO: TaskCpu = { user: 0, sys: 0, runNs: 0, waitNs: 0, sleeps: 0, preempted: 0 };

function add(a: TaskCpu, b: TaskCpu): TaskCpu {
  return { user: a.user + b.user, sys: a.sys + b.sys, runNs: a.runNs + b.runNs, waitNs: a.waitNs + b.waitNs,
    sleeps: a.sleeps + b.sleeps, preempted: a.preempted + b.preempted };
}
function sub(a: TaskCpu, b: TaskCpu): TaskCpu {
  return { user: a.user - b.user, sys: a.sys - b.sys, runNs: a.runNs - b.runNs, waitNs: a.waitNs - b.waitNs,
    sleeps: a.sleeps - b.sleeps, preempted: a.preempted - b.preempted };
}

function readOr(path: string): string | undefined {
  try { return readFileSync(path, 'utf8'); } catch { return undefined; }
}

/** Fields of /proc/.../stat after "(comm)", and comm itself. */
function statFields(path: string): { comm: string; f: string[] } | undefined {
  const s = readOr(path);
  if (!s) return undefined;
  return { comm: s.slice(s.indexOf('(') + 1, s.lastIndexOf(')')), f: s.slice(s.lastIndexOf(')') + 2).split(' ') };
}

/** One task's own CPU (`dir` = /proc/<pid> or /proc/<pid>/task/<tid>). */
function taskCpu(dir: string): { comm: string; cpu: TaskCpu } | undefined {
  const st = statFields(`${dir}/stat`);
  if (!st) return undefined;
  // f[0] is field 3 (state): utime is field 14, stime 15
  const [runNs, waitNs] = (readOr(`${dir}/schedstat`) ?? '0 0').split(' ').map(Number);
  // voluntary switches: the task went to sleep (waiting for I/O or a wake-up); involuntary: preempted
  const status = readOr(`${dir}/status`) ?? '';
  const sleeps = Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const preempted = Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { comm: st.comm, cpu: { user: Number(st.f[11]), sys: Number(st.f[12]), runNs: runNs ?? 0, waitNs: waitNs ?? 0, sleeps, preempted } };
}

/**
 * Node 20 names every thread "node": the main thread is told apart by its
 * id; the others (libuv's pool, which makes the file reads, and V8's
 * platform threads: GC helpers, the optimizing compiler) are one group.
 * `perf record -e cpu-clock -g` tells them apart by symbol.
 */
function threadGroup(tid: number, pid: number): string {
  return tid === pid ? 'main thread' : 'other threads (pool, V8)';
}

/** Our daemon's CPU by thread group, summed over its threads. */
function daemonThreads(pid: number): Map<string, TaskCpu> {
  const out = new Map<string, TaskCpu>();
  let tids: string[] = [];
  try { tids = readdirSync(`/proc/${pid}/task`); } catch { return out; }
  for (const t of tids) {
    const tc = taskCpu(`/proc/${pid}/task/${t}`);
    if (!tc) continue;
    const g = threadGroup(Number(t), pid);
    out.set(g, add(out.get(g) ?? ZERO, tc.cpu));
  }
  return out;
}

function children(pid: number): number[] {
  const s = readOr(`/proc/${pid}/task/${pid}/children`);
  return s ? s.trim().split(/\s+/).filter((x) => x !== '').map(Number) : [];
}

/** Latest sample of each process below a root, labelled by its depth and name. */
class TreeSampler {
  readonly last = new Map<number, { label: string; cpu: TaskCpu }>();
  constructor(private readonly root: number, private readonly labels: (depth: number) => string) {}

  sample(): void {
    // bounded: a process tree a few levels deep
    const walk = (pid: number, depth: number): void => {
      for (const c of children(pid)) {
        const tc = taskCpu(`/proc/${c}`);
        if (tc) this.last.set(c, { label: this.labels(depth), cpu: tc.cpu });
        if (depth < 4) walk(c, depth + 1);
      }
    };
    walk(this.root, 1);
  }

  byLabel(): Map<string, TaskCpu> {
    const out = new Map<string, TaskCpu>();
    for (const { label, cpu } of this.last.values()) out.set(label, add(out.get(label) ?? ZERO, cpu));
    return out;
  }
}

/** Busy and total jiffies of the whole machine (/proc/stat "cpu" line). */
function machine(): { busy: number; total: number } {
  const f = (readOr('/proc/stat') ?? '').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - f[4]!, total };
}

/**
 * sshd's per-connection processes. The bench logs in as root, and for root
 * OpenSSH skips the post-authentication privilege-separated child: the
 * connection's process (depth 1) does the key exchange, encrypts and sends;
 * at depth 2 are the pre-authentication child (exits after the login) and
 * the internal-sftp child that reads the file and hands the replies over a
 * pipe.
 */
function sshdLabel(depth: number): string {
  if (depth === 1) return 'sshd connection (encrypts, sends)';
  if (depth === 2) return 'sshd internal-sftp (+ pre-auth)';
  return `sshd depth ${depth}`;
}

/** The client: GNU time runs sftp (depth 1), which runs ssh (depth 2; named sftp until its exec). */
function clientLabel(depth: number): string {
  return depth === 1 ? 'client sftp' : depth === 2 ? 'client ssh (decrypts)' : `client depth ${depth}`;
}

/**
 * Bytes the client's end of the connection to `serverPort` has received and
 * ssh has not read yet (/proc/net/tcp rx_queue). Near zero: the client waits
 * for the server; near the channel window (2 MiB): the server waits for the client.
 */
function clientRxQueue(serverPort: number): number | undefined {
  const want = `:${serverPort.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of (readOr('/proc/net/tcp') ?? '').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[3] !== '01' || !f[2]?.endsWith(want)) continue;
    return parseInt(f[4]!.split(':')[1]!, 16);
  }
  return undefined;
}

type Row = Map<string, TaskCpu>;
interface Result { wall: number; rows: Row; machineBusy: number; rxQueue: number[] }

/** One `sftp get` against `ep`, with the CPU of every process and thread involved. */
async function transfer(ep: Endpoint, ours: boolean, key: string, cipher: string, pollMs: number): Promise<Result> {
  const root = ep.rootPid();
  const before = ours ? daemonThreads(root) : undefined;
  const listener0 = procCounters(root);
  const m0 = machine();
  const start = process.hrtime.bigint();
  const time = spawn('/usr/bin/time', ['-f', '%U %S', 'sftp', ...sshArgs(ep, key, ['-c', cipher]), '-b', '-', `${ep.user}@127.0.0.1`],
    { stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  time.stderr.on('data', (c: Buffer) => { err += c.toString(); });
  time.stdin.end('get f.bin /dev/null\n');
  const client = new TreeSampler(time.pid ?? 0, clientLabel);
  const server = ours ? undefined : new TreeSampler(root, sshdLabel);
  const rxQueue: number[] = [];
  const poll = setInterval(() => {
    client.sample();
    server?.sample();
    const q = clientRxQueue(ep.port);
    if (q !== undefined) rxQueue.push(q);
  }, pollMs);
  const code = await new Promise<number | null>((resolve) => time.on('exit', (c) => resolve(c)));
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  clearInterval(poll);
  const m1 = machine();
  if (code !== 0) throw new Error(`sftp get from ${ep.name} failed: ${err.trim()}`);
  const rows: Row = new Map();
  if (ours) {
    const after = daemonThreads(root);
    for (const [g, cpu] of after) rows.set(g, sub(cpu, before!.get(g) ?? ZERO));
  } else {
    // sshd reaps its per-connection processes soon after the client goes: wait (bounded) for that
    for (let i = 0; i < 100 && children(root).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    const exact = procCounters(root).cpuTicks - listener0.cpuTicks;
    let sampled = 0;
    for (const [label, cpu] of server!.byLabel()) { rows.set(label, cpu); sampled += cpu.user + cpu.sys; }
    rows.set('sshd unsampled', { ...ZERO, user: exact - sampled });
  }
  const [cu, cs] = err.trim().split('\n').at(-1)!.split(' ').map(Number);
  let sampled = 0;
  for (const [label, cpu] of client.byLabel()) { rows.set(label, cpu); sampled += cpu.user + cpu.sys; }
  rows.set('client unsampled', { ...ZERO, user: Math.round(((cu ?? 0) + (cs ?? 0)) / TICK_S) - sampled });
  return { wall, rows, machineBusy: (m1.busy - m0.busy) / (m1.total - m0.total), rxQueue };
}

function rxSummary(q: number[]): string {
  if (q.length === 0) return 'no samples';
  const s = [...q].sort((a, b) => a - b);
  const pct = (p: number): string => `${(s[Math.min(s.length - 1, Math.floor(p * s.length))]! / 1024).toFixed(0)} KiB`;
  return `empty in ${(100 * q.filter((x) => x === 0).length / q.length).toFixed(0)} %, p10 ${pct(0.1)}, median ${pct(0.5)}, p90 ${pct(0.9)}, max ${pct(1)}`;
}

function fmtRow(label: string, c: TaskCpu, wall: number): string {
  const cpuS = (c.user + c.sys) * TICK_S;
  const sched = c.runNs > 0
    ? `  on-cpu ${(c.runNs / 1e9).toFixed(2)} s  waiting for a cpu ${(c.waitNs / 1e9).toFixed(2)} s  sleeps ${c.sleeps} preempted ${c.preempted}` : '';
  return `    ${label.padEnd(32)} user ${(c.user * TICK_S).toFixed(2)}  sys ${(c.sys * TICK_S).toFixed(2)}  = ${cpuS.toFixed(2)} s (${(100 * cpuS / wall).toFixed(0)} % of wall)${sched}`;
}

async function main(): Promise<void> {
  installSignalCleanup();
  const { dir, key, pub } = benchDirWithKey('sftpgo-split-');
  const cert = makeCert(dir);
  const sides: { ep: Endpoint; ours: boolean }[] = [{ ep: (await startOurs(dir, pub, cert)).sftp, ours: true }];
  const envB = Object.fromEntries((process.env.BENCH_B_ENV ?? '').split(/\s+/).filter((kv) => kv.includes('='))
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  // BENCH_B=<checkout>[,<checkout>...]: more builds, named B, C, ... (env and flags apply to each)
  const others = (process.env.BENCH_B ?? '').split(',').filter((r) => r !== '');
  for (const [i, root] of others.entries()) {
    const b = await startOurs(dir, pub, cert, { name: String.fromCharCode(66 + i), root, env: envB,
      flags: (process.env.BENCH_B_FLAGS ?? '').split(/\s+/).filter((f) => f !== '') });
    sides.push({ ep: b.sftp, ours: true });
  }
  sides.push({ ep: await startOpenSsh(dir, pub), ours: false });
  const ciphers = (process.env.BENCH_CIPHER ?? 'aes,chacha').split(',')
    .map((c) => (c.startsWith('chacha') ? 'chacha20-poly1305@openssh.com' : 'aes128-gcm@openssh.com'));
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const pollMs = Number(process.env.BENCH_POLL_MS ?? 20);
  console.log(`load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (const mib of (process.env.BENCH_SIZES ?? '1024').split(',').map(Number)) {
    const src = join(dir, 'src.bin');
    sh('sh', ['-c', `head -c ${mib}M /dev/urandom > ${src}`]);
    for (const { ep } of sides) writeFileSync(join(ep.home, 'f.bin'), readFileSync(src));
    sh('sync', []);
    for (const cipher of ciphers) {
      // untimed: a first download through each side (page cache, code paths)
      for (const s of sides) await transfer(s.ep, s.ours, key, cipher, pollMs);
      const results = new Map<string, Result[]>();
      for (let r = 0; r < rounds; r++) {
        for (const s of sides.map((_, i) => sides[(i + r) % sides.length]!)) {
          const res = await transfer(s.ep, s.ours, key, cipher, pollMs);
          results.set(s.ep.name, [...(results.get(s.ep.name) ?? []), res]);
          console.log(`${mib} MiB ${cipher} round ${r + 1} ${s.ep.name}: ${res.wall.toFixed(2)} s, ${(mib * 1.048576 / res.wall).toFixed(0)} MB/s, machine busy ${(100 * res.machineBusy).toFixed(0)} %, load ${loadavg()[0]!.toFixed(2)}`);
          for (const [label, c] of res.rows) console.log(fmtRow(label, c, res.wall));
          console.log(`    client rx queue (${res.rxQueue.length} samples): ${rxSummary(res.rxQueue)}`);
        }
      }
      for (const [name, rs] of results) {
        const mbps = rs.map((x) => mib * 1.048576 / x.wall);
        console.log(`${mib} MiB ${cipher} ${name}: MB/s min/median/max ${Math.min(...mbps).toFixed(0)}/${median(mbps).toFixed(0)}/${Math.max(...mbps).toFixed(0)}`);
        const total = (x: Result, client: boolean): number => [...x.rows].filter(([l]) => l.startsWith('client') === client)
          .reduce((sum, [, c]) => sum + (c.user + c.sys) * TICK_S, 0);
        const srv = rs.map((x) => total(x, false));
        const cli = rs.map((x) => total(x, true));
        console.log(`    server CPU s min/median/max ${Math.min(...srv).toFixed(2)}/${median(srv).toFixed(2)}/${Math.max(...srv).toFixed(2)}, client ${Math.min(...cli).toFixed(2)}/${median(cli).toFixed(2)}/${Math.max(...cli).toFixed(2)}`);
        const labels = [...new Set(rs.flatMap((x) => [...x.rows.keys()]))];
        for (const l of labels) {
          const med = (f: (c: TaskCpu) => number): number => median(rs.map((x) => f(x.rows.get(l) ?? ZERO)));
          console.log(`    ${l.padEnd(32)} median user ${(med((c) => c.user) * TICK_S).toFixed(2)} sys ${(med((c) => c.sys) * TICK_S).toFixed(2)} s, waiting for a cpu ${(med((c) => c.waitNs) / 1e9).toFixed(2)} s, sleeps ${med((c) => c.sleeps)}, preempted ${med((c) => c.preempted)}`);
        }
      }
    }
  }
  console.log(`load average at end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

main().catch((e: unknown) => { console.error(e); process.exitCode = 1; }).finally(killAll);
