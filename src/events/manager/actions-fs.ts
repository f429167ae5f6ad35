/**
 * Filesystem actions (rename, delete, mkdirs, exist, compress, copy) and the
 * data retention check, run through a session of the user concerned
 * (common's Connection with protocol EventAction/DataRetention), so the
 * jail, virtual folders, quota and command logs apply as for any client.
 */
import path from 'node:path';
import { FS_ACTION, type FolderRetention, type FsActionConfig } from '../../dataprovider/event-models';
import { FsError } from '../../common/errors';
import type { FileOps } from '../../common/types';
import { cleanVirtualPath, vjoin } from '../../common/vpath';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ZipStreamWriter } from '../../util/zipstream';

/** Bound on the items a compress or retention walk visits. */
const MAX_WALK = 100_000;

async function exists(conn: FileOps, p: string): Promise<boolean> {
  try {
    await conn.lstat(p);
    return true;
  } catch (e) {
    if (e instanceof FsError && e.kind === 'NotFound') return false;
    throw e;
  }
}

/** mkdir -p inside the user's namespace. */
export async function mkdirAll(conn: FileOps, dir: string): Promise<void> {
  let cur = '/';
  for (const part of dir.split('/').filter((x) => x !== '')) {
    cur = vjoin(cur, part);
    if (!(await exists(conn, cur))) await conn.mkdir(cur);
  }
}

async function removePath(conn: FileOps, p: string): Promise<void> {
  const st = await conn.lstat(p);
  if (st.isDirectory) await conn.removeAll(p);
  else await conn.removeFile(p);
}

async function compress(conn: FileOps, name: string, paths: string[]): Promise<void> {
  const base = paths.length === 1 ? path.posix.dirname(paths[0]!) : commonDir(paths);
  await mkdirAll(conn, path.posix.dirname(name));
  const up = await conn.openWrite(name, { truncate: true, append: false, exclusive: false, read: false, offset: 0 });
  let pos = 0;
  let failed: Error | undefined;
  try {
    // the same streaming writer as the HTTP zip downloads, writing through the upload
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb): void { up.writeAt(chunk, pos).then(() => { pos += chunk.length; cb(); }, (e: Error) => cb(e)); },
    });
    // a failed write surfaces through the writer's next write and finished(): never an unhandled 'error'
    sink.on('error', () => undefined);
    const zip = new ZipStreamWriter(sink);
    let visited = 0;
    const add = async (p: string): Promise<void> => {
      if (++visited > MAX_WALK) throw new FsError('Unsupported', 'too many items to compress');
      if (p === name) return;
      const st = await conn.lstat(p);
      const rel = path.posix.relative(base, p);
      if (st.isDirectory) {
        await zip.addDirectory(rel, st.mtime);
        for await (const batch of conn.readDir(p)) for (const fi of batch) if (!fi.isSymlink) await add(vjoin(p, fi.name));
      } else if (st.isFile) {
        const dl = await conn.openRead(p);
        try {
          await zip.addFile(rel, st.mtime, dl.createReadStream(0));
        } finally {
          await dl.close();
        }
      }
    };
    for (const p of paths) await add(p);
    await zip.finish();
    sink.end();
    await finished(sink);
  } catch (e) {
    failed = e as Error;
  }
  await up.close(failed);
  if (failed) throw failed;
}

function commonDir(paths: string[]): string {
  const split = paths.map((p) => path.posix.dirname(p).split('/').filter((x) => x !== ''));
  const out: string[] = [];
  for (let i = 0; ; i++) {
    const seg = split[0]?.[i];
    if (seg === undefined || split.some((s) => s[i] !== seg)) break;
    out.push(seg);
  }
  return `/${out.join('/')}`;
}

/** Runs one filesystem action; `r` replaces placeholders. */
export async function runFsAction(conn: FileOps, cfg: FsActionConfig, r: (s: string) => string): Promise<void> {
  const p = (s: string): string => cleanVirtualPath(r(s));
  switch (cfg.type) {
    case FS_ACTION.rename:
      for (const kv of cfg.renames ?? []) {
        const to = p(kv.value);
        await mkdirAll(conn, path.posix.dirname(to));
        await conn.rename(p(kv.key), to);
        if (kv.update_modtime) await conn.setStat(to, { mtime: new Date(), atime: new Date() });
      }
      return;
    case FS_ACTION.delete:
      for (const d of cfg.deletes ?? []) await removePath(conn, p(d));
      return;
    case FS_ACTION.mkdirs:
      for (const d of cfg.mkdirs ?? []) await mkdirAll(conn, p(d));
      return;
    case FS_ACTION.exist:
      for (const d of cfg.exist ?? []) await conn.stat(p(d));
      return;
    case FS_ACTION.copy:
      for (const kv of cfg.copy ?? []) {
        const to = p(kv.value);
        await mkdirAll(conn, path.posix.dirname(to));
        await conn.copy(p(kv.key), to);
      }
      return;
    case FS_ACTION.compress:
      await compress(conn, p(cfg.compress.name ?? ''), (cfg.compress.paths ?? []).map(p));
      return;
    default:
      throw new FsError('Unsupported', `unsupported filesystem action type ${cfg.type ?? 0}`);
  }
}

export interface RetentionResult { path: string; retention: number; deleted_files: number; deleted_size: number; elapsed: number; info: string }

/**
 * SFTPGo's data retention check: files older than `retention` hours under
 * each configured path are deleted; a path with its own entry is handled by
 * that entry (retention 0 excludes it); empty directories go when asked.
 */
export async function runRetention(conn: FileOps, folders: FolderRetention[], nowMs: number): Promise<RetentionResult[]> {
  const configured = new Map(folders.map((f) => [f.path, f]));
  const results: RetentionResult[] = [];
  for (const f of folders) {
    if (f.retention <= 0) continue;
    const start = Date.now();
    const res: RetentionResult = { path: f.path, retention: f.retention, deleted_files: 0, deleted_size: 0, elapsed: 0, info: '' };
    const cutoff = nowMs - f.retention * 3600_000;
    let visited = 0;
    const walk = async (dir: string): Promise<void> => {
      const children: { name: string; isDir: boolean; mtime: number; size: number }[] = [];
      for await (const batch of conn.readDir(dir)) {
        for (const fi of batch) {
          if (++visited > MAX_WALK) throw new FsError('Unsupported', 'too many items for one retention check');
          children.push({ name: fi.name, isDir: fi.isDirectory, mtime: fi.mtime.getTime(), size: fi.size });
        }
      }
      for (const c of children) {
        const p = vjoin(dir, c.name);
        if (c.isDir) {
          if (!configured.has(p)) await walk(p);
        } else if (c.mtime < cutoff) {
          await conn.removeFile(p);
          res.deleted_files++;
          res.deleted_size += c.size;
        }
      }
      if (f.delete_empty_dirs && dir !== '/') {
        let empty = true;
        for await (const batch of conn.readDir(dir)) if (batch.length > 0) { empty = false; break; }
        if (empty) await conn.removeDir(dir);
      }
    };
    try {
      if (await exists(conn, f.path)) await walk(f.path);
      else res.info = 'path not found';
    } finally {
      res.elapsed = Date.now() - start;
      results.push(res);
    }
  }
  return results;
}
