/**
 * Start-up cost of `sftpgo` processes, A/B of builds in the same rounds
 * (this machine is noisy: only figures measured side by side mean anything):
 *   node dist/test/bench/startup.js [rounds] [dist dir of another build...]
 * For each build (this one first): `--version` wall time, CPU (user+sys) and
 * peak RSS from /usr/bin/time; `serve` (sqlite, local, sftpd + httpd on free
 * ports, host keys and schema made by a warm-up run) time until both ports
 * accept, CPU at that moment, RSS 1 s later. Medians with [min-max].
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../support/net';

interface Sample { [figure: string]: number }

const CLOCK_TICK_MS = 10;
const READY_POLLS = 3000;

function mainOf(dist: string): string {
  return path.join(dist, 'src', 'cmd', 'main.js');
}

function versionSample(dist: string): Sample {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', process.execPath, mainOf(dist), '--version'], { encoding: 'utf8' });
  const last = r.stderr.trim().split('\n').pop() ?? '';
  const [wall, user, sys, maxKb] = last.split(' ').map(Number);
  if (r.status !== 0 || [wall, user, sys, maxKb].some((n) => n === undefined || Number.isNaN(n))) {
    throw new Error(`--version of ${dist} failed: ${r.stderr}`);
  }
  return { 'version wall ms': (wall ?? 0) * 1000, 'version cpu ms': ((user ?? 0) + (sys ?? 0)) * 1000, 'version maxrss MiB': (maxKb ?? 0) / 1024 };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.on('connect', () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
  });
}

function cpuMs(pid: number): number {
  const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS;
}

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
}

async function serveSample(dist: string, dir: string): Promise<Sample> {
  const sftpPort = await freePort();
  const httpPort = await freePort();
  writeFileSync(path.join(dir, 'sftpgo.json'), JSON.stringify({
    sftpd: { bindings: [{ port: sftpPort, address: '127.0.0.1' }] },
    httpd: { bindings: [{ port: httpPort, address: '127.0.0.1' }] },
  }));
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [mainOf(dist), 'serve', '-c', dir, '-l', '', '-L', 'error'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  try {
    let ready = false;
    for (let i = 0; i < READY_POLLS && !ready && child.exitCode === null; i++) {
      ready = (await accepts(sftpPort)) && (await accepts(httpPort));
      if (!ready) await sleep(5);
    }
    if (!ready || child.pid === undefined) throw new Error(`serve of ${dist} did not open its ports`);
    const readyMs = Number(process.hrtime.bigint() - started) / 1e6;
    const cpu = cpuMs(child.pid);
    await sleep(1000);
    return { 'serve ready ms': readyMs, 'serve cpu-at-ready ms': cpu, 'serve rss+1s MiB': rssMiB(child.pid) };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 10);
  const dists = [path.resolve(__dirname, '..', '..'), ...process.argv.slice(3).map((d) => path.resolve(d))];
  const dirs = dists.map(() => mkdtempSync(path.join(tmpdir(), 'bench-startup-')));
  try {
    // warm-up: host keys and the sqlite schema are made once, outside the figures
    for (const [i, d] of dists.entries()) await serveSample(d, dirs[i] ?? '');
    const samples: Sample[][] = dists.map(() => []);
    for (let r = 0; r < rounds; r++) {
      // alternate which build goes first
      const order = r % 2 === 0 ? [...dists.keys()] : [...dists.keys()].reverse();
      for (const i of order) {
        const d = dists[i] ?? '';
        samples[i]?.push({ ...versionSample(d), ...(await serveSample(d, dirs[i] ?? '')) });
      }
    }
    for (const [i, d] of dists.entries()) {
      const s = samples[i] ?? [];
      const figures = Object.keys(s[0] ?? {}).map((k) => {
        const v = s.map((x) => x[k] ?? NaN);
        return `${k} ${median(v).toFixed(0)} [${Math.min(...v).toFixed(0)}-${Math.max(...v).toFixed(0)}]`;
      });
      console.log(`${d}\n  ${figures.join('\n  ')}`);
    }
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
