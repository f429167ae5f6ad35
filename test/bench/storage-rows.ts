/**
 * The storage group of `npm run bench` (BENCH_ONLY=storage): runs the S3
 * measurement (storage-s3.ts, the same script as `npm run bench:storage`) in
 * its own process, so that its s3rver and daemon do not share an event loop
 * with the other groups, and turns its JSON lines into table rows: SFTP
 * upload/download through the daemon to s3rver beside `rclone copyto` to the
 * same s3rver (issue 11: throughput >= rclone's), and the daemon's RSS growth
 * per upload and download (goal: under 64 MiB, the first transfer after
 * start-up included).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { spreadRow, type Row } from './rows';
import { fmt } from './util';

interface Line {
  transfer: string;
  mib_per_s: number;
  rss_growth_mib?: number;
}

const RSS_GOAL_MIB = 64;

/** Runs storage-s3.js with `rounds` rounds of `sizeMiB` and returns its JSON lines. */
async function measure(sizeMiB: number, rounds: number): Promise<Line[]> {
  const script = join(__dirname, 'storage-s3.js');
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, S3_BENCH_MB: String(sizeMiB), S3_BENCH_ROUNDS: String(rounds), S3_BENCH_BACKEND: 's3' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (c: string) => { out += c; });
  const [code] = await once(child, 'exit') as [number | null];
  if (code !== 0) throw new Error(`storage-s3.js exited with ${code}`);
  return out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line);
}

function rates(lines: Line[], prefix: string): number[] {
  return lines.filter((l) => l.transfer.startsWith(prefix)).map((l) => l.mib_per_s);
}

/** The largest RSS growth of our transfers of one direction (the first, on a fresh daemon, is the one that counts). */
function rssRow(lines: Line[], prefix: string, label: string): Row {
  const growth = lines.filter((l) => l.transfer.startsWith(prefix)).map((l) => l.rss_growth_mib ?? 0);
  const worst = Math.max(...growth);
  return {
    label, ours: worst, ref: RSS_GOAL_MIB, refName: 'goal', ratio: RSS_GOAL_MIB / Math.max(worst, 0.1),
    target: `< ${RSS_GOAL_MIB} MiB`, met: worst < RSS_GOAL_MIB, spread: growth.map(fmt).join('/'),
  };
}

export async function storageRows(sizeMiB: number, rounds: number): Promise<Row[]> {
  const lines = await measure(sizeMiB, rounds);
  const label = `S3 (s3rver) ${sizeMiB} MiB SFTP`;
  return [
    spreadRow(`${label} upload MiB/s`, rates(lines, 'SFTP upload'), rates(lines, 'rclone copyto S3'), 'rclone', 1.0),
    spreadRow(`${label} download MiB/s`, rates(lines, 'SFTP download'), rates(lines, 'rclone copyto from S3'), 'rclone', 1.0),
    rssRow(lines, 'SFTP upload', `${label} upload RSS growth MiB (worst round)`),
    rssRow(lines, 'SFTP download', `${label} download RSS growth MiB (worst round)`),
  ];
}
