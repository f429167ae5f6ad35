/** Search, sort and paging over a list already loaded from the provider. */
import type { ListOptions } from '../../dataprovider/provider';

export const PAGE_SIZE = 20;
const CHUNK = 500;
const MAX_ROWS = 100_000;

/** Loads every row in chunks (bounded: at most MAX_ROWS). */
export async function loadAll<T>(list: (o: ListOptions) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let offset = 0; offset < MAX_ROWS; offset += CHUNK) {
    const rows = await list({ limit: CHUNK, offset, order: 'ASC' });
    out.push(...rows);
    if (rows.length < CHUNK) break;
  }
  return out;
}

export interface Listing<T> {
  rows: T[];
  total: number;
  page: number;
  pages: number;
  q: string;
  sort: string;
  dir: 'asc' | 'desc';
  /** query string for a page/sort link, keeping the other parameters */
  link(changes: { page?: number; sort?: string; dir?: string }): string;
}

export function paginate<T>(
  all: T[], query: Record<string, string | undefined>, text: (t: T) => string,
  sorters: Record<string, (t: T) => string | number>, defaultSort: string,
): Listing<T> {
  const q = (query.q ?? '').trim().slice(0, 100);
  const sort = query.sort !== undefined && sorters[query.sort] ? query.sort : defaultSort;
  const dir = query.dir === 'desc' ? 'desc' : 'asc';
  const needle = q.toLowerCase();
  const key = sorters[sort];
  const filtered = needle === '' ? all : all.filter((t) => text(t).toLowerCase().includes(needle));
  const sorted = [...filtered].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return dir === 'asc' ? c : -c;
  });
  const pages = Math.max(1, Math.ceil(sorted.length / PAGE_SIZE));
  const requested = Number.parseInt(query.page ?? '1', 10);
  const page = Number.isFinite(requested) ? Math.min(Math.max(requested, 1), pages) : 1;
  const link = (c: { page?: number; sort?: string; dir?: string }): string => {
    const p = new URLSearchParams();
    if (q) p.set('q', q);
    p.set('sort', c.sort ?? sort);
    p.set('dir', c.dir ?? dir);
    p.set('page', String(c.page ?? page));
    return `?${p.toString()}`;
  };
  return { rows: sorted.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE), total: sorted.length, page, pages, q, sort, dir, link };
}
