/**
 * Storage measurement: an SFTP upload and download of one file (1 GiB by
 * default, S3_BENCH_MB) through the real daemon to a user whose home is on
 * S3 (s3rver in its own process), with OpenSSH's sftp; the daemon's RSS is
 * sampled from /proc during each transfer. Prints one JSON line per transfer.
 *   node dist/test/bench/storage-s3.js
 * S3_BENCH_BACKEND=local runs the same transfers to a local home (the baseline
 * the S3 figures compare with); S3_BENCH_BACKEND=httpfs to a home on the HTTPFs
 * test service (test/support/httpfs-server.ts, in this process).
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { removeDaemonDir, startDaemon, stopDaemon } from '../support/daemon';
import { s3config, startS3rver } from '../support/s3rver';
import { httpconfig, startHttpFsServer } from '../support/httpfs-server';
import { writeKeyPair } from '../support/sshkeys';
import { keyOpts, run } from '../e2e/sftpd/openssh';

const MB = 1024 * 1024;
const BACKEND = process.env.S3_BENCH_BACKEND ?? 's3';
const LOCAL = BACKEND === 'local';
const HTTPFS = BACKEND === 'httpfs';

async function rssKiB(pid: number): Promise<number> {
  const status = await fsp.readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

/** Samples the RSS of `pid` every 100 ms while `work` runs. */
async function measured<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; baseMiB: number; peakMiB: number; seconds: number }> {
  const base = await rssKiB(pid);
  let peak = base;
  const timer = setInterval(() => { rssKiB(pid).then((r) => { peak = Math.max(peak, r); }, () => undefined); }, 100);
  const start = process.hrtime.bigint();
  try {
    const result = await work();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    peak = Math.max(peak, await rssKiB(pid));
    return { result, baseMiB: base / 1024, peakMiB: peak / 1024, seconds };
  } finally {
    clearInterval(timer);
  }
}

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(file)) h.update(c as Buffer);
  return h.digest('hex');
}

async function main(): Promise<void> {
  const sizeMB = Number(process.env.S3_BENCH_MB ?? '1024');
  const s3 = await startS3rver('bench');
  const httpfs = HTTPFS ? await startHttpFsServer() : undefined;
  const d = await startDaemon();
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
    const pid = d.proc.pid as number;
    const sftp = (batch: string) => run('sftp', ['-P', String(d.sftpPort), ...keyOpts(key.privateKeyPath), '-b', '-', 'bench@127.0.0.1'],
      { input: batch, timeoutMs: 3_600_000 });
    const up = await measured(pid, () => sftp(`put ${src} /big.bin`));
    if (up.result.status !== 0) throw new Error(`upload failed: ${up.result.stderr}`);
    const back = join(d.dir, 'back.bin');
    const down = await measured(pid, () => sftp(`get /big.bin ${back}`));
    if (down.result.status !== 0) throw new Error(`download failed: ${down.result.stderr}`);
    const same = (await sha256(src)) === (await sha256(back));
    for (const [dir, m] of [['upload', up], ['download', down]] as const) {
      console.log(JSON.stringify({
        transfer: `SFTP ${dir}, ${LOCAL ? 'local disk' : HTTPFS ? 'HTTPFs (test service)' : 'S3 (s3rver)'}`, size_mib: sizeMB, seconds: Number(m.seconds.toFixed(2)),
        mib_per_s: Number((sizeMB / m.seconds).toFixed(1)), server_rss_base_mib: Number(m.baseMiB.toFixed(1)),
        server_rss_peak_mib: Number(m.peakMiB.toFixed(1)), server_rss_growth_mib: Number((m.peakMiB - m.baseMiB).toFixed(1)),
        ...(dir === 'download' ? { content_matches: same } : {}),
      }));
    }
  } finally {
    await stopDaemon(d).catch(() => undefined);
    removeDaemonDir(d);
    await httpfs?.stop();
    await s3.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
