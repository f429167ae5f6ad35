/**
 * The single webdav-server FileSystem mounted at "/". The library mounts file
 * systems globally, so this one delegates every call to the FileOps of the
 * user authenticated for the current request (carried by DavUser). It only
 * translates: every rule (permissions, jail, virtual folders, quota, logs)
 * lives behind FileOps.
 */
import { v2 } from 'webdav-server';
import type { FileOps } from '../common/types';
import type { FileInfo } from '../vfs/fs';
import { FsError } from '../common/errors';
import { toDavError } from './status';
import { PathLockManager, type UserDavState } from './state';
import { DavPropertyManager } from './props';

/** The library's user object for one authenticated request. */
export class DavUser implements v2.IUser {
  readonly uid: string;
  readonly username: string;
  readonly isAdministrator = false;
  readonly isDefaultUser = false;
  constructor(readonly ops: FileOps, readonly state: UserDavState) {
    this.uid = ops.user.username;
    this.username = ops.user.username;
  }
}

export function davUserOf(ctx: v2.RequestContext): DavUser {
  if (ctx.user instanceof DavUser) return ctx.user;
  // Only reachable through library-internal "external" contexts.
  throw new FsError('PermissionDenied', 'no authenticated WebDAV user');
}

/** SFTPGo/x-net-webdav style strong etag: mtime in ns and size, in hex. */
export function etagOf(fi: FileInfo): string {
  return `"${(BigInt(fi.mtime.getTime()) * 1000000n).toString(16)}${fi.size.toString(16)}"`;
}

class NoSerializer implements v2.FileSystemSerializer {
  uid(): string { return 'sftpgo-ts-dav'; }
  serialize(_fs: v2.FileSystem, cb: v2.ReturnCallback<unknown>): void {
    cb(new Error('WebDAV state is in memory only'));
  }
  unserialize(_data: unknown, cb: v2.ReturnCallback<v2.FileSystem>): void {
    cb(new Error('WebDAV state is in memory only'));
  }
}

type Ctx = { context: v2.RequestContext };

export class DelegatingFileSystem extends v2.FileSystem {
  /** Stats gathered during one request (PROPFIND asks for each live property separately). */
  private readonly statCache = new WeakMap<v2.RequestContext, Map<string, FileInfo>>();

  constructor() {
    super(new NoSerializer());
  }

  /** Runs an async FileOps call and answers a library callback, mapping FsError kinds. */
  private run<T>(info: Ctx, cb: v2.ReturnCallback<T>, fn: (ops: FileOps, u: DavUser) => Promise<T>): void {
    let user: DavUser;
    try {
      user = davUserOf(info.context);
    } catch (e) {
      cb(toDavError(e));
      return;
    }
    user.ops.touch();
    fn(user.ops, user).then((v) => cb(undefined, v), (e: unknown) => cb(toDavError(e)));
  }

  vpath(ops: FileOps, p: v2.Path): string {
    return ops.cleanPath(p.toString());
  }

  async statOf(ctx: v2.RequestContext, ops: FileOps, vpath: string): Promise<FileInfo> {
    let cache = this.statCache.get(ctx);
    const hit = cache?.get(vpath);
    if (hit) return hit;
    const fi = await ops.stat(vpath);
    if (!cache) {
      cache = new Map();
      this.statCache.set(ctx, cache);
    }
    cache.set(vpath, fi);
    return fi;
  }

  /** Any change invalidates the request's stat cache. */
  private changed(ctx: v2.RequestContext): void {
    this.statCache.delete(ctx);
  }

  protected override _type(p: v2.Path, info: v2.TypeInfo, cb: v2.ReturnCallback<v2.ResourceType>): void {
    this.run(info, cb, async (ops) => {
      const fi = await this.statOf(info.context, ops, this.vpath(ops, p));
      return fi.isDirectory ? v2.ResourceType.Directory : v2.ResourceType.File;
    });
  }

  protected override _fastExistCheck(ctx: v2.RequestContext, p: v2.Path, cb: (exists: boolean) => void): void {
    this.run<boolean>({ context: ctx }, (e, ok) => cb(!e && ok === true), async (ops) => {
      await this.statOf(ctx, ops, this.vpath(ops, p));
      return true;
    });
  }

