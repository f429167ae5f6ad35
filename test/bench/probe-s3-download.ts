/**
 * Where an S3 download's wall time goes (issue 11): one object on s3rver,
 * fetched with OpenSSH's `sftp get` through the daemon (and, with
 * S3_PROBE_B=<another built checkout>, through that build's daemon too, the
 * two alternating who goes first), and by `rclone copyto` when
 * S3_PROBE_RCLONE=1. Every 100 ms it samples the CPU of s3rver, the daemon
 * (all threads and the main thread alone), the sftp client and its ssh
 * process, and the queues of the loopback sockets (`ss`): bytes the daemon
 * has not read from s3rver (its Recv-Q), bytes s3rver could not send yet
 * (its Send-Q), bytes the daemon could not send to ssh yet. It prints per
 * transfer: wall time, CPU seconds of each process, the share of samples in
 * which each main thread was busy >= 90 % of the interval (an event loop
 * that is the bottleneck shows near 100 %), and the median queue sizes.
 *   node dist/test/bench/probe-s3-download.js
 * S3_PROBE_B_ENV='K=V ...' sets environment variables of B's daemon only.
 * S3_PROBE_MB (default 1024), S3_PROBE_ROUNDS (default 3), S3_PROBE_DEST
 * (`file`, the default, as the storage bench writes it; or `null`: /dev/null).
 * S3_PROBE_SSH_OPTS='-c aes128-ctr ...' gives sftp more options (both builds);
 * S3_PROBE_S3CONFIG='{"download_part_size":16}' more s3config keys.
 * S3_PROBE_STRACE=<file prefix>: s3rver's system call counts per transfer
 * (strace -c, written to <prefix>-<n>.txt; tracing slows s3rver down).
 * Not part of npm run bench.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { promises as fsp, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { removeDaemonDir, startDaemon, stopDaemon, type Daemon } from '../support/daemon';
import { s3config, startS3rver, type TestS3 } from '../support/s3rver';
import { writeKeyPair } from '../support/sshkeys';
import { keyOpts } from '../e2e/sftpd/openssh';

const MB = 1024 * 1024;
const SIZE_MB = Number(process.env.S3_PROBE_MB ?? '1024');
const ROUNDS = Math.max(1, Number(process.env.S3_PROBE_ROUNDS ?? '3'));
const TO_NULL = process.env.S3_PROBE_DEST === 'null';
/** S3_PROBE_SSH_OPTS: more options for sftp, space separated (e.g. '-c aes128-ctr') */
const SSH_OPTS = (process.env.S3_PROBE_SSH_OPTS ?? '').split(/\s+/).filter((o) => o !== '');
/** S3_PROBE_S3CONFIG='{"download_part_size":16}': more s3config keys for the user (both builds) */
const S3_EXTRA = JSON.parse(process.env.S3_PROBE_S3CONFIG ?? '{}') as Record<string, unknown>;
const TICKS_PER_S = 100;
const SAMPLE_MS = 100;
const STRACE = process.env.S3_PROBE_STRACE;
let traces = 0;

