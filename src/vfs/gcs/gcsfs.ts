/**
 * The Google Cloud Storage backend (filesystem provider 2). Paths map to
 * object names under key_prefix (the chroot). Directories as SFTPGo models
 * them on GCS: a zero-byte "dir/" object with content type
 * application/x-directory, or any prefix with objects below it. Rename is
 * copy + delete (directories only empty, or recursively with
 * common.rename_mode 1); uploads are resumable streams (upload.ts), reads
 * ranged windows pinned to the object generation, one GET per sequential
 * run (download.ts).
 */
import * as path from 'node:path';
import type { Bucket, CombineOptions, FileMetadata } from '@google-cloud/storage';
import { FsError } from '../../common/errors';
import type { StorageMetrics, StorageRequest } from '../../metrics/storage';
import type { FileInfo, Fs, FsFeatures, OpenWriteOptions, ReadHandle, SetStatAttrs, StatVFS, WriteHandle } from '../fs';
import { S_IFDIR, S_IFREG } from '../fs';
import { createBucket, fromGcsError, GCS_CALL_TIMEOUT_MS, type SecretDecrypter } from './client';
import type { GcsOptions } from './config';
import { gcsReadHandle } from './download';
import { GcsWriteHandle, type GcsUploadParams } from './upload';
import { atomicUploadPath, partialObjectPath, refuseSetStat } from '../upload-path';

const FEATURES: FsFeatures = {
  atomicRename: false, randomWrite: false, resume: false, commitOnClose: true, readWrite: false, symlinks: false,
  hardlinks: false, chmod: false, chown: false, chtimes: false, truncate: false, statvfs: false, serverSideCopy: true,
};

const DIR_MIME = 'application/x-directory';
/** bound on the items one recursive directory rename visits */
const MAX_RENAME_ITEMS = 100_000;
const DEFAULT_BATCH = 100;

export interface GcsFsDeps {
  decrypt: SecretDecrypter;
  metrics: StorageMetrics;
  /** common.rename_mode: 1 renames non-empty directories recursively */
  renameMode: number;
  /** common.upload_mode has this backend's bit (4 S3, 8 GCS, 16 Azure): an interrupted upload keeps what was received */
  keepPartialUploads?: boolean;
  warn: (msg: string) => void;
  /** tests point the SDK at a local JSON-API server */
  apiEndpoint?: string;
}

function info(name: string, isDir: boolean, size: number, mtime: Date | undefined): FileInfo {
  const t = mtime ?? new Date(0);
  return {
    name, size: isDir ? 0 : size, mode: isDir ? S_IFDIR | 0o755 : S_IFREG | 0o644, mtime: t, atime: t, uid: 0, gid: 0,
    isDirectory: isDir, isFile: !isDir, isSymlink: false,
  };
}

const sizeOf = (m: FileMetadata): number => Number(m.size ?? 0);
const updatedOf = (m: FileMetadata): Date | undefined => (m.updated ? new Date(m.updated) : undefined);
const baseName = (p: string): string => (p === '/' ? '/' : path.posix.basename(p));
const unsupported = (what: string): Promise<never> => Promise.reject(new FsError('Unsupported', `${what} is not supported on GCS`));
const notFound = (e: unknown): boolean => e instanceof FsError && e.kind === 'NotFound';

/** Rejects after `ms`; the timer never keeps the process alive. */
function deadline<T>(ms: number, run: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new FsError('Generic', 'timed out')), ms);
    timer.unref();
  });
  return Promise.race([run, timeout]).finally(() => clearTimeout(timer));
}

export class GcsFs implements Fs {
  readonly name = 'gcsfs';
  readonly provider = 2;
  readonly features: FsFeatures;
  readonly root: string;
  private client: Promise<Bucket> | undefined;