  protected override _size(p: v2.Path, info: v2.SizeInfo, cb: v2.ReturnCallback<number>): void {
    this.run(info, cb, async (ops) => (await this.statOf(info.context, ops, this.vpath(ops, p))).size);
  }

  protected override _lastModifiedDate(p: v2.Path, info: v2.LastModifiedDateInfo, cb: v2.ReturnCallback<number>): void {
    this.run(info, cb, async (ops) => (await this.statOf(info.context, ops, this.vpath(ops, p))).mtime.getTime());
  }

  protected override _creationDate(p: v2.Path, info: v2.CreationDateInfo, cb: v2.ReturnCallback<number>): void {
    this._lastModifiedDate(p, info, cb);
  }

  protected override _etag(p: v2.Path, info: v2.ETagInfo, cb: v2.ReturnCallback<string>): void {
    this.run(info, cb, async (ops) => etagOf(await this.statOf(info.context, ops, this.vpath(ops, p))));
  }

  protected override _readDir(p: v2.Path, info: v2.ReadDirInfo, cb: v2.ReturnCallback<string[]>): void {
    this.run(info, cb, async (ops) => {
      const dir = this.vpath(ops, p);
      const names: string[] = [];
      let cache = this.statCache.get(info.context);
      if (!cache) {
        cache = new Map();
        this.statCache.set(info.context, cache);
      }
      for await (const batch of ops.readDir(dir)) {
        for (const fi of batch) {
          names.push(fi.name);
          // symlinks are listed as lstat'ed; let a later stat resolve them
          if (!fi.isSymlink) cache.set(dir === '/' ? `/${fi.name}` : `${dir}/${fi.name}`, fi);
        }
      }
      return names;
    });
  }

  protected override _create(p: v2.Path, info: v2.CreateInfo, cb: v2.SimpleCallback): void {
    // Only MKCOL and LOCK on an unmapped URL get here: PUT is handled by put.ts,
    // which opens the upload directly (no empty file created first).
    this.run(info, cb, async (ops) => {
      this.changed(info.context);
      const vp = this.vpath(ops, p);
      if (info.type.isDirectory) return ops.mkdir(vp);
      const up = await ops.openWrite(vp, { truncate: true, append: false, exclusive: true, read: false, offset: 0 });
      await up.close();
    });
  }

  protected override _delete(p: v2.Path, info: v2.DeleteInfo, cb: v2.SimpleCallback): void {
    this.run(info, cb, async (ops, u) => {
      this.changed(info.context);
      const vp = this.vpath(ops, p);
      await removeTree(ops, vp);
      u.state.forget(vp);
    });
  }

  protected override _move(from: v2.Path, to: v2.Path, info: v2.MoveInfo, cb: v2.ReturnCallback<boolean>): void {
    this.run(info, cb, async (ops, u) => {
      this.changed(info.context);
      const src = this.vpath(ops, from);
      const dst = this.vpath(ops, to);
      await requireParentDir(ops, dst);
      const existed = await replaceTarget(ops, dst, info.overwrite);
      await ops.rename(src, dst);
      u.state.transferProps(src, dst, false);
      u.state.forget(src);
      return existed;
    });
  }

  protected override _copy(from: v2.Path, to: v2.Path, info: v2.CopyInfo, cb: v2.ReturnCallback<boolean>): void {
    this.run(info, cb, async (ops, u) => {
      this.changed(info.context);
      const src = this.vpath(ops, from);
      const dst = this.vpath(ops, to);
      const fi = await ops.stat(src);
      await requireParentDir(ops, dst);
      const existed = await replaceTarget(ops, dst, info.overwrite);
      if (fi.isDirectory) await copyTree(ops, src, dst, info.depth === 0 ? 0 : -1);
      else await ops.copy(src, dst);
      u.state.transferProps(src, dst, true);
      return existed;
    });
  }

