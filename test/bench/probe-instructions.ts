/**
 * User-space instructions our server executes per byte of an SFTP transfer,
 * counted by valgrind's callgrind: a measure of a change that the machine's
 * load does not move (CPU time on a shared 2-core machine varies by ±50%).
 * Kernel work (socket and page-cache copies) is not counted.
 *
 * Each build (this checkout, and BENCH_B's if set) is started under callgrind,
 * warmed by BENCH_WARM transfers (default 3: V8 has optimized the hot path
 * by then), then the counters are zeroed, BENCH_ROUNDS transfers of
 * BENCH_SIZES MiB (first size only) are made and the counters dumped.
 * BENCH_DIRECTION=down (default) or up; BENCH_CIPHER=aes (default) or chacha.
 * `node dist/test/bench/probe-instructions.js` (not part of npm run bench).
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sshArgs } from './rows';
import { type Endpoint, makeCert, startOurs } from './servers';
import { benchDirWithKey, installSignalCleanup, killAll, sh } from './util';

function transfer(ep: Endpoint, key: string, cipher: string, batch: string): void {
  const r = spawnSync('sftp', [...sshArgs(ep, key, ['-c', cipher]), '-b', '-', `${ep.user}@127.0.0.1`],
    { input: batch, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sftp failed: ${r.stderr}`);
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
    sh('callgrind_control', ['-z', String(pid)]);
    for (let i = 0; i < rounds; i++) transfer(ep, key, cipher, batch);
    sh('callgrind_control', ['-d', String(pid)]);
    const ir = dumpedIr(cgDir, pid);
    console.log(`${name.padEnd(10)} ${up ? 'up' : 'down'} ${cipher} ${rounds} x ${mib} MiB: ${(ir / 1e6).toFixed(0)} M instructions, ${(ir / (rounds * mib * 1024 * 1024)).toFixed(2)} per byte`);
    const exited = once(ours.proc, 'exit');
    ours.proc.kill('SIGTERM');
    await exited;
  }
}

main().catch((e: unknown) => { console.error(e); process.exitCode = 1; }).finally(killAll);
