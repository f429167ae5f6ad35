/**
 * Directory pages for big folders: the listing is read once per request
 * (bounded), filtered by a case-insensitive search, sorted (folders first)
 * and cut into pages, so a folder with tens of thousands of entries renders
 * one page of rows.
 */
import type { FileOps } from '../../../common/types';
import type { FileInfo } from '../../../vfs/fs';

export const PAGE_SIZE = 100;
/** entries read for one page view; beyond this the folder is refused with a clear message */
export const MAX_ENTRIES = 200_000;

export type SortKey = 'name' | 'size' | 'mtime';

export interface ListingQuery { sort?: string; order?: string; search?: string; page?: string }

export interface ListingPage {
  rows: FileInfo[];
  total: number;
  page: number;
  pages: number;
  sort: SortKey;
  order: 'asc' | 'desc';
  search: string;
}

export class TooManyEntriesError extends Error {}

export async function listingPage(ops: FileOps, dir: string, q: ListingQuery): Promise<ListingPage> {
  const sort: SortKey = q.sort === 'size' || q.sort === 'mtime' ? q.sort : 'name';
  const order = q.order === 'desc' ? 'desc' : 'asc';
  const search = (q.search ?? '').trim().slice(0, 255);
  const needle = search.toLowerCase();
  const all: FileInfo[] = [];
  let seen = 0;
  for await (const batch of ops.readDir(dir)) {
    seen += batch.length;
    if (seen > MAX_ENTRIES) throw new TooManyEntriesError(`this folder has more than ${MAX_ENTRIES} entries: use an SFTP or FTP client`);
    for (const fi of batch) if (needle === '' || fi.name.toLowerCase().includes(needle)) all.push(fi);
  }
  const dirFirst = (a: FileInfo, b: FileInfo): number => Number(b.isDirectory) - Number(a.isDirectory);
  const key = (a: FileInfo, b: FileInfo): number => {
    if (sort === 'size') return a.size - b.size;
    if (sort === 'mtime') return a.mtime.getTime() - b.mtime.getTime();
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  };
  all.sort((a, b) => dirFirst(a, b) || (order === 'asc' ? key(a, b) : key(b, a)));
  const pages = Math.max(1, Math.ceil(all.length / PAGE_SIZE));
  const requested = Number.parseInt(q.page ?? '1', 10);
  const page = Number.isFinite(requested) ? Math.min(Math.max(requested, 1), pages) : 1;
  return { rows: all.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE), total: all.length, page, pages, sort, order, search };
}

/** "/a/b" → [{name: "Home", path: "/"}, {name: "a", path: "/a"}, {name: "b", path: "/a/b"}] */
export function breadcrumbs(dir: string): { name: string; path: string }[] {
  const out = [{ name: 'Home', path: '/' }];
  let cur = '';
  for (const part of dir.split('/').filter((p) => p !== '')) {
    cur += `/${part}`;
    out.push({ name: part, path: cur });
  }
  return out;
}

export type PreviewKind = 'image' | 'video' | 'audio' | 'text' | 'pdf' | undefined;

const IMAGE = new Set(['.png', '.jpg', '.jpeg', '.gif', '.webp', '.bmp', '.ico']);
const VIDEO = new Set(['.mp4', '.webm', '.ogv', '.mov']);
const AUDIO = new Set(['.mp3', '.ogg', '.wav', '.m4a', '.flac']);
const TEXT = new Set(['.txt', '.md', '.csv', '.json', '.xml', '.yaml', '.yml', '.log', '.ini', '.conf', '.cfg', '.sh', '.py', '.js', '.ts', '.go', '.c', '.h', '.html', '.css', '.toml', '.sql']);

export function previewKind(name: string): PreviewKind {
  const dot = name.lastIndexOf('.');
  const ext = dot >= 0 ? name.slice(dot).toLowerCase() : '';
  if (IMAGE.has(ext)) return 'image';
  if (VIDEO.has(ext)) return 'video';
  if (AUDIO.has(ext)) return 'audio';
  if (TEXT.has(ext)) return 'text';
  return undefined;
}