  constructor(private readonly o: GcsOptions, private readonly deps: GcsFsDeps) {
    if (!o.bucket) throw new FsError('InvalidPath', 'GCS: the bucket is mandatory');
    this.root = `gs://${o.bucket}/${o.keyPrefix}`;
    // a resume composes the old object and the new bytes server side: any size, as SFTPGo
    this.features = { ...FEATURES, resumeMaxSize: Number.MAX_SAFE_INTEGER, keepPartialUploads: deps.keepPartialUploads ?? false };
  }

  private bucket(): Promise<Bucket> {
    this.client ??= createBucket(this.o, this.deps.decrypt, this.deps.apiEndpoint).catch((e: unknown) => {
      this.client = undefined;
      const err = fromGcsError(e, 'connect');
      this.deps.warn(err.message);
      throw err;
    });
    return this.client;
  }

  /** The object name of a backend path ("/" is the key prefix itself). */
  key(p: string): string {
    if (!p.startsWith('/') || p.includes('\0') || p.split('/').some((s) => s === '..' || s === '.')) {
      throw new FsError('InvalidPath', `invalid backend path ${JSON.stringify(p)}`);
    }
    return this.o.keyPrefix + p.slice(1).replace(/\/+$/, '');
  }

  private dirPrefix(p: string): string {
    return p === '/' ? this.o.keyPrefix : this.key(p) + '/';
  }

  fsPath(p: string): string {
    return this.key(p);
  }

  /** One call with a deadline, counted in sftpgo_gcs_* and mapped to FsError; failures other than NotFound are logged. */
  private async call<T>(request: StorageRequest | undefined, op: string, run: (b: Bucket) => Promise<T>): Promise<T> {
    const b = await this.bucket();
    try {
      const out = await deadline(GCS_CALL_TIMEOUT_MS * 2, run(b));
      if (request) this.deps.metrics.requestCompleted('gcs', request, false);
      return out;
    } catch (e) {
      const err = fromGcsError(e, op);
      if (request) this.deps.metrics.requestCompleted('gcs', request, err.kind !== 'NotFound');
      if (err.kind !== 'NotFound') this.deps.warn(err.message);
      throw err;
    }
  }

  private async head(key: string): Promise<FileMetadata | undefined> {
    try {
      return await this.call('head_object', `head ${key}`, async (b) => (await b.file(key).getMetadata())[0]);
    } catch (e) {
      if (notFound(e)) return undefined;
      throw e;
    }
  }

  /** Objects below a directory prefix other than its own marker (SFTPGo hasContents). */
  private async hasContents(prefix: string): Promise<boolean> {
    const [files] = await this.call('list_objects', `list ${prefix}`, (b) => b.getFiles({ prefix, autoPaginate: false, maxResults: 2 }));
    return files.some((f) => f.name !== prefix);
  }

  async ensureRoot(): Promise<void> {
    // a key prefix needs no marker: the root always exists (as in SFTPGo)
  }

  async stat(p: string): Promise<FileInfo> {
    if (p === '/') return info('/', true, 0, undefined);
    const key = this.key(p);
    const obj = await this.head(key);
    if (obj) return info(baseName(p), obj.contentType === DIR_MIME, sizeOf(obj), updatedOf(obj));
    if (await this.hasContents(key + '/')) return info(baseName(p), true, 0, undefined);
    const marker = await this.head(key + '/');
    if (marker) return info(baseName(p), true, 0, updatedOf(marker));
    throw new FsError('NotFound');
  }

  lstat(p: string): Promise<FileInfo> {
    return this.stat(p);
  }

