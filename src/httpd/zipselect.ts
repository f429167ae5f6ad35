/**
 * Zips a selection of files and folders of one session into a response, as
 * SFTPGo's renderCompressedFiles: names relative to `baseDir`, folders walked
 * recursively (bounded depth), only folders and regular files included, every
 * file opened through FileOps.openRead (download permission, filters, transfer
 * log, bandwidth). `allowed` lets shares refuse anything outside their paths.
 */
import type { Writable } from 'node:stream';
import { FsError } from '../common/errors';
import type { FileOps } from '../common/types';
import { isSameOrInside, vjoin } from '../common/vpath';
import type { FileInfo } from '../vfs/fs';
import { ZipStreamWriter } from '../util/zipstream';

/** SFTPGo util.MaxRecursion */
const MAX_DEPTH = 1000;

export interface ZipSelectionOptions {
  /** the folder entry names are relative to ("/" for the user API) */
  baseDir: string;
  /** extra containment rule (shares): a path must pass it to be read */
  allowed?: (vpath: string) => boolean;
}

/** SFTPGo getCompressedFileName */
export function zipFileName(username: string, files: string[]): string {
  if (files.length === 1) {
    const base = files[0]!.split('/').pop() ?? '';
    const dot = base.lastIndexOf('.');
    return `${username}-${dot > 0 ? base.slice(0, dot) : base}.zip`;
  }
  return `${username}-download.zip`;
}

function entryName(vpath: string, baseDir: string): string {
  if (!isSameOrInside(vpath, baseDir) || vpath === baseDir) throw new FsError('PermissionDenied', `"${vpath}" is outside "${baseDir}"`);
  return baseDir === '/' ? vpath.slice(1) : vpath.slice(baseDir.length + 1);
}

async function addEntry(ops: FileOps, zip: ZipStreamWriter, vpath: string, info: FileInfo, opts: ZipSelectionOptions, depth: number): Promise<void> {
  if (depth > MAX_DEPTH) throw new FsError('Generic', 'the directory tree is too deep');
  if (opts.allowed && !opts.allowed(vpath)) throw new FsError('PermissionDenied', `"${vpath}" is not shared`);
  const name = entryName(vpath, opts.baseDir);
  if (info.isDirectory) {
    await zip.addDirectory(name, info.mtime, info.mode);
    for await (const batch of ops.readDir(vpath)) {
      for (const child of batch) {
        // symlinks and special files are left out, as SFTPGo does
        if (!child.isDirectory && !child.isFile) continue;
        await addEntry(ops, zip, vjoin(vpath, child.name), child, opts, depth + 1);
      }
    }
    return;
  }
  if (!info.isFile) return;
  const dl = await ops.openRead(vpath);
  let err: Error | undefined;
  try {
    await zip.addFile(name, info.mtime, dl.createReadStream(0) as AsyncIterable<Buffer>, info.mode);
  } catch (e) {
    err = e instanceof Error ? e : new Error(String(e));
    throw e;
  } finally {
    await dl.close(err ? new FsError('Aborted', err.message) : undefined).catch(() => undefined);
  }
}

/**
 * Streams the zip into `out` and ends it. Errors after the first byte can
 * only be reported by breaking the response: the caller destroys it.
 */
export async function writeZipSelection(ops: FileOps, out: Writable, files: string[], opts: ZipSelectionOptions): Promise<void> {
  const zip = new ZipStreamWriter(out);
  for (const vpath of files) {
    const info = await ops.lstat(vpath);
    if (!info.isDirectory && !info.isFile) continue;
    await addEntry(ops, zip, vpath, info, opts, 0);
  }
  await zip.finish();
}
