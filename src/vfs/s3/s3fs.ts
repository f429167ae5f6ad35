/**
 * The S3 backend (filesystem provider 1). Paths map to keys under
 * key_prefix (the chroot). Directories are modelled as SFTPGo does: a
 * zero-byte "dir/" marker with content type application/x-directory, or any
 * common prefix with objects below it. Rename is copy + delete (directories
 * only empty, or recursively with common.rename_mode 1); uploads are
 * multipart streams (upload.ts), reads ranged windows (download.ts).
 */
import * as path from 'node:path';
import {
  CopyObjectCommand, DeleteObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand,
  type HeadObjectCommandOutput, type S3Client,
} from '@aws-sdk/client-s3';
import { FsError } from '../../common/errors';
import type { StorageMetrics, StorageRequest } from '../../metrics/storage';
import type { FileInfo, Fs, FsFeatures, OpenWriteOptions, ReadHandle, SetStatAttrs, StatVFS, WriteHandle } from '../fs';
import { S_IFDIR, S_IFREG } from '../fs';
import { createS3Client, fromS3Error, S3_CALL_TIMEOUT_MS, sseParams, type SecretDecrypter, type SseParams } from './client';
import type { S3Options } from './config';
import { S3ReadHandle } from './download';
import { S3Requests } from './hot';
import { s3WriteHandle } from './upload';
import { atomicUploadPath, refuseSetStat } from '../upload-path';
import { checkRewriteSize, cloudFeatures, rewriteExisting } from '../resume-rewrite';

const FEATURES: FsFeatures = {
  atomicRename: false, randomWrite: false, resume: false, commitOnClose: true, readWrite: false, symlinks: false,
  hardlinks: false, chmod: false, chown: false, chtimes: false, truncate: false, statvfs: false, serverSideCopy: true,
};

const DIR_MIME = 'application/x-directory';
const DIR_MIMES = new Set([DIR_MIME, 'httpd/unix-directory']);
/** CopyObject's limit; bigger objects would need a multipart copy */
const MAX_COPY_SIZE = 5 * 1024 * 1024 * 1024;
/** bound on the items one recursive directory rename visits */
const MAX_RENAME_ITEMS = 100_000;
const DEFAULT_BATCH = 100;

export interface S3FsDeps {
  decrypt: SecretDecrypter;
  metrics: StorageMetrics;
  /** common.rename_mode: 1 renames non-empty directories recursively */
  renameMode: number;
  /** common.upload_mode has this backend's bit (4 S3, 8 GCS, 16 Azure): an interrupted upload keeps what was received */
  keepPartialUploads?: boolean;
  /** common.resume_max_size: objects up to this size are resumed by rewriting them (0: only empty ones, as SFTPGo) */
  resumeMaxSize?: number;
  warn: (msg: string) => void;
}

function info(name: string, isDir: boolean, size: number, mtime: Date | undefined): FileInfo {
  const t = mtime ?? new Date(0);
  return {
    name, size: isDir ? 0 : size, mode: isDir ? S_IFDIR | 0o755 : S_IFREG | 0o644, mtime: t, atime: t, uid: 0, gid: 0,
    isDirectory: isDir, isFile: !isDir, isSymlink: false,
  };
}

const baseName = (p: string): string => (p === '/' ? '/' : path.posix.basename(p));
const unsupported = (what: string): Promise<never> => Promise.reject(new FsError('Unsupported', `${what} is not supported on S3`));

export class S3Fs implements Fs {
  readonly name = 's3fs';
  readonly provider = 1;
  readonly features: FsFeatures;
  readonly root: string;
  private readonly client: S3Client;
  private sse: Promise<SseParams> | undefined;
  /** UploadPart and ranged GETs without the SDK, resolved at the first transfer */
  private hot: Promise<S3Requests | undefined> | undefined;

  constructor(private readonly o: S3Options, private readonly deps: S3FsDeps) {
    if (!o.bucket) throw new FsError('InvalidPath', 'S3: the bucket is mandatory');
    this.root = `s3://${o.bucket}/${o.keyPrefix}`;
    this.features = cloudFeatures(FEATURES, deps);
    this.client = createS3Client(o, deps.decrypt);
  }

  /** The object key of a backend path ("/" is the key prefix itself). */
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

  private sseParams(): Promise<SseParams> {
    this.sse ??= sseParams(this.o, this.deps.decrypt).catch((e: unknown) => {
      this.sse = undefined;
      throw new FsError('Generic', `s3: cannot decrypt the SSE customer key: ${(e as Error).message}`);
    });
    return this.sse;
  }

  private hotRequests(): Promise<S3Requests | undefined> {
    this.hot ??= S3Requests.forClient(this.client, this.o).catch((e: unknown) => {
      this.hot = undefined;
      throw fromS3Error(e, 'endpoint');
    });
    return this.hot;
  }

