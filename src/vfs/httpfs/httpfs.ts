/**
 * The HTTP filesystem backend (filesystem provider 6): storage served by an
 * external service implementing SFTPGo's HTTPFs REST contract
 * (openapi/httpfs.yaml). Paths are sent as the service's names ("/dir/f");
 * the service owns its namespace. Declared as SFTPGo declares HTTPFs: no
 * atomic uploads, no resume, sequential uploads (a streamed POST), chmod,
 * chtimes and truncate through their endpoints, statvfs, no symlinks, no
 * chown, no server-side copy. Nothing is contacted before the first
 * operation (SFTPGo's CheckRootPath for HTTPFs needs only a local temp dir).
 * The contract's `dirsize` and `mimetype` back the optional dirSize and
 * mimeType; a service may answer 501 for them, which this instance then
 * remembers (logged once) so a large listing does not ask again per entry.
 */
import * as path from 'node:path';
import { FsError } from '../../common/errors';
import type { StorageMetrics } from '../../metrics/storage';
import { checkBackendPath, statVfsFrom, type DirSize, type FileInfo, type Fs, type FsFeatures, type OpenWriteOptions, type ReadHandle, type SetStatAttrs, type StatVFS, type WriteHandle } from '../fs';
import { atomicUploadPath } from '../upload-path';
import { HttpFsClient, MAX_LISTING_RESPONSE, type SecretDecrypter } from './client';
import type { HttpFsOptions } from './config';
import { fileInfoOf, goFileMode, goOpenFlags, rfc3339 } from './wire';
import { HttpFsReadHandle, HttpFsWriteHandle } from './handles';

const FEATURES: FsFeatures = {
  atomicRename: false, randomWrite: false, resume: false, commitOnClose: false, readWrite: false, symlinks: false,
  hardlinks: false, chmod: true, chown: false, chtimes: true, truncate: true, statvfs: true, serverSideCopy: false,
};

const DEFAULT_BATCH = 100;
/** SFTPGo's HTTPFs context timeout */
export const HTTPFS_TIMEOUT_MS = 30_000;

export interface HttpFsDeps {
  decrypt: SecretDecrypter;
  metrics: StorageMetrics;
  warn: (msg: string) => void;
  /** ms for a metadata call and for a transfer's answer (default 30 s, as SFTPGo) */
  timeoutMs?: number;
}

const baseName = (p: string): string => (p === '/' ? '/' : path.posix.basename(p));
const unsupported = (what: string): Promise<never> => Promise.reject(new FsError('Unsupported', `${what} is not supported on HTTP storage`));
const notFound = (e: unknown): boolean => e instanceof FsError && e.kind === 'NotFound';
/** The contract's endpoints a service may leave out (answering 501). */
type OptionalOp = 'dirsize' | 'mimetype';
const FALLBACK_OF: Record<OptionalOp, string> = { dirsize: 'quota scans walk the storage instead', mimetype: 'content types come from file extensions only' };


export class HttpFs implements Fs {
  readonly name = 'httpfs';
  readonly provider = 6;
  readonly features = FEATURES;
  readonly root: string;
  private readonly client: HttpFsClient;
  private readonly timeoutMs: number;
  /** optional endpoints the service answered 501 for: not asked again */
  private readonly missing = new Set<OptionalOp>();

  constructor(o: HttpFsOptions, private readonly deps: HttpFsDeps) {
    if (!o.socketPath && o.host === '') throw new FsError('InvalidPath', `HTTP storage: invalid endpoint ${JSON.stringify(o.endpoint)}`);
    this.root = o.endpoint;
    this.timeoutMs = deps.timeoutMs ?? HTTPFS_TIMEOUT_MS;
    this.client = new HttpFsClient(o, { decrypt: deps.decrypt, warn: deps.warn, timeoutMs: this.timeoutMs });
  }

  fsPath(p: string): string {
    checkBackendPath(p);
    return p;
  }

  async ensureRoot(): Promise<void> {
    // the service's root exists by contract; SFTPGo contacts nothing here either
  }

  private async statOrUndefined(p: string): Promise<FileInfo | undefined> {
    return this.stat(p).catch((e: unknown) => { if (notFound(e)) return undefined; throw e; });
  }

  async stat(p: string): Promise<FileInfo> {
    checkBackendPath(p);
    return fileInfoOf(await this.client.json('GET', 'stat', p), baseName(p));
  }

  /** SFTPGo: HTTPFs has no lstat of its own, the service answers for the entry */
  lstat(p: string): Promise<FileInfo> {
    return this.stat(p);
  }

  async *readDir(p: string, batchSize = DEFAULT_BATCH): AsyncIterable<FileInfo[]> {
    checkBackendPath(p);
    const list = await this.client.json('GET', 'readdir', p, '', MAX_LISTING_RESPONSE);
    if (!Array.isArray(list)) throw new FsError('Generic', `httpfs ${this.root}: readdir ${p}: the answer is not a list`);
    let batch: FileInfo[] = [];
    for (const item of list) {
      const fi = fileInfoOf(item);
      if (fi.name === '' || fi.name === '.' || fi.name === '..' || fi.name.includes('/')) continue;
      batch.push(fi);
      if (batch.length >= batchSize) { yield batch; batch = []; }
    }
    if (batch.length > 0) yield batch;
  }

  async openRead(p: string): Promise<ReadHandle> {
    const st = await this.stat(p);
    if (st.isDirectory) throw new FsError('IsDirectory');
    return new HttpFsReadHandle(this.client, p, st.size, this.timeoutMs, this.deps.metrics);
  }

