/**
 * Bench-only: where a process's resident memory is, from /proc/<pid>/smaps.
 * Every mapping is keyed by its start address and classified as file-backed
 * (by file name), the brk heap ([heap]: glibc's main malloc arena), thread
 * stacks, or anonymous mmaps (V8's heap pages and code, glibc's per-thread
 * malloc arenas, big malloc blocks, Buffers over the mmap threshold). Two
 * snapshots are compared mapping by mapping, so a jump can be put on the
 * mappings that grew.
 */
import { promises as fsp } from 'node:fs';

export interface Mapping {
  start: string;
  sizeKiB: number;
  rssKiB: number;
  anonKiB: number;
  perms: string;
  name: string;
}

export interface Snapshot {
  at: number;
  rssKiB: number;
  threads: number;
  mappings: Map<string, Mapping>;
}

export async function snapshot(pid: number): Promise<Snapshot> {
  const [text, status] = await Promise.all([fsp.readFile(`/proc/${pid}/smaps`, 'utf8'), fsp.readFile(`/proc/${pid}/status`, 'utf8')]);
  const mappings = new Map<string, Mapping>();
  let current: Mapping | undefined;
  let rss = 0;
  for (const line of text.split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      const size = (parseInt(header[2]!, 16) - parseInt(header[1]!, 16)) / 1024;
      current = { start: header[1]!, sizeKiB: size, rssKiB: 0, anonKiB: 0, perms: header[3]!, name: header[4]!.trim() };
      mappings.set(current.start, current);
      continue;
    }
    const field = /^(Rss|Anonymous):\s+(\d+) kB/.exec(line);
    if (field && current) {
      if (field[1] === 'Rss') { current.rssKiB = Number(field[2]); rss += current.rssKiB; } else current.anonKiB = Number(field[2]);
    }
  }
  return { at: Date.now(), rssKiB: rss, threads: Number(/Threads:\s+(\d+)/.exec(status)?.[1] ?? 0), mappings };
}

/** The class a mapping's growth is reported under. */
function kind(m: Mapping): string {
  if (m.name === '[heap]') return 'anon: [heap] (brk, main malloc arena)';
  if (m.name.startsWith('[stack')) return 'anon: main stack';
  if (m.name.startsWith('/')) return m.anonKiB > 0 && m.anonKiB === m.rssKiB ? `anon: COW of ${m.name.split('/').pop()}` : `file: ${m.name.split('/').pop()}`;
  if (m.name !== '') return `other: ${m.name}`;
  if (m.perms.startsWith('rwx') || m.perms.startsWith('r-x')) return 'anon: executable (V8 code space)';
  return 'anon: unnamed mmaps (V8 heap pages, thread malloc arenas, thread stacks, large mallocs)';
}

export interface Growth {
  kind: string;
  deltaKiB: number;
}

/** RSS growth from `a` to `b` summed by kind (mappings new in `b` count whole, mappings gone count negative). */
export function growthByKind(a: Snapshot, b: Snapshot): Growth[] {
  const sums = new Map<string, number>();
  const add = (m: Mapping, d: number): void => { sums.set(kind(m), (sums.get(kind(m)) ?? 0) + d); };
  for (const [start, m] of b.mappings) add(m, m.rssKiB - (a.mappings.get(start)?.rssKiB ?? 0));
  for (const [start, m] of a.mappings) if (!b.mappings.has(start)) add(m, -m.rssKiB);
  return [...sums].map(([k, d]) => ({ kind: k, deltaKiB: d })).filter((g) => g.deltaKiB !== 0).sort((x, y) => y.deltaKiB - x.deltaKiB);
}

/** The mappings that grew most from `a` to `b` (start address, size, perms, name, growth). */
export function topGrowth(a: Snapshot, b: Snapshot, n: number): string[] {
  return [...b.mappings.values()]
    .map((m) => ({ m, d: m.rssKiB - (a.mappings.get(m.start)?.rssKiB ?? 0) }))
    .sort((x, y) => y.d - x.d).slice(0, n)
    .map(({ m, d }) => `${m.start} size=${m.sizeKiB}K rss=${m.rssKiB}K +${d}K ${m.perms} ${m.name || '(anon)'}${a.mappings.has(m.start) ? '' : ' NEW'}`);
}
