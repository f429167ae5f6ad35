/**
 * Storage measurement: an SFTP upload and download of one file (1 GiB by
 * default, S3_BENCH_MB) through the real daemon to a user whose home is on
 * S3 (s3rver in its own process), with OpenSSH's sftp; the daemon's RSS is
 * sampled from /proc during each transfer. Beside it, rclone (SFTPGo's peer
 * for object storage) copies the same file to and from the same s3rver, with
 * the daemon's part size and concurrency, and each of our transfers prints
 * its throughput ratio to rclone's. Prints one JSON line per transfer.
 *   node dist/test/bench/storage-s3.js
 * S3_BENCH_ROUNDS (default 2) repeats the four transfers: the first round
 * runs on a fresh daemon, the next ones show a settled process.
 * S3_BENCH_BACKEND=local runs our transfers to a local home (the baseline the
 * S3 figures compare with) and skips rclone.
 * S3_BENCH_BREAKDOWN=1 (diagnosis, costs CPU): also reads /proc/<pid>/smaps
 * every 100 ms during the daemon's transfers and prints, for each, the RSS
 * growth from its start to its peak by kind of mapping (file-backed,
 * [heap], anonymous mmaps, code) and the mappings that grew most, beside
 * V8's own figures at those two moments (from rss-probe, loaded into the
 * daemon with --require for this run only).
 * S3_BENCH_LOGIN_FIRST=1: before round 1, one more figure, a session that
 * only logs in and lists / (the first S3 login loads the S3 SDK), measured
 * on its own; round 1's upload is then labelled "fresh, after a login".
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { removeDaemonDir, startDaemon, stopDaemon } from '../support/daemon';
import { s3config, startS3rver, type TestS3 } from '../support/s3rver';
import { httpconfig, startHttpFsServer } from '../support/httpfs-server';
import { writeKeyPair } from '../support/sshkeys';
import { keyOpts, run } from '../e2e/sftpd/openssh';
import { counterDelta, ensureBenchTools, procCounters } from './util';
import { growthByKind, snapshot, topGrowth, type Snapshot } from './rss-breakdown';

const MB = 1024 * 1024;
const BACKEND = process.env.S3_BENCH_BACKEND ?? 's3';
const LOCAL = BACKEND === 'local';
const HTTPFS = BACKEND === 'httpfs';
/** rclone copies beside ours only when the home is on S3 */
const NO_RCLONE = LOCAL || HTTPFS;
/** rounds of the four transfers (S3_BENCH_ROUNDS, default 2): round 1 on a fresh daemon, the others on a settled one */
const ROUNDS = Math.max(1, Number(process.env.S3_BENCH_ROUNDS ?? '2'));
const BREAKDOWN = process.env.S3_BENCH_BREAKDOWN === '1';
const LOGIN_FIRST = process.env.S3_BENCH_LOGIN_FIRST === '1';
const PROBE_FILE = join(tmpdir(), `rss-probe-${process.pid}.jsonl`);

async function rssKiB(pid: number): Promise<number> {
  const status = await fsp.readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

interface Measured<T> {
  result: T;
  baseMiB: number;
  peakMiB: number;
  seconds: number;
  /** CPU seconds of the daemon and of s3rver during the transfer (wall time means little on a shared machine) */
  serverCpu: number;
  s3Cpu: number;
  /** S3_BENCH_BREAKDOWN: smaps at the start and at the peak */
  smaps?: { base: Snapshot; peak: Snapshot };
}

const TICKS_PER_S = 100;
let cpuPids = { server: 0, s3: 0 };

/** Samples the RSS of a process every 100 ms while `work` runs; `work` may name the process once it has started it. */
async function measured<T>(pid: number, work: (setPid: (p: number) => void) => Promise<T>): Promise<Measured<T>> {
  let watched = pid;
  const base = pid > 0 ? await rssKiB(pid) : 0;
  let peak = base;
  const sample = (): void => {
    if (watched > 0) rssKiB(watched).then((r) => { peak = Math.max(peak, r); }, () => undefined);
  };
  const timer = setInterval(sample, 100);
  let smaps: { base: Snapshot; peak: Snapshot } | undefined;
  let smapsTimer: NodeJS.Timeout | undefined;
  if (BREAKDOWN && pid > 0) {
    const first = await snapshot(pid);
    smaps = { base: first, peak: first };
    let reading = false;
    smapsTimer = setInterval(() => {
      if (reading) return;
      reading = true;
      snapshot(pid).then((s) => { if (smaps && s.rssKiB > smaps.peak.rssKiB) smaps.peak = s; }, () => undefined).finally(() => { reading = false; });
    }, 100);
  }
  const cpu0 = { server: procCounters(cpuPids.server), s3: procCounters(cpuPids.s3) };
  const start = process.hrtime.bigint();
  try {
    const result = await work((p) => { watched = p; sample(); });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    peak = Math.max(peak, await rssKiB(watched).catch(() => 0));
    const cpu = (pid: number, before: ReturnType<typeof procCounters>): number => counterDelta(before, procCounters(pid)).cpuTicks / TICKS_PER_S;
    return { result, baseMiB: base / 1024, peakMiB: peak / 1024, seconds, serverCpu: cpu(cpuPids.server, cpu0.server), s3Cpu: cpu(cpuPids.s3, cpu0.s3), smaps };
  } finally {
    clearInterval(timer);
    clearInterval(smapsTimer);
  }
}

/** rclone with a remote named `s3` on the test server, configured through its environment (no config file). */
async function rclone(s3: TestS3, args: string[], onStart: (pid: number) => void): Promise<void> {
  // AWS_CA_BUNDLE (set on some machines for outbound TLS) makes rclone's S3 client refuse its own HTTP transport; the test server is plain http
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.startsWith('RCLONE_')));
  const env = {
    ...inherited, RCLONE_CONFIG: '/dev/null', RCLONE_CONFIG_S3_TYPE: 's3', RCLONE_CONFIG_S3_PROVIDER: 'Other',
    RCLONE_CONFIG_S3_ENDPOINT: s3.endpoint, RCLONE_CONFIG_S3_ACCESS_KEY_ID: 'S3RVER', RCLONE_CONFIG_S3_SECRET_ACCESS_KEY: 'S3RVER',
    RCLONE_CONFIG_S3_REGION: 'us-east-1', RCLONE_CONFIG_S3_FORCE_PATH_STYLE: 'true',
  };
  const child = spawn('/usr/bin/rclone', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  onStart(child.pid as number);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const [code] = await once(child, 'exit') as [number | null];
  if (code !== 0) throw new Error(`rclone ${args.join(' ')} exited with ${String(code)}: ${stderr}`);
}

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(file)) h.update(c as Buffer);
  return h.digest('hex');
}