  async openWrite(p: string, opts: OpenWriteOptions): Promise<WriteHandle> {
    if (p === '/') throw new FsError('IsDirectory');
    if (opts.read) throw new FsError('Unsupported', 'HTTP storage files cannot be opened for reading and writing');
    const existing = await this.statOrUndefined(p);
    if (existing?.isDirectory) throw new FsError('IsDirectory');
    if (existing && opts.exclusive) throw new FsError('AlreadyExists');
    if (existing && !opts.truncate) throw new FsError('Unsupported', 'resuming uploads is not supported on HTTP storage');
    // the open fails here, not at the first write, when the directory is missing
    const parent = path.posix.dirname(p);
    if (!existing && parent !== '/') {
      const dir = await this.stat(parent);
      if (!dir.isDirectory) throw new FsError('NotDirectory');
    }
    // checks=1: the service must refuse a missing parent directory (SFTPGo CheckParentDir)
    const ex = await this.client.start('POST', 'create', p, `flags=${goOpenFlags(opts)}&checks=1`, { uploadType: 'application/octet-stream' });
    return new HttpFsWriteHandle(ex, baseName(p), this.root, this.timeoutMs, this.deps.metrics);
  }

  async mkdir(p: string): Promise<void> {
    if (p === '/') throw new FsError('AlreadyExists');
    if (await this.statOrUndefined(p)) throw new FsError('AlreadyExists');
    await this.client.call('POST', 'mkdir', p);
  }

  async remove(p: string): Promise<void> {
    if (p === '/') throw new FsError('PermissionDenied', 'the root cannot be removed');
    if ((await this.stat(p)).isDirectory) throw new FsError('IsDirectory');
    await this.client.call('DELETE', 'remove', p);
  }

  async rmdir(p: string): Promise<void> {
    if (p === '/') throw new FsError('PermissionDenied', 'the root cannot be removed');
    if (!(await this.stat(p)).isDirectory) throw new FsError('NotDirectory');
    try {
      await this.client.call('DELETE', 'remove', p);
    } catch (e) {
      // the contract removes empty directories only; say why when it refused
      if (e instanceof FsError && e.kind === 'Generic' && await this.hasEntries(p)) throw new FsError('NotEmpty');
      throw e;
    }
  }

  private async hasEntries(p: string): Promise<boolean> {
    try {
      for await (const batch of this.readDir(p, 1)) if (batch.length > 0) return true;
    } catch {
      // the original failure is the one to report
    }
    return false;
  }

  async rename(from: string, to: string): Promise<void> {
    if (from === '/' || to === '/') throw new FsError('PermissionDenied', 'the root cannot be renamed');
    checkBackendPath(from);
    checkBackendPath(to);
    await this.client.call('PATCH', 'rename', from, `target=${encodeURIComponent(to)}`);
  }

  async setStat(p: string, attrs: SetStatAttrs): Promise<void> {
    checkBackendPath(p);
    if (attrs.uid !== undefined || attrs.gid !== undefined) return unsupported('changing the owner');
    if (attrs.mode !== undefined) await this.client.call('PATCH', 'chmod', p, `mode=${goFileMode(attrs.mode)}`);
    if (attrs.mtime || attrs.atime) {
      const m = attrs.mtime ?? attrs.atime as Date;
      const a = attrs.atime ?? m;
      await this.client.call('PATCH', 'chtimes', p, `access_time=${encodeURIComponent(rfc3339(a))}&modification_time=${encodeURIComponent(rfc3339(m))}`);
    }
    if (attrs.size !== undefined) await this.client.call('PATCH', 'truncate', p, `size=${attrs.size}`);
  }

  async statvfs(p: string): Promise<StatVFS> {
    checkBackendPath(p);
    const v = await this.client.json('GET', 'statvfs', p);
    return statVfsFrom(typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : {});
  }

  /** An optional endpoint's JSON object; a 501 is remembered and logged once, later calls fail with Unsupported at once. */
  private async optionalCall(op: OptionalOp, p: string): Promise<Record<string, unknown>> {
    checkBackendPath(p);
    if (this.missing.has(op)) throw new FsError('Unsupported', `httpfs ${this.root}: the service does not implement ${op}`);
    let v: unknown;
    try {
      v = await this.client.json('GET', op, p);
    } catch (e) {
      if (e instanceof FsError && e.kind === 'Unsupported' && !this.missing.has(op)) {
        this.missing.add(op);
        this.deps.warn(`httpfs ${this.root}: the service does not implement ${op} (501): ${FALLBACK_OF[op]}`);
      }
      throw e;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FsError('Generic', `httpfs ${this.root}: ${op} ${p}: the answer is not a JSON object`);
    return v as Record<string, unknown>;
  }

  async dirSize(p: string): Promise<DirSize> {
    const v = await this.optionalCall('dirsize', p);
    // a malformed count is an error, never a zero stored as the user's usage
    const count = (k: keyof DirSize): number => {
      const n = v[k];
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new FsError('Generic', `httpfs ${this.root}: dirsize ${p}: "${k}" is not a count`);
      return n;
    };
    return { files: count('files'), size: count('size') };
  }

  async mimeType(p: string): Promise<string> {
    const v = await this.optionalCall('mimetype', p);
    return typeof v.mime === 'string' ? v.mime : '';
  }

  symlink(): Promise<void> { return unsupported('symlink'); }
  readlink(): Promise<string> { return unsupported('readlink'); }
  link(): Promise<void> { return unsupported('link'); }
  copy(): Promise<void> { return unsupported('server side copy'); }

  tempUploadPath(p: string): string { return atomicUploadPath(p); }

  async close(): Promise<void> {
    this.client.close();
  }
}
