/**
 * What V8 optimizes and deoptimizes in our server, transfer by transfer: the
 * server runs with --trace-opt --trace-deopt into a file, BENCH_ROUNDS
 * (default 16) OpenSSH `sftp` downloads of one BENCH_SIZES MiB file (first
 * size, default 64) are made one after another, and after each the new part
 * of the trace is summed up: the functions TurboFan finished, the time its
 * background thread spent on them (wall ms: the machine's load inflates it),
 * and each deoptimization with its reason.
 *
 * A recurring optimize/deoptimize cycle shows as the same functions in every
 * transfer; V8 still tiering up shows as new functions, fewer each transfer.
 * BENCH_CIPHER=aes (default) or chacha. BENCH_TRACE=<file> keeps the trace.
 * `node dist/test/bench/probe-tierup.js` (not part of npm run bench).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sshArgs } from './rows';
import { makeCert, startOurs } from './servers';
import { benchDirWithKey, installSignalCleanup, killAll, sh } from './util';

interface TraceSummary { optimized: string[]; compileMs: number; deopts: string[] }

/** The TurboFan jobs completed and the deoptimizations in a piece of --trace-opt --trace-deopt output. */
export function summarizeTrace(chunk: string): TraceSummary {
  const optimized = [...chunk.matchAll(/\[completed optimizing [^<]*<JSFunction ([^ ]*) /g)].map((m) => m[1] ?? '');
  // "took <prepare>, <execute>, <finalize> ms": execute is the part on the background thread
  const compileMs = [...chunk.matchAll(/\[completed compiling [^\]]*? took [\d.]+, ([\d.]+), /g)]
    .reduce((sum, m) => sum + Number(m[1]), 0);
  const deopts = [...chunk.matchAll(/\[bailout \(kind: ([^,]*), reason: ([^)]*)\): begin\. deoptimizing [^<]*<JSFunction ([^ ]*) /g)]
    .map((m) => `${m[3] ?? ''} (${m[1] ?? ''}: ${m[2] ?? ''})`);
  return { optimized, compileMs, deopts };
}

async function main(): Promise<void> {
  installSignalCleanup();
  const { dir, key, pub } = benchDirWithKey('sftpgo-tierup-');
  const trace = process.env.BENCH_TRACE ?? join(dir, 'trace.txt');
  writeFileSync(trace, '');
  // startOurs appends these flags and sends the server's stdout (where V8 traces) to the file
  process.env.BENCH_SERVER_FLAGS = `${process.env.BENCH_SERVER_FLAGS ?? ''} --trace-opt --trace-deopt`;
  process.env.BENCH_SERVER_STDOUT = trace;
  const ours = await startOurs(dir, pub, makeCert(dir));
  const ep = ours.sftp;
  const cipher = process.env.BENCH_CIPHER?.startsWith('chacha') ? 'chacha20-poly1305@openssh.com' : 'aes128-gcm@openssh.com';
  const mib = Number((process.env.BENCH_SIZES ?? '64').split(',')[0]);
  sh('sh', ['-c', `head -c ${mib}M /dev/urandom > ${join(ep.home, 'f.bin')}`]);
  let seen = readFileSync(trace, 'utf8').length;
  for (let i = 0; i < Number(process.env.BENCH_ROUNDS ?? 16); i++) {
    const r = spawnSync('sftp', [...sshArgs(ep, key, ['-c', cipher]), '-b', '-', `${ep.user}@127.0.0.1`],
      { input: 'get f.bin /dev/null\n', encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`sftp failed: ${r.stderr}`);
    // the session's teardown runs after the client has gone
    await new Promise((res) => setTimeout(res, 300));
    const all = readFileSync(trace, 'utf8');
    const s = summarizeTrace(all.slice(seen));
    seen = all.length;
    console.log(`transfer ${i + 1}: ${s.optimized.length} optimized, compile thread ${s.compileMs.toFixed(1)} ms: ${s.optimized.join(' ')}`);
    if (s.deopts.length > 0) console.log(`  ${s.deopts.length} deoptimized: ${s.deopts.join(', ')}`);
  }
}

main().catch((e: unknown) => { console.error(e); process.exitCode = 1; }).finally(killAll);
