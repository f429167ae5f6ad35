/**
 * The Azure Blob backend (filesystem provider 3). Paths map to blob names
 * under key_prefix (the chroot). Directories as SFTPGo models them: a
 * zero-byte blob named like the directory (no trailing slash) with content
 * type application/x-directory and metadata hdi_isfolder=true, or any prefix
 * with blobs below it. Rename is copy + delete (directories only empty, or
 * recursively with common.rename_mode 1); uploads are staged blocks committed
 * at close (upload.ts), reads ranged windows pinned to the etag, one GET
 * per sequential run (vfs/windowed-read.ts, vfs/streamed-run.ts).
 */
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobGetPropertiesResponse, ContainerClient } from '@azure/storage-blob';
import { FsError } from '../../common/errors';
import type { StorageMetrics, StorageRequest } from '../../metrics/storage';
import type { FileInfo, Fs, FsFeatures, OpenWriteOptions, ReadHandle, SetStatAttrs, StatVFS, WriteHandle } from '../fs';
import { S_IFDIR, S_IFREG } from '../fs';
import { drainInto } from '../drain-into';
import { WindowedReadHandle } from '../windowed-read';
import { runFromStreams } from '../run-body';
import { AZ_CALL_TIMEOUT_MS, createContainerClient, fromAzError, type SecretDecrypter } from './client';
import type { AzBlobOptions } from './config';
import { azWriteHandle } from './upload';
import { atomicUploadPath, refuseSetStat } from '../upload-path';
import { checkRewriteSize, cloudFeatures, rewriteExisting } from '../resume-rewrite';

const FEATURES: FsFeatures = {
  atomicRename: false, randomWrite: false, resume: false, commitOnClose: true, readWrite: false, symlinks: false,
  hardlinks: false, chmod: false, chown: false, chtimes: false, truncate: false, statvfs: false, serverSideCopy: true,
};

const DIR_MIME = 'application/x-directory';
const FOLDER_KEY = 'hdi_isfolder';
/** bound on the items one recursive directory rename visits */
const MAX_RENAME_ITEMS = 100_000;
const DEFAULT_BATCH = 100;
const PAGE_SIZE = 5000;
/** a server-side copy still pending after this long fails (Azure copies in the same account are near instant) */
const COPY_TIMEOUT_MS = 10 * 60_000;

export interface AzBlobFsDeps {
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

/** SFTPGo checkDirectoryMarkers */
function isDirMarker(contentType: string | undefined, metadata: Record<string, string> | undefined): boolean {
  if (contentType === DIR_MIME) return true;
  for (const [k, v] of Object.entries(metadata ?? {})) {
    if (k.toLowerCase() === FOLDER_KEY) return v.toLowerCase() === 'true';
  }
  return false;
}

const baseName = (p: string): string => (p === '/' ? '/' : path.posix.basename(p));
const unsupported = (what: string): Promise<never> => Promise.reject(new FsError('Unsupported', `${what} is not supported on Azure Blob`));
const notFound = (e: unknown): boolean => e instanceof FsError && e.kind === 'NotFound';

/** Rejects after `ms` (stopping what `onTimeout` stops); the timer never keeps the process alive. */
function timeoutAfter(ms: number, onTimeout: () => void): Promise<never> {
  return new Promise((_, reject) => {
    setTimeout(() => { onTimeout(); reject(new FsError('Generic', 'timed out')); }, ms).unref();
  });
}

export class AzBlobFs implements Fs {
  readonly name = 'azblobfs';
  readonly provider = 3;
  readonly features: FsFeatures;
  readonly root: string;
  private client: Promise<ContainerClient> | undefined;

  constructor(private readonly o: AzBlobOptions, private readonly deps: AzBlobFsDeps) {
    if (!o.container && !o.sasUrl) throw new FsError('InvalidPath', 'Azure Blob: the container is mandatory');
    this.root = `azblob://${o.container}/${o.keyPrefix}`;
    this.features = cloudFeatures(FEATURES, deps);
  }

  private container(): Promise<ContainerClient> {
    this.client ??= createContainerClient(this.o, this.deps.decrypt).catch((e: unknown) => {
      this.client = undefined;
      const err = fromAzError(e, 'connect');
      this.deps.warn(err.message);
      throw err;
    });
    return this.client;
  }

  /** The blob name of a backend path ("/" is the key prefix itself). */
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

  /** One call with a timeout, counted in sftpgo_az_* and mapped to FsError; failures other than NotFound are logged. */
  private async call<T>(request: StorageRequest | undefined, op: string, run: (c: ContainerClient, signal: AbortSignal) => Promise<T>): Promise<T> {
    const c = await this.container();
    try {
      const out = await run(c, AbortSignal.timeout(AZ_CALL_TIMEOUT_MS));
      if (request) this.deps.metrics.requestCompleted('az', request, false);
      return out;
    } catch (e) {
      const err = fromAzError(e, op);
      if (request) this.deps.metrics.requestCompleted('az', request, err.kind !== 'NotFound');
      if (err.kind !== 'NotFound') this.deps.warn(err.message);
      throw err;
    }
  }