/** utime + stime of a process (all threads) or of one thread, in ticks; 0 once it is gone */
function ticks(path: string): number {
  try {
    const stat = readFileSync(path, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

interface Watched { name: string; path: string }

/** Send-Q/Recv-Q of established loopback sockets, keyed "local->peer" by port. */
function socketQueues(): { recvQ: number; sendQ: number; local: number; peer: number }[] {
  const out = spawnSync('ss', ['-Htn', 'state', 'established'], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter((l) => l.trim() !== '').map((l) => {
    const [recvQ, sendQ, local, peer] = l.trim().split(/\s+/);
    const port = (a: string | undefined): number => Number(a?.slice(a.lastIndexOf(':') + 1));
    return { recvQ: Number(recvQ), sendQ: Number(sendQ), local: port(local), peer: port(peer) };
  });
}

interface Sampled { seconds: number; cpu: Record<string, number>; busy: Record<string, number>; queues: Record<string, number> }

/** Runs `work` while sampling the watched processes and socket queues. */
async function sampled(watch: () => Watched[], ports: { s3: number; sftp: number; s3Pid: number }, work: () => Promise<void>): Promise<Sampled> {
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  const busySamples = new Map<string, number>();
  let samples = 0;
  const q: Record<string, number[]> = { daemon_unread_from_s3: [], s3rver_unsent: [], daemon_unsent_to_ssh: [], ssh_unread: [] };
  const sample = (): void => {
    samples++;
    for (const w of watch()) {
      const t = ticks(w.path);
      if (t === 0) continue;
      if (!first.has(w.name)) first.set(w.name, t);
      const prev = last.get(w.name);
      if (prev !== undefined && t - prev >= 0.9 * SAMPLE_MS * TICKS_PER_S / 1000) busySamples.set(w.name, (busySamples.get(w.name) ?? 0) + 1);
      last.set(w.name, t);
    }
    let a = 0; let b = 0; let c = 0; let d = 0;
    for (const s of socketQueues()) {
      if (s.peer === ports.s3) a += s.recvQ;
      if (s.local === ports.s3) b += s.sendQ;
      if (s.local === ports.sftp) c += s.sendQ;
      if (s.peer === ports.sftp) d += s.recvQ;
    }
    q.daemon_unread_from_s3!.push(a); q.s3rver_unsent!.push(b); q.daemon_unsent_to_ssh!.push(c); q.ssh_unread!.push(d);
  };
  const timer = setInterval(sample, SAMPLE_MS);
  // S3_PROBE_STRACE=<file prefix>: system call counts of s3rver during the transfer (strace -c; slows it down)
  const tracer = STRACE ? spawn('strace', ['-c', '-f', '-p', String(ports.s3Pid), '-o', `${STRACE}-${++traces}.txt`], { stdio: 'ignore' }) : undefined;
  if (tracer) await new Promise((resolve) => setTimeout(resolve, 300)); // strace attaches to every thread
  const t0 = process.hrtime.bigint();
  sample();
  await work();
  sample();
  clearInterval(timer);
  if (tracer) { tracer.kill('SIGINT'); await once(tracer, 'exit'); }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu: Record<string, number> = {};
  const busy: Record<string, number> = {};
  for (const [name, t] of last) {
    cpu[name] = Number(((t - (first.get(name) ?? t)) / TICKS_PER_S).toFixed(2));
    busy[name] = Number(((busySamples.get(name) ?? 0) / Math.max(1, samples - 1)).toFixed(2));
  }
  const queues = Object.fromEntries(Object.entries(q).map(([k, v]) => [k, Math.round(median(v) / 1024)]));
  return { seconds, cpu, busy, queues };
}

/** The direct children of pid (the ssh that sftp runs). */
function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((s) => s !== '').map(Number);
  } catch {
    return [];
  }
}

async function rcloneGet(s3: TestS3, dest: string): Promise<Sampled> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.startsWith('RCLONE_')));
  const env = {
    ...inherited, RCLONE_CONFIG: '/dev/null', RCLONE_CONFIG_S3_TYPE: 's3', RCLONE_CONFIG_S3_PROVIDER: 'Other',
    RCLONE_CONFIG_S3_ENDPOINT: s3.endpoint, RCLONE_CONFIG_S3_ACCESS_KEY_ID: 'S3RVER', RCLONE_CONFIG_S3_SECRET_ACCESS_KEY: 'S3RVER',
    RCLONE_CONFIG_S3_REGION: 'us-east-1', RCLONE_CONFIG_S3_FORCE_PATH_STYLE: 'true',
  };
  let pid = 0;
  const s3port = Number(new URL(s3.endpoint).port);
  return sampled(() => [{ name: 's3rver', path: `/proc/${s3.pid}/stat` }, { name: 's3rver_main', path: `/proc/${s3.pid}/task/${s3.pid}/stat` },
    ...(pid ? [{ name: 'rclone', path: `/proc/${pid}/stat` }] : [])], { s3: s3port, sftp: -1, s3Pid: s3.pid }, async () => {
    const child = spawn('/usr/bin/rclone', ['copyto', 's3:bench/bench/big.bin', dest, '--multi-thread-streams', '5', '--s3-chunk-size', '5Mi',
      '--ignore-times'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    pid = child.pid as number;
    const [code] = await once(child, 'exit') as [number | null];
    if (code !== 0) throw new Error(`rclone exited with ${String(code)}`);
  });
}

async function main(): Promise<void> {
  const s3 = await startS3rver('bench');
  const s3port = Number(new URL(s3.endpoint).port);
  const daemons: { name: string; d: Daemon }[] = [{ name: 'A', d: await startDaemon() }];
  // S3_PROBE_B_ENV='K=V ...': environment of B's daemon only (an experiment behind a variable)
  const envB = Object.fromEntries((process.env.S3_PROBE_B_ENV ?? '').split(/\s+/).filter((kv) => kv.includes('='))
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  if (process.env.S3_PROBE_B) daemons.push({ name: 'B', d: await startDaemon({ root: process.env.S3_PROBE_B, env: envB }) });
  const work = daemons[0]!.d.dir;
  try {
    const key = await writeKeyPair(work, 'bench', 'ed25519');
    for (const { d } of daemons) {
      const created = await d.api('POST', '/users', {
        username: 'bench', status: 1, home_dir: join(d.dir, 'home'), permissions: { '/': ['*'] }, public_keys: [key.publicKey],
        filesystem: { provider: 1, s3config: s3config(s3, { key_prefix: 'bench/', ...S3_EXTRA }) },
      });
      if (created.status !== 201) throw new Error(`user not created: ${created.status}`);
    }
    const src = join(work, 'src.bin');
    spawnSync('sh', ['-c', `head -c ${SIZE_MB}M /dev/urandom > ${src}`]);
    const sftp = (d: Daemon): ReturnType<typeof spawn> => spawn('sftp', ['-P', String(d.sftpPort), ...keyOpts(key.privateKeyPath), ...SSH_OPTS, '-b', '-',
      'bench@127.0.0.1'], { stdio: ['pipe', 'ignore', 'inherit'] });
    const runSftp = async (d: Daemon, batch: string, onPid: (pid: number) => void): Promise<void> => {
      const child = sftp(d);
      onPid(child.pid as number);
      child.stdin?.end(batch);
      const [code] = await once(child, 'exit') as [number | null];
      if (code !== 0) throw new Error(`sftp exited with ${String(code)}`);
    };
    await runSftp(daemons[0]!.d, `put ${src} /big.bin\n`, () => undefined);
    await fsp.rm(src);
    const dest = TO_NULL ? '/dev/null' : join(work, 'back.bin');
    console.log(JSON.stringify({ size_mib: SIZE_MB, dest, load_start: loadavg().map((l) => Number(l.toFixed(2))) }));
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? daemons : [...daemons].reverse();
      for (const { name, d } of order) {
        let clientPid = 0;
        const daemonPid = d.proc.pid as number;
        const m = await sampled(() => {
          const ssh = clientPid ? children(clientPid)[0] : undefined;
          return [
            { name: 's3rver', path: `/proc/${s3.pid}/stat` }, { name: 's3rver_main', path: `/proc/${s3.pid}/task/${s3.pid}/stat` },
            { name: 'daemon', path: `/proc/${daemonPid}/stat` }, { name: 'daemon_main', path: `/proc/${daemonPid}/task/${daemonPid}/stat` },
            ...(clientPid ? [{ name: 'sftp', path: `/proc/${clientPid}/stat` }] : []),
            ...(ssh ? [{ name: 'ssh', path: `/proc/${ssh}/stat` }] : []),
          ];
        }, { s3: s3port, sftp: d.sftpPort, s3Pid: s3.pid }, () => runSftp(d, `get /big.bin ${dest}\n`, (p) => { clientPid = p; }));
        const total = Object.entries(m.cpu).filter(([k]) => !k.endsWith('_main')).reduce((s, [, v]) => s + v, 0);
        console.log(JSON.stringify({ round, build: name, mib_per_s: Number((SIZE_MB / m.seconds).toFixed(1)), seconds: Number(m.seconds.toFixed(2)),
          cpu_s: m.cpu, cpu_sum_over_2_cores_x_wall: Number((total / (2 * m.seconds)).toFixed(2)), busy_share: m.busy, median_queue_kib: m.queues,
          load: Number(loadavg()[0]!.toFixed(2)) }));
      }
      if (process.env.S3_PROBE_RCLONE === '1') {
        const m = await rcloneGet(s3, join(work, 'rclone.bin'));
        console.log(JSON.stringify({ round, build: 'rclone', mib_per_s: Number((SIZE_MB / m.seconds).toFixed(1)), seconds: Number(m.seconds.toFixed(2)),
          cpu_s: m.cpu, busy_share: m.busy, median_queue_kib: { s3rver_unsent: m.queues.s3rver_unsent, rclone_unread: m.queues.daemon_unread_from_s3 },
          load: Number(loadavg()[0]!.toFixed(2)) }));
      }
    }
  } finally {
    for (const { d } of daemons) { await stopDaemon(d).catch(() => undefined); removeDaemonDir(d); }
    await s3.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