  async *readDir(p: string, batchSize = DEFAULT_BATCH): AsyncIterable<FileInfo[]> {
    if (p !== '/' && !(await this.stat(p)).isDirectory) throw new FsError('NotDirectory');
    const prefix = this.dirPrefix(p);
    const seenDirs = new Set<string>();
    let token: string | undefined;
    let batch: FileInfo[] = [];
    // bounded by the listing: every page moves the page token forward
    do {
      const [files, , raw] = await this.call('list_objects', `list ${prefix}`, (b) => b.getFiles({
        prefix, delimiter: '/', autoPaginate: false, maxResults: 1000, pageToken: token,
      }));
      const page = (raw ?? {}) as { prefixes?: string[]; nextPageToken?: string };
      for (const cp of page.prefixes ?? []) {
        const name = cp.slice(prefix.length).replace(/\/$/, '');
        if (name === '' || seenDirs.has(name)) continue;
        seenDirs.add(name);
        batch.push(info(name, true, 0, undefined));
      }
      for (const f of files) {
        const rel = f.name.slice(prefix.length);
        if (rel === '') continue; // the directory's own marker
        const isDir = rel.endsWith('/') || f.metadata.contentType === DIR_MIME;
        const name = rel.replace(/\/$/, '');
        if (isDir && seenDirs.has(name)) continue;
        if (isDir) seenDirs.add(name);
        batch.push(info(name, isDir, sizeOf(f.metadata), updatedOf(f.metadata)));
      }
      if (batch.length >= batchSize) { yield batch; batch = []; }
      token = page.nextPageToken || undefined;
    } while (token);
    if (batch.length > 0) yield batch;
  }

  async openRead(p: string): Promise<ReadHandle> {
    const key = this.key(p);
    const obj = p === '/' ? undefined : await this.head(key);
    if (!obj) {
      if (p === '/' || (await this.stat(p)).isDirectory) throw new FsError('IsDirectory');
      throw new FsError('NotFound');
    }
    if (obj.contentType === DIR_MIME) throw new FsError('IsDirectory');
    // pinned to the generation opened: a replaced object fails the read instead of mixing versions
    return gcsReadHandle({
      bucket: await this.bucket(), key, size: sizeOf(obj), metrics: this.deps.metrics,
      generation: obj.generation !== undefined ? Number(obj.generation) : undefined,
    });
  }

  async openWrite(p: string, opts: OpenWriteOptions): Promise<WriteHandle> {
    if (p === '/') throw new FsError('IsDirectory');
    if (opts.read) throw new FsError('Unsupported', 'GCS files cannot be opened for reading and writing');
    const existing = await this.stat(p).catch((e: unknown) => { if (notFound(e)) return undefined; throw e; });
    if (existing?.isDirectory) throw new FsError('IsDirectory');
    if (existing && opts.exclusive) throw new FsError('AlreadyExists');
    const upload = { name: baseName(p), storageClass: this.o.storageClass, acl: this.o.acl, partSize: this.o.uploadPartSize, partMaxTime: this.o.uploadPartMaxTime, metrics: this.deps.metrics };
    if (existing && !opts.truncate) return this.resumeHandle(p, upload);
    return new GcsWriteHandle({ ...upload, file: (await this.bucket()).file(this.key(p)) });
  }

  /**
   * SFTPGo's GCS resume: the new bytes go to a `.sftpgo-partial.<id>.<name>`
   * object beside the target, then the target is composed from its current
   * generation and that object (the generation precondition refuses an
   * object replaced meanwhile) and the partial object deleted.
   */
  private async resumeHandle(p: string, upload: Omit<GcsUploadParams, 'file'>): Promise<WriteHandle> {
    const key = this.key(p);
    const obj = await this.head(key);
    if (!obj || obj.generation === undefined) throw new FsError('NotFound', `unable to resume ${p}: the object is gone`);
    const generation = Number(obj.generation);
    const partial = this.key(partialObjectPath(p));
    const b = await this.bucket();
    const compose = async (): Promise<void> => {
      try {
        // the SDK passes unknown options on as query parameters: the ACL is compose's destinationPredefinedAcl
        const options: CombineOptions & { destinationPredefinedAcl?: string } = { ifGenerationMatch: generation, ...(this.o.acl ? { destinationPredefinedAcl: this.o.acl } : {}) };
        await this.call(undefined, `compose ${key}`, (bk) => bk.combine([bk.file(key, { generation }), bk.file(partial)], bk.file(key), options));
      } finally {
        await this.call('delete_object', `delete ${partial}`, (bk) => bk.file(partial).delete({ ignoreNotFound: true })).catch(() => undefined);
      }
    };
    return new GcsWriteHandle({ ...upload, file: b.file(partial), startAt: sizeOf(obj), finalize: compose });
  }