  protected override _lockManager(p: v2.Path, info: v2.LockManagerInfo, cb: v2.ReturnCallback<v2.ILockManager>): void {
    this.run(info, cb, async (ops, u) => new PathLockManager(u.state, this.vpath(ops, p)));
  }

  protected override _propertyManager(p: v2.Path, info: v2.PropertyManagerInfo, cb: v2.ReturnCallback<v2.IPropertyManager>): void {
    this.run(info, cb, async (ops, u) => new DavPropertyManager(u.state, this.vpath(ops, p)));
  }

  /**
   * Token-based lock check (RFC 4918 §7): a resource covered by a lock may be
   * changed only by a request that submits that lock's token in its If
   * header. The library's own check compares user ids instead, which lets the
   * owner write without the token and never frees a shared lock.
   */
  override isLocked(ctx: v2.RequestContext, p: v2.Path | string, depthOrCb: number | v2.ReturnCallback<boolean>, maybeCb?: v2.ReturnCallback<boolean>): void {
    const cb = (typeof depthOrCb === 'function' ? depthOrCb : maybeCb) as v2.ReturnCallback<boolean>;
    this.run({ context: ctx }, cb, async (ops, u) => {
      const vp = ops.cleanPath(typeof p === 'string' ? p : p.toString());
      const locks = u.state.locksCovering(vp);
      if (locks.length === 0) return false;
      const tokens = submittedTokens(ctx.headers.find('If', ''));
      return !locks.some((l) => tokens.has(l.uuid));
    });
  }
}

/** Lock tokens named anywhere in an If header. */
export function submittedTokens(ifHeader: string): Set<string> {
  const out = new Set<string>();
  for (const m of ifHeader.matchAll(/<((?:urn:uuid|opaquelocktoken):[^>\s]+)>/gi)) out.add(m[1]!);
  return out;
}

/** Removes a file or a whole tree through FileOps (so every removal is checked and logged). */
export async function removeTree(ops: FileOps, vpath: string): Promise<void> {
  const fi = await ops.lstat(vpath);
  if (!fi.isDirectory) return ops.removeFile(vpath);
  const children: string[] = [];
  for await (const batch of ops.readDir(vpath)) for (const c of batch) children.push(c.name);
  for (const name of children) await removeTree(ops, childPath(vpath, name));
  await ops.removeDir(vpath);
}

function childPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/**
 * Copies a directory tree through FileOps (common's copy handles files only;
 * SFTPGo copies directories recursively, see report). depth 0 = the
 * collection alone (RFC 4918 §9.8.3).
 */
async function copyTree(ops: FileOps, src: string, dst: string, depth: number): Promise<void> {
  await ops.mkdir(dst);
  if (depth === 0) return;
  const children: FileInfo[] = [];
  for await (const batch of ops.readDir(src)) children.push(...batch);
  for (const c of children) {
    const from = childPath(src, c.name);
    const to = childPath(dst, c.name);
    const fi = c.isSymlink ? await ops.stat(from) : c;
    if (fi.isDirectory) await copyTree(ops, from, to, -1);
    else await ops.copy(from, to);
  }
}

/** COPY/MOVE into a missing collection is a 409 (RFC 4918 §9.8.5), not a 404. */
async function requireParentDir(ops: FileOps, dst: string): Promise<void> {
  const i = dst.lastIndexOf('/');
  const parent = i <= 0 ? '/' : dst.slice(0, i);
  let fi: FileInfo;
  try {
    fi = await ops.stat(parent);
  } catch (e) {
    if (e instanceof FsError && e.kind === 'NotFound') throw new FsError('NotDirectory', 'destination collection missing');
    throw e;
  }
  if (!fi.isDirectory) throw new FsError('NotDirectory', 'destination parent is not a collection');
}

/** For COPY/MOVE: returns whether the target existed; with Overwrite: T it is removed first. */
async function replaceTarget(ops: FileOps, dst: string, overwrite: boolean): Promise<boolean> {
  try {
    await ops.lstat(dst);
  } catch (e) {
    if (e instanceof FsError && e.kind === 'NotFound') return false;
    throw e;
  }
  if (!overwrite) throw new FsError('AlreadyExists');
  await removeTree(ops, dst);
  return true;
}
