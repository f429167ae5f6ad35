/**
 * The encrypted local backend (filesystem provider 4, SFTPGo's CryptFs): an
 * OsFs whose files hold SFTPGo's encrypted format (dare.ts), so a directory
 * written by SFTPGo reads back here and the other way round. Sizes are
 * reported as plaintext sizes; no resume, no random writes, no truncation,
 * no read+write opens (declared, so common refuses them up front).
 */
import { FsError } from '../../common/errors';
import type { StoredSecret as Secret } from '../fs';
import type { FileInfo, Fs, FsFeatures, OpenWriteOptions, ReadHandle, SetStatAttrs, StatVFS, WriteHandle } from '../fs';
import type { OsFs } from '../osfs';
import { FILE_HEADER_SIZE, deriveFileKey, newFileHeader, parseFileHeader, plainSize } from './dare';
import { CryptReadHandle, CryptWriteHandle } from './handles';

const FEATURES: FsFeatures = {
  atomicRename: true, randomWrite: false, resume: false, commitOnClose: false, readWrite: false, symlinks: true,
  hardlinks: true, chmod: true, chown: true, chtimes: true, truncate: false, statvfs: true, serverSideCopy: true,
};

/** SFTPGo convertCryptFsInfo: a regular file's size without the header and the package overhead. */
function plainInfo(fi: FileInfo): FileInfo {
  if (!fi.isFile) return fi;
  const body = fi.size - FILE_HEADER_SIZE;
  return { ...fi, size: body <= 0 ? 0 : plainSize(body) ?? body };
}

export class CryptFs implements Fs {
  readonly name = 'cryptfs';
  readonly provider = 4;
  readonly features = FEATURES;
  readonly root: string;
  private passphrase: Promise<string> | undefined;

  constructor(private readonly os: OsFs, private readonly secret: Secret | undefined, private readonly decrypt: (s: Secret) => Promise<string>) {
    this.root = os.root;
  }

  private pass(): Promise<string> {
    const secret = this.secret;
    if (!secret || !secret.payload) return Promise.reject(new FsError('Generic', 'encrypted storage: no passphrase configured'));
    this.passphrase ??= this.decrypt(secret).catch((e: unknown) => {
      this.passphrase = undefined;
      throw new FsError('Generic', `encrypted storage: cannot decrypt the passphrase: ${(e as Error).message}`);
    });
    return this.passphrase;
  }

  fsPath(p: string): string { return this.os.fsPath(p); }
  ensureRoot(): Promise<void> { return this.os.ensureRoot(); }
  async stat(p: string): Promise<FileInfo> { return plainInfo(await this.os.stat(p)); }
  async lstat(p: string): Promise<FileInfo> { return plainInfo(await this.os.lstat(p)); }

  async *readDir(p: string, batchSize?: number): AsyncIterable<FileInfo[]> {
    for await (const batch of this.os.readDir(p, batchSize)) yield batch.map(plainInfo);
  }

  async openRead(p: string): Promise<ReadHandle> {
    const pass = await this.pass();
    const inner = await this.os.openRead(p);
    try {
      const header = Buffer.alloc(FILE_HEADER_SIZE);
      const n = await inner.readAt(header, 0, FILE_HEADER_SIZE, 0);
      const body = inner.size - FILE_HEADER_SIZE;
      if (n < FILE_HEADER_SIZE) throw new FsError('Generic', 'encrypted file: truncated header');
      const size = plainSize(body);
      if (size === undefined) throw new FsError('Generic', 'encrypted file: invalid size');
      const key = await deriveFileKey(pass, parseFileHeader(header));
      return new CryptReadHandle(inner, key, size, body);
    } catch (e) {
      await inner.close().catch(() => undefined);
      throw e;
    }
  }

  async openWrite(p: string, opts: OpenWriteOptions): Promise<WriteHandle> {
    if (opts.read) throw new FsError('Unsupported', 'encrypted files cannot be opened for reading and writing');
    if (!opts.truncate && (await this.os.lstat(p).then(() => true, () => false))) {
      throw new FsError('Unsupported', 'resuming uploads is not supported on encrypted storage');
    }
    const pass = await this.pass();
    const inner = await this.os.openWrite(p, { ...opts, truncate: true, append: false });
    try {
      const { header, nonce } = newFileHeader();
      await inner.writeAt(header, 0);
      return new CryptWriteHandle(inner, await deriveFileKey(pass, nonce));
    } catch (e) {
      await inner.abort(e as Error).catch(() => undefined);
      throw e;
    }
  }

  mkdir(p: string): Promise<void> { return this.os.mkdir(p); }
  remove(p: string): Promise<void> { return this.os.remove(p); }
  rmdir(p: string): Promise<void> { return this.os.rmdir(p); }
  rename(from: string, to: string): Promise<void> { return this.os.rename(from, to); }
  symlink(target: string, link: string): Promise<void> { return this.os.symlink(target, link); }
  readlink(p: string): Promise<string> { return this.os.readlink(p); }
  link(existing: string, newPath: string): Promise<void> { return this.os.link(existing, newPath); }
  statvfs(p: string): Promise<StatVFS> { return this.os.statvfs(p); }
  /** the ciphertext copied as is stays valid: the key comes from the passphrase and the file's own nonce */
  copy(from: string, to: string): Promise<void> { return this.os.copy(from, to); }
  tempUploadPath(p: string): string { return this.os.tempUploadPath(p); }
  close(): Promise<void> { return this.os.close(); }

  setStat(p: string, attrs: SetStatAttrs): Promise<void> {
    if (attrs.size !== undefined) return Promise.reject(new FsError('Unsupported', 'encrypted files cannot be truncated'));
    return this.os.setStat(p, attrs);
  }
}
