/**
 * Bench-only diagnostic, loaded into the daemon with `--require` (never by the
 * product): every 100 ms appends one JSON line to RSS_PROBE_FILE with
 * process.memoryUsage() and V8's per-space committed sizes, so the bench can
 * say how much of an RSS jump is V8 heap, code, or Buffer memory.
 * A timer and a synchronous append: a few hundred bytes of garbage per tick,
 * no FinalizationRegistry or other tracking that would change what the GC keeps.
 */
import { appendFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
import { isMainThread } from 'node:worker_threads';
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';

const file = process.env.RSS_PROBE_FILE;
// NODE_OPTIONS reaches worker threads too: their heaps are not the daemon's main heap
if (file && isMainThread) {
  const KiB = 1024;
  const tick = (): void => {
    const m = process.memoryUsage();
    const spaces: Record<string, number> = {};
    for (const s of getHeapSpaceStatistics()) spaces[s.space_name] = Math.round(s.physical_space_size / KiB);
    appendFileSync(file, `${JSON.stringify({
      t: Date.now(), rss: Math.round(m.rss / KiB), heapTotal: Math.round(m.heapTotal / KiB), heapUsed: Math.round(m.heapUsed / KiB),
      external: Math.round(m.external / KiB), arrayBuffers: Math.round(m.arrayBuffers / KiB), spaces,
    })}\n`);
  };
  setInterval(tick, 100).unref();
  // each GC with its kind and the ArrayBuffer bytes right after it: which collections free the Buffers
  const kinds: Record<number, string> = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor', [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
  };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const detail = (e as PerformanceEntry & { detail?: { kind?: number } }).detail;
      appendFileSync(file, `${JSON.stringify({ t: Date.now(), gc: kinds[detail?.kind ?? -1] ?? String(detail?.kind), ms: Number(e.duration.toFixed(2)),
        arrayBuffers: Math.round(process.memoryUsage().arrayBuffers / KiB) })}\n`);
    }
  }).observe({ entryTypes: ['gc'] });
}
