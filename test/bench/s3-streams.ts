/**
 * Receiving side of an S3 download alone: the same object read from s3rver
 * through the daemon's S3 data path (S3Requests.openRange, src/vfs/s3/hot.ts)
 * as one ranged GET, then as two concurrent GETs on its halves, alternating;
 * each chunk is copied into a 5 MiB buffer as the windowed reader does.
 * Prints MiB/s, this process's CPU seconds, s3rver's, and the average chunk.
 *   node dist/test/bench/s3-streams.js   (S3_STREAMS_MB, default 512; S3_STREAMS_PAIRS, default 3)
 */
import { readFileSync } from 'node:fs';
import { NO_STORAGE_METRICS } from '../../src/metrics/storage';
import { createS3Client } from '../../src/vfs/s3/client';
import { s3Options } from '../../src/vfs/s3/config';
import { S3Requests } from '../../src/vfs/s3/hot';
import { S3Fs } from '../../src/vfs/s3/s3fs';
import { s3config, startS3rver } from '../support/s3rver';

const MB = 1024 * 1024;
const SIZE_MB = Number(process.env.S3_STREAMS_MB ?? '512');
const PAIRS = Number(process.env.S3_STREAMS_PAIRS ?? '3');
const TICKS_PER_S = 100;

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
}

async function main(): Promise<void> {
  const s3 = await startS3rver();
  const o = s3Options(s3config(s3));
  const decrypt = async (s: { payload?: string }): Promise<string> => s.payload ?? '';
  const fs = new S3Fs(o, { decrypt, metrics: NO_STORAGE_METRICS, renameMode: 0, warn: () => undefined });
  const client = createS3Client(o, decrypt);
  try {
    const w = await fs.openWrite('/big', { create: true, truncate: true, append: false, exclusive: false, read: false });
    const chunk = Buffer.alloc(MB, 5);
    for (let pos = 0; pos < SIZE_MB * MB; pos += MB) await w.writeAt(chunk, pos);
    await w.close();
    const requests = await S3Requests.forClient(client, o);
    if (!requests) throw new Error('the endpoint needs the SDK');
    const window = Buffer.allocUnsafe(5 * MB);
    let chunks = 0;
    const stream = async (start: number, end: number): Promise<void> => {
      const res = await requests.openRange('big', start, end, undefined, {}, new AbortController().signal);
      let fill = 0;
      await new Promise<void>((resolve, reject) => {
        res.on('data', (c: Buffer) => {
          chunks++;
          if (fill + c.length > window.length) fill = 0;
          fill += c.copy(window, fill);
        });
        res.on('end', resolve);
        res.on('error', reject);
      });
    };
    for (let round = 0; round < PAIRS * 2; round++) {
      const streams = round % 2 === 0 ? 1 : 2;
      chunks = 0;
      const t0 = process.hrtime.bigint();
      const cpu0 = process.cpuUsage();
      const s3cpu0 = cpuSeconds(s3.pid);
      const part = (SIZE_MB * MB) / streams;
      await Promise.all(Array.from({ length: streams }, (_v, i) => stream(i * part, (i + 1) * part - 1)));
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const cpu = process.cpuUsage(cpu0);
      console.log(JSON.stringify({
        streams, size_mib: SIZE_MB, mib_per_s: +(SIZE_MB / seconds).toFixed(1), cpu_s: +((cpu.user + cpu.system) / 1e6).toFixed(2),
        s3rver_cpu_s: +(cpuSeconds(s3.pid) - s3cpu0).toFixed(2), avg_chunk_kib: +((SIZE_MB * 1024) / chunks).toFixed(1),
        load: readFileSync('/proc/loadavg', 'utf8').split(' ')[0],
      }));
    }
    requests.destroy();
  } finally {
    client.destroy();
    await fs.close();
    await s3.stop();
  }
}

main().catch((e: unknown) => { console.error(e); process.exit(1); });
