/**
 * Preload for a daemon under measurement: totals of the Buffers of 16 KiB or
 * more allocated from JavaScript (Buffer.alloc, allocUnsafe, allocUnsafeSlow,
 * from, concat), by call site (five frames), the 15 largest written every 2 s
 * to ALLOC_SITES_FILE (default /tmp/alloc-sites.json) by the main thread.
 * It found where an S3 upload's garbage comes from (docs/benchmarks.md,
 * "A 4 GiB upload"):
 *   BENCH_DAEMON_NODE_FLAGS='--max-semi-space-size=4 --no-memory-reducer --initial-old-space-size=128
 *     --require dist/test/bench/alloc-sites.js' S3_BENCH_ROUNDS=1 node dist/test/bench/storage-s3.js
 * Not part of npm run bench (it slows every allocation it sees).
 */
import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const OUT = process.env.ALLOC_SITES_FILE ?? '/tmp/alloc-sites.json';
const MIN_BYTES = 16 * 1024;
const totals = new Map<string, { count: number; bytes: number }>();

function note(bytes: number): void {
  if (bytes < MIN_BYTES) return;
  // frames 0-2 are Error, note() and the wrapper
  const site = (new Error().stack ?? '').split('\n').slice(3, 8).map((l) => l.trim().replace(/^at /, '')).join(' < ');
  const t = totals.get(site) ?? { count: 0, bytes: 0 };
  t.count++;
  t.bytes += bytes;
  totals.set(site, t);
}

type SizedAlloc = (size: number, ...rest: never[]) => Buffer;
const mutable = Buffer as unknown as Record<'alloc' | 'allocUnsafe' | 'allocUnsafeSlow', SizedAlloc> & {
  from: (...args: unknown[]) => Buffer;
  concat: (list: readonly Uint8Array[], totalLength?: number) => Buffer;
};
for (const name of ['alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const) {
  const original = mutable[name];
  mutable[name] = function counted(this: unknown, size: number, ...rest: never[]): Buffer {
    note(size);
    return original.call(this, size, ...rest);
  };
}
const originalFrom = mutable.from;
mutable.from = function countedFrom(this: unknown, ...args: unknown[]): Buffer {
  const first = args[0];
  if (first instanceof Uint8Array) note(first.length);
  return originalFrom.apply(this, args);
};
const originalConcat = mutable.concat;
mutable.concat = function countedConcat(this: unknown, list: readonly Uint8Array[], totalLength?: number): Buffer {
  const out = originalConcat.call(this, list, totalLength);
  note(out.length);
  return out;
};

if (isMainThread) {
  setInterval(() => {
    const rows = [...totals].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 15)
      .map(([site, t]) => ({ mib: Number((t.bytes / 1048576).toFixed(1)), count: t.count, site }));
    writeFileSync(OUT, JSON.stringify(rows, null, 1));
  }, 2000).unref();
}
