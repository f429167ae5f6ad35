/**
 * Where a download's time goes, for both servers: the OpenSSH `sftp` client
 * run under GNU time (its user/system CPU, that of its `ssh` child included)
 * beside the server's /proc CPU, for `get` of BENCH_SIZES MiB files,
 * interleaved. `node dist/test/bench/probe-download.js` (not part of npm run bench).
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sshArgs, settleDisk } from './rows';
import { makeCert, startOpenSsh, startOurs } from './servers';
import { counterDelta, installSignalCleanup, killAll, onCleanup, procCounters, sh } from './util';

async function main(): Promise<void> {
  installSignalCleanup();
  const dir = mkdtempSync(join(tmpdir(), 'sftpgo-probe-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const key = join(dir, 'id_ed25519');
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  const pub = readFileSync(`${key}.pub`, 'utf8');
  const ours = await startOurs(dir, pub, makeCert(dir));
  const sides = [ours.sftp, await startOpenSsh(dir, pub)];
  const cipher = process.env.BENCH_CIPHER?.startsWith('chacha') ? 'chacha20-poly1305@openssh.com' : 'aes128-gcm@openssh.com';
  for (const mib of (process.env.BENCH_SIZES ?? '16,256').split(',').map(Number)) {
    const src = join(dir, 'src.bin');
    sh('sh', ['-c', `head -c ${mib}M /dev/urandom > ${src}`]);
    for (const ep of sides) writeFileSync(join(ep.home, 'f.bin'), readFileSync(src));
    for (let r = 0; r < Number(process.env.BENCH_ROUNDS ?? 4); r++) {
      for (const ep of r % 2 === 0 ? sides : [...sides].reverse()) {
        settleDisk();
        const c0 = procCounters(ep.rootPid());
        const t = spawnSync('/usr/bin/time', ['-f', '%e %U %S', 'sftp', ...sshArgs(ep, key, ['-c', cipher]), '-b', '-',
          `${ep.user}@127.0.0.1`], { input: 'get f.bin /dev/null\n', encoding: 'utf8' });
        await new Promise((res) => setTimeout(res, 300)); // sshd's session process exits and is reaped
        const c = counterDelta(c0, procCounters(ep.rootPid()));
        const [wall, user, sys] = t.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
        console.log(`${mib} MiB ${ep.name.padEnd(10)} wall ${wall!.toFixed(2)} s  ${(mib * 1.048576 / wall!).toFixed(0)} MB/s  client cpu ${(user! + sys!).toFixed(2)} s  server cpu ${(c.cpuTicks / 100).toFixed(2)} s`);
      }
    }
  }
  if (process.env.BENCH_PROF) {
    // a graceful exit, so node writes the CPU profile
    const exited = once(ours.proc, 'exit');
    ours.proc.kill('SIGTERM');
    await exited;
  }
}

main().catch((e: unknown) => { console.error(e); process.exitCode = 1; }).finally(killAll);