  private async head(name: string): Promise<BlobGetPropertiesResponse | undefined> {
    try {
      return await this.call('head_object', `head ${name}`, (c, abortSignal) => c.getBlobClient(name).getProperties({ abortSignal }));
    } catch (e) {
      if (notFound(e)) return undefined;
      throw e;
    }
  }

  /** Any blob below a directory prefix (SFTPGo hasContents). */
  private async hasContents(prefix: string): Promise<boolean> {
    return this.call('list_objects', `list ${prefix}`, async (c, abortSignal) => {
      const page = await c.listBlobsFlat({ prefix, abortSignal }).byPage({ maxPageSize: 1 }).next();
      return !page.done && page.value.segment.blobItems.length > 0;
    });
  }

  async ensureRoot(): Promise<void> {
    // a key prefix needs no marker: the root always exists (as in SFTPGo)
  }

  async stat(p: string): Promise<FileInfo> {
    if (p === '/') return info('/', true, 0, undefined);
    const name = this.key(p);
    const props = await this.head(name);
    if (props) {
      const isDir = isDirMarker(props.contentType, props.metadata);
      return info(baseName(p), isDir, props.contentLength ?? 0, props.lastModified);
    }
    if (await this.hasContents(name + '/')) return info(baseName(p), true, 0, undefined);
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
      const page = await this.call('list_objects', `list ${prefix}`, async (c, abortSignal) => {
        const it = c.listBlobsByHierarchy('/', { prefix, includeMetadata: true, abortSignal })
          .byPage({ maxPageSize: PAGE_SIZE, continuationToken: token });
        return (await it.next()).value;
      });
      if (!page) break;
      for (const bp of page.segment.blobPrefixes ?? []) {
        const name = bp.name.slice(prefix.length).replace(/\/$/, '');
        if (name === '' || seenDirs.has(name)) continue;
        seenDirs.add(name);
        batch.push(info(name, true, 0, undefined));
      }
      for (const item of page.segment.blobItems) {
        const name = item.name.slice(prefix.length);
        if (name === '') continue;
        const isDir = isDirMarker(item.properties.contentType, item.metadata);
        if (isDir && seenDirs.has(name)) continue;
        if (isDir) seenDirs.add(name);
        batch.push(info(name, isDir, item.properties.contentLength ?? 0, item.properties.lastModified));
      }
      if (batch.length >= batchSize) { yield batch; batch = []; }
      token = page.continuationToken || undefined;
    } while (token);
    if (batch.length > 0) yield batch;
  }

  async openRead(p: string): Promise<ReadHandle> {
    if (p === '/') throw new FsError('IsDirectory');
    const name = this.key(p);
    const props = await this.head(name);
    if (!props) {
      if ((await this.stat(p)).isDirectory) throw new FsError('IsDirectory');
      throw new FsError('NotFound');
    }
    if (isDirMarker(props.contentType, props.metadata)) throw new FsError('IsDirectory');
    const blob = (await this.container()).getBlobClient(name);
    // later GETs must come from the version opened: a replaced blob fails the read (412) instead of mixing bytes
    const conditions = props.etag ? { ifMatch: props.etag } : undefined;
    const get = async (start: number, end: number, signal: AbortSignal): Promise<Readable> => {
      // the SDK's per-try timeout ends at the response headers; a stalled body is bounded by partMaxTime
      const out = await blob.download(start, end - start + 1, { abortSignal: signal, conditions });
      const body = out.readableStreamBody as Readable | undefined;
      if (!body) throw new FsError('Generic', `azblob read ${name}: no body`);
      return body;
    };
    return new WindowedReadHandle({
      name, size: props.contentLength ?? 0, partSize: this.o.downloadPartSize, concurrency: this.o.downloadConcurrency,
      partMaxTime: AZ_CALL_TIMEOUT_MS * 3, backend: 'az', metrics: this.deps.metrics, mapError: (e, op) => fromAzError(e, op),
      fetchRange: async (start, end, buf, signal) => drainInto(await get(start, end, signal), buf, name),
      // the sequential read-ahead: one ranged GET per run of windows (destroying its body destroys the socket)
      openRun: runFromStreams(get),
    });
  }

  async openWrite(p: string, opts: OpenWriteOptions): Promise<WriteHandle> {
    if (p === '/') throw new FsError('IsDirectory');
    if (opts.read) throw new FsError('Unsupported', 'Azure Blob files cannot be opened for reading and writing');
    const existing = await this.stat(p).catch((e: unknown) => {
      if (notFound(e)) return undefined;
      throw e;
    });
    if (existing?.isDirectory) throw new FsError('IsDirectory');
    if (existing && opts.exclusive) throw new FsError('AlreadyExists');
    const resume = existing !== undefined && !opts.truncate;
    if (resume) checkRewriteSize(existing.size, this.features.resumeMaxSize ?? 0, 'Azure Blob');
    const blob = (await this.container()).getBlockBlobClient(this.key(p));
    const handle = azWriteHandle({
      blob, name: baseName(p), headers: {}, accessTier: this.o.accessTier, partSize: this.o.uploadPartSize,
      concurrency: this.o.uploadConcurrency, metrics: this.deps.metrics,
    });
    // a resume rewrites the blob: its bytes first, the client's after them (SFTPGo downloadToWriter)
    if (resume) await rewriteExisting(handle, await this.openRead(p), existing.size);
    return handle;
  }

