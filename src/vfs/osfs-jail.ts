/**
 * Path confinement for the local backend. Every OsFs operation goes through
 * one of two resolvers:
 *  - resolveFollow: the real location of the path itself (symlinks followed,
 *    including a dangling final link) must stay inside realpath(root);
 *  - resolveNoFollow: the path names a directory entry (lstat, unlink, rename,
 *    symlink creation): only its parent's real location must stay inside.
 * Both return the real path to operate on, so what we checked is what we use.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { FsError, fromNodeError } from '../common/errors';

/** Linux SYMLOOP_MAX is 40: the same bound stops link cycles here. */
const MAX_LINK_HOPS = 40;

export class Jail {
  private realRootCache: string | undefined;

  constructor(readonly root: string) {}

  /** Lexical join of the root and a backend path; rejects anything not clean. */
  lexical(p: string): string {
    if (typeof p !== 'string' || !p.startsWith('/') || p.includes('\0')) {
      throw new FsError('InvalidPath', `invalid backend path: ${JSON.stringify(p)}`);
    }
    for (const seg of p.split('/')) {
      if (seg === '..' || seg === '.') throw new FsError('InvalidPath', `path is not clean: ${JSON.stringify(p)}`);
    }
    return p === '/' ? this.root : path.join(this.root, p);
  }

  async realRoot(): Promise<string> {
    if (this.realRootCache !== undefined) return this.realRootCache;
    try {
      const r = await fsp.realpath(this.root);
      this.realRootCache = r;
      return r;
    } catch (e) {
      throw fromNodeError(e, 'root');
    }
  }

  forgetRoot(): void { this.realRootCache = undefined; }

  isInside(real: string, realRoot: string): boolean {
    return real === realRoot || real.startsWith(realRoot.endsWith('/') ? realRoot : realRoot + '/');
  }

  /** Real path of `p`, every symlink followed; PermissionDenied when it lands outside. */
  async resolveFollow(p: string): Promise<string> {
    const abs = this.lexical(p);
    const realRoot = await this.realRoot();
    const real = await this.realOf(abs, 0);
    if (!this.isInside(real, realRoot)) throw new FsError('PermissionDenied', 'path resolves outside the root');
    return real;
  }

  /** The entry itself (not followed): real parent + base name. */
  async resolveNoFollow(p: string): Promise<string> {
    const abs = this.lexical(p);
    const realRoot = await this.realRoot();
    if (p === '/') return realRoot;
    const parent = await this.realOf(path.dirname(abs), 0);
    if (!this.isInside(parent, realRoot)) throw new FsError('PermissionDenied', 'path resolves outside the root');
    return path.join(parent, path.basename(abs));
  }

  /**
   * realpath that also works for paths that do not exist yet: the deepest
   * existing ancestor is resolved and the missing tail appended; a dangling
   * symlink is followed by hand, so O_CREAT through it cannot escape.
   */
  private async realOf(abs: string, hops: number): Promise<string> {
    if (hops > MAX_LINK_HOPS) throw new FsError('InvalidPath', 'too many levels of symbolic links');
    try {
      return await fsp.realpath(abs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw fromNodeError(e);
    }
    const parentAbs = path.dirname(abs);
    if (parentAbs === abs) return abs;
    const realParent = await this.realOf(parentAbs, hops + 1);
    const candidate = path.join(realParent, path.basename(abs));
    let target: string;
    try {
      const st = await fsp.lstat(candidate);
      if (!st.isSymbolicLink()) return candidate;
      target = await fsp.readlink(candidate);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return candidate;
      throw fromNodeError(e);
    }
    const next = path.isAbsolute(target) ? target : path.resolve(realParent, target);
    return this.realOf(next, hops + 1);
  }

  /** Backend path ("/a/b") for a real path inside the root, or undefined. */
  toBackendPath(real: string, realRoot: string): string | undefined {
    if (!this.isInside(real, realRoot)) return undefined;
    const rel = path.relative(realRoot, real);
    return rel === '' ? '/' : '/' + rel.split(path.sep).join('/');
  }
}
