/**
 * User-space instructions our server executes per byte of an SFTP transfer,
 * counted by valgrind's callgrind: a measure of a change that the machine's
 * load does not move (CPU time on a shared 2-core machine varies by ±50%).
 * Kernel work (socket and page-cache copies) is not counted.
 *
 * Each build (this checkout, and BENCH_B's if set) is started under callgrind,
 * warmed by BENCH_WARM transfers (default 3), then the counters are zeroed,
 * BENCH_ROUNDS transfers of BENCH_SIZES MiB (first size only) are made and
 * the counters dumped. 3 warm-ups are not a steady state: code that runs once
 * per SFTP packet (~2048 per 64 MiB) earns TurboFan only after several
 * transfers, so V8 is still tiering up in the window (main, 2 x 64 MiB
 * aes128-gcm down: TurboFan 201 M of 801 M instructions after 3 warm-ups,
 * 15-27 M of ~596 M after 16; no function optimized more than twice,
 * probe-tierup.ts). For an A/B use BENCH_SIZES=64 BENCH_WARM=16, or compare
 * the main-thread figures.
 * BENCH_DIRECTION=down (default) or up; BENCH_CIPHER=aes (default) or chacha.
 * Each line also splits the total into the main thread (uv_run) and V8's
 * optimizing compiler (TurboFan's concurrent CompileTask): compiler work in the
 * window means V8 was still tiering up (or re-optimizing) during those transfers.
 * BENCH_KEEP=<dir> copies the dumps there (callgrind_annotate reads them).
 * With BENCH_SERVER_FLAGS='--trace-opt --trace-deopt' and BENCH_SERVER_STDOUT=<file>
 * the line also gives the offsets of that file at the zeroing and at the dump:
 * what V8 optimized and deoptimized inside the counted window.
 * `node dist/test/bench/probe-instructions.js` (not part of npm run bench).
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sshArgs } from './rows';
import { type Endpoint, makeCert, startOurs } from './servers';
import { benchDirWithKey, installSignalCleanup, killAll, sh } from './util';

function transfer(ep: Endpoint, key: string, cipher: string, batch: string): void {
  const r = spawnSync('sftp', [...sshArgs(ep, key, ['-c', cipher]), '-b', '-', `${ep.user}@127.0.0.1`],
    { input: batch, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sftp failed: ${r.stderr}`);
}

/** Inclusive Ir of the first function whose name contains `fn` in the dumps of `pid`, 0 if none. */
function inclusiveIr(dir: string, pid: number, fn: string): number {
  let total = 0;
  for (const f of readdirSync(dir).filter((d) => d.startsWith(`callgrind.out.${pid}.`))) {
    const out = sh('callgrind_annotate', ['--inclusive=yes', '--threshold=100', join(dir, f)]);
    const line = out.split('\n').find((l) => l.includes(fn));
    total += Number(/^\s*([\d,]+)/.exec(line ?? '')?.[1]?.replace(/,/g, '') ?? 0);
  }
  return total;
}

/** Sum of the "summary:"/"totals:" Ir lines of the dumps callgrind wrote for `pid` after the zeroing. */
function dumpedIr(dir: string, pid: number): number {
  const dumps = readdirSync(dir).filter((f) => f.startsWith(`callgrind.out.${pid}.`));
  if (dumps.length === 0) throw new Error(`no callgrind dump in ${dir}: ${readdirSync(dir).join(' ')}`);
  let total = 0;
  for (const f of dumps) {
    const m = /^(?:summary|totals): (\d+)/m.exec(readFileSync(join(dir, f), 'utf8'));
    if (m) total += Number(m[1]);
  }
  return total;
}

async function main(): Promise<void> {
  installSignalCleanup();
  const { dir, key, pub } = benchDirWithKey('sftpgo-instr-');
  const cert = makeCert(dir);
  const cipher = process.env.BENCH_CIPHER?.startsWith('chacha') ? 'chacha20-poly1305@openssh.com' : 'aes128-gcm@openssh.com';
  const mib = Number((process.env.BENCH_SIZES ?? '64').split(',')[0]);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
  const warm = Number(process.env.BENCH_WARM ?? 3);
  const up = process.env.BENCH_DIRECTION === 'up';
  const src = join(dir, 'src.bin');
  sh('sh', ['-c', `head -c ${mib}M /dev/urandom > ${src}`]);
  const builds: Array<[string, string | undefined]> = [['sftpgo-ts', undefined]];
  if (process.env.BENCH_B) builds.push(['B', process.env.BENCH_B]);
  for (const [name, root] of builds) {
    const cgDir = join(dir, `cg-${name}`);
    sh('mkdir', ['-p', cgDir]);
    const wrapper = ['valgrind', '--tool=callgrind', '--trace-children=no',
      `--callgrind-out-file=${join(cgDir, 'callgrind.out.%p')}`];
    const ours = await startOurs(dir, pub, cert, { name, ...(root ? { root } : {}), wrapper, startTimeoutMs: 600_000 });
    const ep = ours.sftp;
    sh('cp', [src, join(ep.home, 'f.bin')]);
    const batch = up ? `put ${src} up.bin\n` : 'get f.bin /dev/null\n';
    for (let i = 0; i < warm; i++) transfer(ep, key, cipher, batch);
    const pid = ours.proc.pid ?? 0;
    const traceAt = (): number => (process.env.BENCH_SERVER_STDOUT ? statSync(process.env.BENCH_SERVER_STDOUT).size : 0);
    sh('callgrind_control', ['-z', String(pid)]);
    const traceFrom = traceAt();
    for (let i = 0; i < rounds; i++) transfer(ep, key, cipher, batch);
    sh('callgrind_control', ['-d', String(pid)]);
    const traceTo = traceAt();
    const ir = dumpedIr(cgDir, pid);
    const mainThread = inclusiveIr(cgDir, pid, 'uv_run');
    const turbofan = inclusiveIr(cgDir, pid, 'OptimizingCompileDispatcher::CompileTask::RunInternal');
    console.log(`${name.padEnd(10)} ${up ? 'up' : 'down'} ${cipher} ${rounds} x ${mib} MiB after ${warm} warm-up: ${(ir / 1e6).toFixed(0)} M instructions, ${(ir / (rounds * mib * 1024 * 1024)).toFixed(2)} per byte (main thread ${(mainThread / 1e6).toFixed(1)} M, TurboFan ${(turbofan / 1e6).toFixed(1)} M)${traceTo > 0 ? `, window in ${process.env.BENCH_SERVER_STDOUT}: bytes ${traceFrom}-${traceTo}` : ''}`);
    if (process.env.BENCH_KEEP) sh('cp', ['-r', cgDir, join(process.env.BENCH_KEEP, `${name}-w${warm}-${pid}`)]);
    const exited = once(ours.proc, 'exit');
    ours.proc.kill('SIGTERM');
    await exited;
  }
}

main().catch((e: unknown) => { console.error(e); process.exitCode = 1; }).finally(killAll);