  async mkdir(p: string): Promise<void> {
    if (p === '/') throw new FsError('AlreadyExists');
    const exists = await this.stat(p).then(() => true, (e: unknown) => {
      if (notFound(e)) return false;
      throw e;
    });
    if (exists) throw new FsError('AlreadyExists');
    await this.putMarker(this.key(p));
  }

  private async putMarker(name: string): Promise<void> {
    await this.call(undefined, `mkdir ${name}`, (c, abortSignal) => c.getBlockBlobClient(name).upload(Buffer.alloc(0), 0, {
      blobHTTPHeaders: { blobContentType: DIR_MIME }, metadata: { [FOLDER_KEY]: 'true' }, abortSignal,
    }));
  }

  private async deleteBlob(name: string): Promise<void> {
    await this.call('delete_object', `delete ${name}`, (c, abortSignal) => c.getBlobClient(name).delete({ abortSignal }));
  }

  async remove(p: string): Promise<void> {
    if (p === '/') throw new FsError('PermissionDenied', 'the root cannot be removed');
    if ((await this.stat(p)).isDirectory) throw new FsError('IsDirectory');
    await this.deleteBlob(this.key(p));
  }

  async rmdir(p: string): Promise<void> {
    if (p === '/') throw new FsError('PermissionDenied', 'the root cannot be removed');
    if (!(await this.stat(p)).isDirectory) throw new FsError('NotDirectory');
    if (await this.hasContents(this.key(p) + '/')) throw new FsError('NotEmpty');
    await this.deleteBlob(this.key(p));
  }

  async rename(from: string, to: string): Promise<void> {
    if (from === '/' || to === '/') throw new FsError('PermissionDenied', 'the root cannot be renamed');
    const src = await this.stat(from);
    await this.renameItem(from, to, src, { left: MAX_RENAME_ITEMS });
  }

  private async renameItem(from: string, to: string, src: FileInfo, budget: { left: number }): Promise<void> {
    if (--budget.left < 0) throw new FsError('Unsupported', 'too many items to rename');
    if (!src.isDirectory) {
      await this.copyBlob(from, to);
      await this.deleteBlob(this.key(from));
      return;
    }
    if (this.deps.renameMode !== 1 && await this.hasContents(this.key(from) + '/')) {
      throw new FsError('Unsupported', `cannot rename non empty directory ${from}: set common.rename_mode 1`);
    }
    await this.putMarker(this.key(to));
    if (this.deps.renameMode === 1) {
      // children are listed before they move: a listing never sees its own output
      const children: FileInfo[] = [];
      for await (const b of this.readDir(from)) children.push(...b);
      for (const c of children) await this.renameItem(`${from}/${c.name}`, `${to}/${c.name}`, c, budget);
    }
    // a directory that only existed as a prefix has no marker to delete
    await this.deleteBlob(this.key(from)).catch((e: unknown) => { if (!notFound(e)) throw e; });
  }

  private async copyBlob(from: string, to: string): Promise<void> {
    const src = this.key(from);
    await this.call('copy_object', `copy ${src}`, async (c, abortSignal) => {
      const poller = await c.getBlobClient(this.key(to)).beginCopyFromURL(c.getBlobClient(src).url, {
        abortSignal, intervalInMs: 500, ...(this.o.accessTier ? { tier: this.o.accessTier } : {}),
      });
      const done = await Promise.race([poller.pollUntilDone(), timeoutAfter(COPY_TIMEOUT_MS, () => poller.stopPolling())]);
      if (done.copyStatus !== undefined && done.copyStatus !== 'success') {
        throw new FsError('Generic', `azblob copy ${src}: copy status ${done.copyStatus}`);
      }
    });
  }

  async copy(from: string, to: string): Promise<void> {
    const src = await this.stat(from);
    if (src.isDirectory) throw new FsError('IsDirectory', 'server side copy handles files only');
    await this.copyBlob(from, to);
  }

  symlink(): Promise<void> { return unsupported('symlink'); }
  readlink(): Promise<string> { return unsupported('readlink'); }
  link(): Promise<void> { return unsupported('link'); }
  statvfs(): Promise<StatVFS> { return unsupported('statvfs'); }

  setStat(_p: string, attrs: SetStatAttrs): Promise<void> { return refuseSetStat(attrs, 'Azure Blob'); }

  tempUploadPath(p: string): string { return atomicUploadPath(p); }

  async close(): Promise<void> {
    // the SDK keeps no per-client sockets to release beyond its shared keep-alive agent
  }
}