  /** One metadata call with a timeout, counted in sftpgo_s3_* and mapped to FsError. */
  private async call<T>(request: StorageRequest | undefined, op: string, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      const out = await run(AbortSignal.timeout(S3_CALL_TIMEOUT_MS));
      if (request) this.deps.metrics.requestCompleted('s3', request, false);
      return out;
    } catch (e) {
      const err = fromS3Error(e, op);
      if (request) this.deps.metrics.requestCompleted('s3', request, err.kind !== 'NotFound');
      // the client sees a plain failure; the log says what the backend answered
      if (err.kind !== 'NotFound') this.deps.warn(err.message);
      throw err;
    }
  }

  private async head(key: string): Promise<HeadObjectCommandOutput | undefined> {
    const sse = await this.sseParams();
    try {
      return await this.call('head_object', `head ${key}`, (abortSignal) =>
        this.client.send(new HeadObjectCommand({ Bucket: this.o.bucket, Key: key, ...sse }), { abortSignal }));
    } catch (e) {
      if (e instanceof FsError && e.kind === 'NotFound') return undefined;
      throw e;
    }
  }

  /** Objects below a directory prefix other than its own marker (SFTPGo hasContents). */
  private async hasContents(prefix: string): Promise<boolean> {
    const out = await this.call('list_objects', `list ${prefix}`, (abortSignal) =>
      this.client.send(new ListObjectsV2Command({ Bucket: this.o.bucket, Prefix: prefix, MaxKeys: 2 }), { abortSignal }));
    return (out.Contents ?? []).some((c) => c.Key !== undefined && c.Key !== prefix);
  }

  async ensureRoot(): Promise<void> {
    // a key prefix needs no marker: the root always exists (as in SFTPGo)
  }

  async stat(p: string): Promise<FileInfo> {
    if (p === '/') return info('/', true, 0, undefined);
    const key = this.key(p);
    const obj = await this.head(key);
    if (obj) {
      let isDir = DIR_MIMES.has(obj.ContentType ?? '');
      if (!isDir && (obj.ContentLength ?? 0) === 0) isDir = (await this.head(key + '/')) !== undefined;
      return info(baseName(p), isDir, obj.ContentLength ?? 0, obj.LastModified);
    }
    if (await this.hasContents(key + '/')) return info(baseName(p), true, 0, undefined);
    const marker = await this.head(key + '/');
    if (marker) return info(baseName(p), true, 0, marker.LastModified);
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
    // bounded by the listing: every page moves the continuation token forward
    do {
      const page = await this.call('list_objects', `list ${prefix}`, (abortSignal) => this.client.send(new ListObjectsV2Command({
        Bucket: this.o.bucket, Prefix: prefix, Delimiter: '/', MaxKeys: 1000, ContinuationToken: token,
      }), { abortSignal }));
      for (const cp of page.CommonPrefixes ?? []) {
        const name = (cp.Prefix ?? '').slice(prefix.length).replace(/\/$/, '');
        if (name === '' || seenDirs.has(name)) continue;
        seenDirs.add(name);
        batch.push(info(name, true, 0, undefined));
      }
      for (const obj of page.Contents ?? []) {
        const rel = (obj.Key ?? '').slice(prefix.length);
        if (rel === '') continue; // the directory's own marker
        const isDir = rel.endsWith('/');
        const name = isDir ? rel.slice(0, -1) : rel;
        if (isDir && seenDirs.has(name)) continue;
        if (isDir) seenDirs.add(name);
        batch.push(info(name, isDir, obj.Size ?? 0, obj.LastModified));
      }
      if (batch.length >= batchSize) { yield batch; batch = []; }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
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
    if (DIR_MIMES.has(obj.ContentType ?? '')) throw new FsError('IsDirectory');
    return new S3ReadHandle({
      client: this.client, requests: await this.hotRequests(), bucket: this.o.bucket, key, size: obj.ContentLength ?? 0, etag: obj.ETag, sse: await this.sseParams(),
      partSize: this.o.downloadPartSize, concurrency: this.o.downloadConcurrency, partMaxTime: this.o.downloadPartMaxTime,
      metrics: this.deps.metrics,
    });
  }

  async openWrite(p: string, opts: OpenWriteOptions): Promise<WriteHandle> {
    if (p === '/') throw new FsError('IsDirectory');
    if (opts.read) throw new FsError('Unsupported', 'S3 files cannot be opened for reading and writing');
    const key = this.key(p);
    const existing = await this.stat(p).catch((e: unknown) => {
      if (e instanceof FsError && e.kind === 'NotFound') return undefined;
      throw e;
    });
    if (existing?.isDirectory) throw new FsError('IsDirectory');
    if (existing && opts.exclusive) throw new FsError('AlreadyExists');
    const resume = existing !== undefined && !opts.truncate;
    if (resume) checkRewriteSize(existing.size, this.features.resumeMaxSize ?? 0, 'S3');
    const handle = s3WriteHandle({
      client: this.client, requests: await this.hotRequests(), bucket: this.o.bucket, key, name: baseName(p), storageClass: this.o.storageClass, acl: this.o.acl,
      sse: await this.sseParams(), partSize: this.o.uploadPartSize, concurrency: this.o.uploadConcurrency,
      partMaxTime: this.o.uploadPartMaxTime, metrics: this.deps.metrics, warn: this.deps.warn,
    });
    // a resume rewrites the object: its bytes first, the client's after them (SFTPGo downloadToWriter)
    if (resume) await rewriteExisting(handle, await this.openRead(p), existing.size);
    return handle;
  }

  async mkdir(p: string): Promise<void> {
    if (p === '/') throw new FsError('AlreadyExists');
    const exists = await this.stat(p).then(() => true, (e: unknown) => {
      if (e instanceof FsError && e.kind === 'NotFound') return false;
      throw e;
    });
    if (exists) throw new FsError('AlreadyExists');
    await this.putMarker(this.key(p) + '/');
  }

  private async putMarker(key: string): Promise<void> {
    const sse = await this.sseParams();
    await this.call(undefined, `mkdir ${key}`, (abortSignal) => this.client.send(new PutObjectCommand({
      Bucket: this.o.bucket, Key: key, Body: Buffer.alloc(0), ContentLength: 0, ContentType: DIR_MIME,
      StorageClass: (this.o.storageClass || undefined) as never, ACL: (this.o.acl || undefined) as never, ...sse,
    }), { abortSignal }));
  }

  private async deleteKey(key: string): Promise<void> {
    await this.call('delete_object', `delete ${key}`, (abortSignal) =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.o.bucket, Key: key }), { abortSignal }));
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
    await this.deleteKey(this.key(p) + '/');
  }

  async rename(from: string, to: string): Promise<void> {
    if (from === '/' || to === '/') throw new FsError('PermissionDenied', 'the root cannot be renamed');
    const src = await this.stat(from);
    await this.renameItem(from, to, src, { left: MAX_RENAME_ITEMS });
  }

  private async renameItem(from: string, to: string, src: FileInfo, budget: { left: number }): Promise<void> {
    if (--budget.left < 0) throw new FsError('Unsupported', 'too many items to rename');
    if (!src.isDirectory) {
      await this.copyKey(from, to, src.size);
      await this.deleteKey(this.key(from));
      return;
    }
    if (this.deps.renameMode !== 1 && await this.hasContents(this.key(from) + '/')) {
      throw new FsError('Unsupported', `cannot rename non empty directory ${from}: set common.rename_mode 1`);
    }
    await this.putMarker(this.key(to) + '/');
    if (this.deps.renameMode === 1) {
      // children are listed page by page before they move: a listing never sees its own output
      const children: FileInfo[] = [];
      for await (const b of this.readDir(from)) children.push(...b);
      for (const c of children) await this.renameItem(`${from}/${c.name}`, `${to}/${c.name}`, c, budget);
    }
    await this.deleteKey(this.key(from) + '/').catch((e: unknown) => {
      if (!(e instanceof FsError && e.kind === 'NotFound')) throw e;
    });
  }

  private async copyKey(from: string, to: string, size: number): Promise<void> {
    if (size > MAX_COPY_SIZE) throw new FsError('Unsupported', 'S3 server side copy is limited to 5 GiB objects');
    const sse = await this.sseParams();
    const source = `${this.o.bucket}/${this.key(from)}`.split('/').map(encodeURIComponent).join('/');
    await this.call('copy_object', `copy ${this.key(from)}`, (abortSignal) => this.client.send(new CopyObjectCommand({
      Bucket: this.o.bucket, Key: this.key(to), CopySource: source,
      StorageClass: (this.o.storageClass || undefined) as never, ACL: (this.o.acl || undefined) as never,
      ...sse, CopySourceSSECustomerAlgorithm: sse.SSECustomerAlgorithm, CopySourceSSECustomerKey: sse.SSECustomerKey,
      CopySourceSSECustomerKeyMD5: sse.SSECustomerKeyMD5,
    }), { abortSignal }));
  }

  async copy(from: string, to: string): Promise<void> {
    const src = await this.stat(from);
    if (src.isDirectory) throw new FsError('IsDirectory', 'server side copy handles files only');
    await this.copyKey(from, to, src.size);
  }

  symlink(): Promise<void> { return unsupported('symlink'); }
  readlink(): Promise<string> { return unsupported('readlink'); }
  link(): Promise<void> { return unsupported('link'); }
  statvfs(): Promise<StatVFS> { return unsupported('statvfs'); }

  setStat(_p: string, attrs: SetStatAttrs): Promise<void> { return refuseSetStat(attrs, 'S3'); }

  tempUploadPath(p: string): string { return atomicUploadPath(p); }

  async close(): Promise<void> {
    this.client.destroy();
    (await this.hot?.catch(() => undefined))?.destroy();
  }
}