/** One JSON line; a long-running server reports its RSS growth, a client process started for the copy its peak RSS. */
async function report(transfer: string, sizeMB: number, m: Measured<unknown>, extra: Record<string, unknown>): Promise<void> {
  const rss = m.baseMiB > 0 && !transfer.startsWith('rclone')
    ? { rss_base_mib: Number(m.baseMiB.toFixed(1)), rss_peak_mib: Number(m.peakMiB.toFixed(1)), rss_growth_mib: Number((m.peakMiB - m.baseMiB).toFixed(1)) }
    : { rss_peak_mib: Number(m.peakMiB.toFixed(1)) };
  console.log(JSON.stringify({
    transfer, size_mib: sizeMB, seconds: Number(m.seconds.toFixed(2)), mib_per_s: Number((sizeMB / m.seconds).toFixed(1)), ...rss,
    ...(transfer.startsWith('rclone') ? {} : { server_cpu_s: m.serverCpu }), s3rver_cpu_s: m.s3Cpu, ...extra,
  }));
  if (m.smaps) await printBreakdown(m.smaps.base, m.smaps.peak);
}

/** S3_BENCH_BREAKDOWN: growth from base to peak by kind of mapping, the top mappings, and V8's figures at both moments. */
async function printBreakdown(base: Snapshot, peak: Snapshot): Promise<void> {
  const mib = (k: number): number => Number((k / 1024).toFixed(1));
  const lines = (await fsp.readFile(PROBE_FILE, 'utf8').catch(() => '')).split('\n').filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { t: number } & Record<string, unknown>);
  const probes = lines.filter((p) => p.gc === undefined);
  const gcs = lines.filter((p) => p.gc !== undefined && p.t >= base.at && p.t <= peak.at);
  const near = (t: number): Record<string, unknown> | undefined => probes.reduce<({ t: number } & Record<string, unknown>) | undefined>(
    (best, p) => (best === undefined || Math.abs(p.t - t) < Math.abs(best.t - t) ? p : best), undefined);
  console.log(JSON.stringify({
    smaps_growth_mib: mib(peak.rssKiB - base.rssKiB), threads: `${base.threads} -> ${peak.threads}`, peak_after_s: (peak.at - base.at) / 1000,
    by_kind_mib: Object.fromEntries(growthByKind(base, peak).map((g) => [g.kind, mib(g.deltaKiB)])),
  }));
  for (const line of topGrowth(base, peak, 12)) console.log(`  ${line}`);
  console.log(JSON.stringify({ v8_at_base: near(base.at) }));
  console.log(JSON.stringify({ v8_at_peak: near(peak.at) }));
  const during = probes.filter((p) => p.t >= base.at && p.t <= peak.at);
  const max = (k: string): number => mib(Math.max(0, ...during.map((p) => Number(p[k]))));
  console.log(JSON.stringify({
    v8_max_until_peak_mib: { arrayBuffers: max('arrayBuffers'), external: max('external'), heapTotal: max('heapTotal') },
    gcs_until_peak: Object.fromEntries(['minor', 'major', 'incremental'].map((k) => [k, gcs.filter((g) => g.gc === k).length])),
  }));
}