  async mkdir(p: string): Promise<void> {
    if (p === '/') throw new FsError('AlreadyExists');
    const exists = await this.stat(p).then(() => true, (e: unknown) => { if (notFound(e)) return false; throw e; });
    if (exists) throw new FsError('AlreadyExists');
    await this.putMarker(this.key(p) + '/');
  }

  private async putMarker(key: string): Promise<void> {
    await this.call(undefined, `mkdir ${key}`, (b) => b.file(key).save(Buffer.alloc(0), {
      resumable: false, contentType: DIR_MIME, validation: false,
      metadata: this.o.storageClass ? { storageClass: this.o.storageClass } : {},
      ...(this.o.acl ? { predefinedAcl: this.o.acl as 'private' } : {}),
    }));
  }

  private async deleteKey(key: string): Promise<void> {
    await this.call('delete_object', `delete ${key}`, (b) => b.file(key).delete());
  }

  async remove(p: string): Promise<void> {
    if (p === '/') throw new FsError('PermissionDenied', 'the root cannot be removed');
    if ((await this.stat(p)).isDirectory) throw new FsError('IsDirectory');
    await this.deleteKey(this.key(p));
  }

  async rmdir(p: string): Promise<void> {
    if (p === '/') throw new FsError('PermissionDenied', 'the root cannot be removed');
    if (!(await this.stat(p)).isDirectory) throw new FsError('NotDirectory');
    if (await this.hasContents(this.key(p) + '/')) throw new FsError('NotEmpty');
    await this.deleteKey(this.key(p) + '/').catch((e: unknown) => { if (!notFound(e)) throw e; });
  }

  async rename(from: string, to: string): Promise<void> {
    if (from === '/' || to === '/') throw new FsError('PermissionDenied', 'the root cannot be renamed');
    const src = await this.stat(from);
    await this.renameItem(from, to, src, { left: MAX_RENAME_ITEMS });
  }

  private async renameItem(from: string, to: string, src: FileInfo, budget: { left: number }): Promise<void> {
    if (--budget.left < 0) throw new FsError('Unsupported', 'too many items to rename');
    if (!src.isDirectory) {
      await this.copyKey(from, to);
      await this.deleteKey(this.key(from));
      return;
    }
    if (this.deps.renameMode !== 1 && await this.hasContents(this.key(from) + '/')) {
      throw new FsError('Unsupported', `cannot rename non empty directory ${from}: set common.rename_mode 1`);
    }
    await this.putMarker(this.key(to) + '/');
    if (this.deps.renameMode === 1) {
      // children are listed before they move: a listing never sees its own output
      const children: FileInfo[] = [];
      for await (const b of this.readDir(from)) children.push(...b);
      for (const c of children) await this.renameItem(`${from}/${c.name}`, `${to}/${c.name}`, c, budget);
    }
    await this.deleteKey(this.key(from) + '/').catch((e: unknown) => { if (!notFound(e)) throw e; });
  }

  private async copyKey(from: string, to: string): Promise<void> {
    await this.call('copy_object', `copy ${this.key(from)}`, (b) => b.file(this.key(from)).copy(b.file(this.key(to))));
  }

  async copy(from: string, to: string): Promise<void> {
    const src = await this.stat(from);
    if (src.isDirectory) throw new FsError('IsDirectory', 'server side copy handles files only');
    await this.copyKey(from, to);
  }

  symlink(): Promise<void> { return unsupported('symlink'); }
  readlink(): Promise<string> { return unsupported('readlink'); }
  link(): Promise<void> { return unsupported('link'); }
  statvfs(): Promise<StatVFS> { return unsupported('statvfs'); }

  setStat(_p: string, attrs: SetStatAttrs): Promise<void> { return refuseSetStat(attrs, 'GCS'); }

  tempUploadPath(p: string): string { return atomicUploadPath(p); }

  async close(): Promise<void> {
    // the SDK's sockets are pooled by its shared agent
  }
}
