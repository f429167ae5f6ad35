/**
 * The per-request user (DavUser: FileOps + WebDAV state) and the single
 * webdav-server FileSystem mounted at "/". The library mounts file systems
 * globally, so this one delegates to the FileOps of the user authenticated
 * for the current request. Every rule (permissions, jail, virtual folders,
 * quota, logs) lives behind FileOps.
 */
import { v2 } from 'webdav-server';
import type { FileOps } from '../common/types';
import type { FileInfo } from '../vfs/fs';
import { FsError } from '../common/errors';
import { toDavError } from './status';
import type { UserDavState } from './state';

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

/**
 * Every method that touches content is ours (see library.ts); the library
 * still asks the file system for a resource's type (to build the Allow
 * header) and requires lock/property managers, which are inert here: locks
 * and dead properties live in state.ts.
 */
export class DelegatingFileSystem extends v2.FileSystem {
  constructor(private readonly report: (where: string, e: unknown) => void) {
    super(new NoSerializer());
  }

  /** Runs an async FileOps call and answers a library callback, mapping FsError kinds. */
  private run<T>(info: Ctx, cb: v2.ReturnCallback<T>, fn: (ops: FileOps) => Promise<T>): void {
    const answer = (e?: Error, v?: T): void => {
      try {
        cb(e as Error, v as T);
      } catch (err) {
        // an exception inside the library's continuation must not become an unhandled rejection
        this.report('library callback', err);
        const res = (info.context as Partial<v2.HTTPRequestContext>).response;
        if (res && !res.writableEnded) {
          if (!res.headersSent) res.statusCode = 500;
          res.end();
        }
      }
    };
    let user: DavUser;
    try {
      user = davUserOf(info.context);
    } catch (e) {
      answer(toDavError(e));
      return;
    }
    fn(user.ops).then((v) => answer(undefined, v), (e: unknown) => answer(toDavError(e)));
  }

  protected override _type(p: v2.Path, info: v2.TypeInfo, cb: v2.ReturnCallback<v2.ResourceType>): void {
    this.run(info, cb, async (ops) => {
      const fi = await ops.stat(ops.cleanPath(p.toString()));
      return fi.isDirectory ? v2.ResourceType.Directory : v2.ResourceType.File;
    });
  }

  protected override _lockManager(_p: v2.Path, _info: v2.LockManagerInfo, cb: v2.ReturnCallback<v2.ILockManager>): void {
    cb(undefined as unknown as Error, new v2.LocalLockManager());
  }

  protected override _propertyManager(_p: v2.Path, _info: v2.PropertyManagerInfo, cb: v2.ReturnCallback<v2.IPropertyManager>): void {
    cb(undefined as unknown as Error, new v2.LocalPropertyManager());
  }
}
