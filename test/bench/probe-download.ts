/**
 * Where a transfer's time goes, for each server: the OpenSSH `sftp` client
 * run under GNU time (its user/system CPU, that of its `ssh` child included)
 * beside the server's /proc CPU (all its threads, reaped children included),
 * for BENCH_SIZES MiB files, interleaved, then the median server CPU per GiB
 * of each side. BENCH_DIRECTION=down (default), up or both; BENCH_B=<another
 * build's checkout> adds that build as a third side (an A/B of server CPU per
 * byte that the machine's load disturbs less than wall time); BENCH_B_ENV='K=V ...' sets
 * environment variables of B's server only, BENCH_B_FLAGS node flags of B's server only.
 * `node dist/test/bench/probe-download.js` (not part of npm run bench).
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { primePageCache, sshArgs, settleDisk } from './rows';
import { type Endpoint, makeCert, startOpenSsh, startOurs } from './servers';
import { benchDirWithKey, counterDelta, installSignalCleanup, killAll, procCounters, sh } from './util';

/** read- and write-type system calls of `pid` so far, all its threads (/proc/<pid>/io syscr + syscw) */
function syscalls(pid: number): number {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    return Number(/syscr: (\d+)/.exec(io)?.[1] ?? 0) + Number(/syscw: (\d+)/.exec(io)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function main(): Promise<void> {
  installSignalCleanup();
  const { dir, key, pub } = benchDirWithKey('sftpgo-probe-');
  const cert = makeCert(dir);
  const ours = await startOurs(dir, pub, cert);
  const sides: Endpoint[] = [ours.sftp];
  // BENCH_B_ENV='K=V K2=V2': environment of B's server only (an experiment behind a variable)
  const envB = Object.fromEntries((process.env.BENCH_B_ENV ?? '').split(/\s+/).filter((kv) => kv.includes('='))
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const oursB = process.env.BENCH_B
    ? await startOurs(dir, pub, cert, { name: 'B', root: process.env.BENCH_B, env: envB, flags: (process.env.BENCH_B_FLAGS ?? '').split(/\s+/).filter((f) => f !== '') })
    : undefined;
  if (oursB) sides.push(oursB.sftp);
  sides.push(await startOpenSsh(dir, pub));
  const cipher = process.env.BENCH_CIPHER?.startsWith('chacha') ? 'chacha20-poly1305@openssh.com' : 'aes128-gcm@openssh.com';
  const dirs = (process.env.BENCH_DIRECTION ?? 'down') === 'both' ? ['down', 'up'] : [process.env.BENCH_DIRECTION ?? 'down'];
  console.log(`cipher ${cipher}, load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (const mib of (process.env.BENCH_SIZES ?? '16,256').split(',').map(Number)) {
    const src = join(dir, 'src.bin');
    sh('sh', ['-c', `head -c ${mib}M /dev/urandom > ${src}`]);
    for (const ep of sides) writeFileSync(join(ep.home, 'f.bin'), readFileSync(src));
    for (const direction of dirs) {
      const perGiB = new Map<string, number[]>();
      const mbps = new Map<string, number[]>();
      const calls = new Map<string, number[]>();
      for (let r = 0; r < Number(process.env.BENCH_ROUNDS ?? 4); r++) {
        // each side goes first in turn
        const order = sides.map((_, i) => sides[(i + r) % sides.length]!);
        for (const ep of order) {
          if (direction === 'up') primePageCache(dir, mib);
          settleDisk();
          const c0 = procCounters(ep.rootPid());
          const sc0 = syscalls(ep.rootPid());
          const batch = direction === 'up' ? `put ${src} up.bin\n` : 'get f.bin /dev/null\n';
          const t = spawnSync('/usr/bin/time', ['-f', '%e %U %S', 'sftp', ...sshArgs(ep, key, ['-c', cipher]), '-b', '-',
            `${ep.user}@127.0.0.1`], { input: batch, encoding: 'utf8' });
          await new Promise((res) => setTimeout(res, 300)); // sshd's session process exits and is reaped
          const c = counterDelta(c0, procCounters(ep.rootPid()));
          calls.set(ep.name, [...(calls.get(ep.name) ?? []), (syscalls(ep.rootPid()) - sc0) * 1024 / mib]);
          const [wall, user, sys] = t.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
          perGiB.set(ep.name, [...(perGiB.get(ep.name) ?? []), c.cpuTicks * 1024 / mib]);
          mbps.set(ep.name, [...(mbps.get(ep.name) ?? []), mib * 1.048576 / wall!]);
          if (process.env.BENCH_VERBOSE) {
            console.log(`${mib} MiB ${direction} ${ep.name.padEnd(10)} wall ${wall!.toFixed(2)} s  ${(mib * 1.048576 / wall!).toFixed(0)} MB/s  client cpu ${(user! + sys!).toFixed(2)} s  server cpu ${(c.cpuTicks / 100).toFixed(2)} s`);
          }
        }
      }
      for (const ep of sides) {
        const t = perGiB.get(ep.name)!;
        console.log(`${mib} MiB ${direction} ${ep.name.padEnd(10)} server ticks/GiB median ${median(t).toFixed(0)} (${t.map((x) => x.toFixed(0)).join(' ')})  MB/s median ${median(mbps.get(ep.name)!).toFixed(0)}  read/write syscalls/GiB median ${median(calls.get(ep.name)!).toFixed(0)}`);
      }
    }
  }
  console.log(`load average at end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  if (process.env.BENCH_PROF) {
    // a graceful exit, so node writes the CPU profile
    const exited = once(ours.proc, 'exit');
    ours.proc.kill('SIGTERM');
    await exited;
  }
}

main().catch((e: unknown) => { console.error(e); process.exitCode = 1; }).finally(killAll);
