/**
 * Virtual (client visible) paths: absolute, POSIX, "/"-based, never above "/".
 * Backslashes are ordinary characters (SFTPGo on POSIX does the same).
 */
import * as path from 'node:path';
import { FsError } from './errors';

/** Cleans a client path, joined to `cwd` when relative. NUL → InvalidPath. */
export function cleanVirtualPath(p: string, cwd = '/'): string {
  if (typeof p !== 'string' || p.includes('\0') || cwd.includes('\0')) {
    throw new FsError('InvalidPath', 'invalid path: NUL byte');
  }
  const joined = p.startsWith('/') ? p : `${cwd.startsWith('/') ? cwd : '/' + cwd}/${p}`;
  // posix.normalize on an absolute path never climbs above "/"
  let out = path.posix.normalize(joined);
  if (out.length > 1 && out.endsWith('/')) out = out.slice(0, -1);
  return out;
}

/** path.Dir of a clean virtual path ("/" for "/" itself). */
export function vdir(p: string): string {
  return path.posix.dirname(p);
}

export function vbase(p: string): string {
  return p === '/' ? '/' : path.posix.basename(p);
}

export function vjoin(dir: string, name: string): string {
  return dir === '/' ? '/' + name : `${dir}/${name}`;
}

/**
 * SFTPGo's GetDirsForVirtualPath: the path and all its parents, most
 * specific first: "/a/b" → ["/a/b", "/a", "/"].
 */
export function dirsForVirtualPath(p: string): string[] {
  const out: string[] = [];
  let cur = p;
  // bounded by the number of segments
  for (let i = 0; i < 4096; i++) {
    out.push(cur);
    if (cur === '/') break;
    cur = path.posix.dirname(cur);
  }
  return out;
}

/** true when `p` is `base` or below it */
export function isSameOrInside(p: string, base: string): boolean {
  if (base === '/') return true;
  return p === base || p.startsWith(base + '/');
}