async function main(): Promise<void> {
  const sizeMB = Number(process.env.S3_BENCH_MB ?? '1024');
  if (!NO_RCLONE) ensureBenchTools(new Set(['storage']));
  const s3 = await startS3rver('bench');
  const httpfs = HTTPFS ? await startHttpFsServer() : undefined;
  const d = await startDaemon(BREAKDOWN
    ? { env: { NODE_OPTIONS: `--require ${join(__dirname, 'rss-probe.js')}`, RSS_PROBE_FILE: PROBE_FILE } } : {});
  try {
    const key = await writeKeyPair(d.dir, 'bench', 'ed25519');
    const created = await d.api('POST', '/users', {
      username: 'bench', status: 1, home_dir: join(d.dir, 'home'), permissions: { '/': ['*'] }, public_keys: [key.publicKey],
      filesystem: LOCAL ? { provider: 0 } : httpfs ? { provider: 6, httpconfig: httpconfig(httpfs) } : { provider: 1, s3config: s3config(s3, { key_prefix: 'bench/' }) },
    });
    if (created.status !== 201) throw new Error(`user not created: ${created.status} ${JSON.stringify(created.json)}`);
    const src = join(d.dir, 'src.bin');
    const block = Buffer.alloc(MB);
    for (let i = 0; i < MB; i += 32) block.writeUInt32LE((Math.random() * 0xffffffff) >>> 0, i);
    const fh = await fsp.open(src, 'w');
    for (let i = 0; i < sizeMB; i++) { block.writeUInt32LE(i, 0); await fh.write(block); }
    await fh.close();
    const srcSum = await sha256(src);
    const pid = d.proc.pid as number;
    cpuPids = { server: pid, s3: s3.pid };
    const sftp = (batch: string) => run('sftp', ['-P', String(d.sftpPort), ...keyOpts(key.privateKeyPath), '-b', '-', 'bench@127.0.0.1'],
      { input: batch, timeoutMs: 3_600_000 });
    // rclone with what the daemon uses by default: 5 MiB parts, 5 in flight, 5 download streams of 5 MiB chunks
    // --ignore-times: copy even when the destination looks the same (round 2 would otherwise be skipped)
    const rcloneFlags = ['--s3-chunk-size', '5Mi', '--s3-upload-concurrency', '5', '--multi-thread-streams', '5', '--s3-no-check-bucket', '--ignore-times'];
    const back = join(d.dir, 'back.bin');
    const rcloneBack = join(d.dir, 'rclone-back.bin');
    const where = LOCAL ? 'local disk' : HTTPFS ? 'HTTPFs (test service)' : 'S3 (s3rver)';
    const ratio = (ours: Measured<unknown>, ref: Measured<unknown> | undefined): Record<string, unknown> =>
      (ref ? { vs_rclone: Number((ref.seconds / ours.seconds).toFixed(2)) } : {});
    // round 1 starts from a fresh daemon (first use of the S3 code paths, heap limits still small); later
    // rounds show what one more transfer costs once the process has settled: both are printed
    if (LOGIN_FIRST) {
      const login = await measured(pid, () => sftp('ls /'));
      if (login.result.status !== 0) throw new Error(`login failed: ${login.result.stderr}`);
      await report(`SFTP login + ls /, ${where}: server (before any transfer)`, 0, login, { daemon: 'fresh' });
    }
    for (let round = 1; round <= ROUNDS; round++) {
      // interleaved: ours up, rclone up, ours down, rclone down (a load swing hits both sides)
      const up = await measured(pid, () => sftp(`put ${src} /big.bin`));
      if (up.result.status !== 0) throw new Error(`upload failed: ${up.result.stderr}`);
      const rUp = NO_RCLONE ? undefined : await measured(0, (setPid) => rclone(s3, ['copyto', src, 's3:bench/rclone/big.bin', ...rcloneFlags], setPid));
      const down = await measured(pid, () => sftp(`get /big.bin ${back}`));
      if (down.result.status !== 0) throw new Error(`download failed: ${down.result.stderr}`);
      const rDown = NO_RCLONE ? undefined : await measured(0, (setPid) => rclone(s3, ['copyto', 's3:bench/rclone/big.bin', rcloneBack, ...rcloneFlags], setPid));
      const tag = { round, daemon: round > 1 ? 'settled' : LOGIN_FIRST ? 'fresh, after a login' : 'fresh' };
      await report(`SFTP upload, ${where}: server`, sizeMB, up, { ...tag, ...ratio(up, rUp) });
      if (rUp) await report('rclone copyto S3 (s3rver): rclone process', sizeMB, rUp, { round });
      await report(`SFTP download, ${where}: server`, sizeMB, down, { ...tag, ...ratio(down, rDown), content_matches: (await sha256(back)) === srcSum });
      if (rDown) await report('rclone copyto from S3 (s3rver): rclone process', sizeMB, rDown, { round, content_matches: (await sha256(rcloneBack)) === srcSum });
    }
  } finally {
    await stopDaemon(d).catch(() => undefined);
    removeDaemonDir(d);
    await s3.stop();
    await httpfs?.stop();
    if (BREAKDOWN) console.log(`probe samples kept in ${PROBE_FILE}`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
