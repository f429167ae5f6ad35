/**
 * Size-based log rotation in lumberjack's style (what SFTPGo uses):
 * `<name>.<ext>` is renamed to `<name>-<YYYY-MM-DDTHH-MM-SS.mmm>.<ext>` when
 * the next line would exceed maxSize, optionally gzipped, and old backups are
 * pruned by count (maxBackups) and age (maxAgeDays).
 *
 * With `serve --workers` every process appends to the same file, so the size
 * that counts is the file's, not what one process wrote: each process
 * re-reads it (fstat, cheap) every SIZE_CHECK_FRACTION of maxSize it writes.
 * A worker whose file is full asks the primary (requestRotation 'size'),
 * which renames it only if it is still full at the path (two workers asking
 * at once rotate it once) and has every process reopen.
 *
 * No line is lost: the old SonicBoom keeps its file descriptor, which after
 * the rename points at the backup, so `end()` drains its buffer there while
 * new lines already go to a fresh SonicBoom on the original path.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import pino from 'pino';
import { formatBackupTime } from './format';

type Boom = ReturnType<typeof pino.destination>;

export interface RotationOptions {
  filePath: string;
  maxSizeMB: number;
  maxBackups: number;
  maxAgeDays: number;
  compress: boolean;
  utc: boolean;
  /** Reports I/O problems (the logger cannot log about itself). */
  onError: (err: Error) => void;
  /**
   * A `serve --workers` worker: the file is shared, so a forced rotation (SIGUSR1 is the primary's, the event
   * manager's rotate action here) is asked of the primary, which renames it once and has every process reopen.
   */
  requestRotation?: (reason: RotationReason) => void;
}

/** forced: SIGUSR1 or the event manager's action; size: the shared file reached maxSize */
export type RotationReason = 'forced' | 'size';

/** How much of maxSize one process writes between two looks at the file's real size. */
const SIZE_CHECK_FRACTION = 1 / 16;

const BACKUP_TIME_LEN = 'YYYY-MM-DDTHH-MM-SS.mmm'.length;
const DAY_MS = 24 * 60 * 60 * 1000;

export class RotatingFile {
  private current: Boom;
  private size: number;
  private readonly maxBytes: number;
  private readonly dir: string;
  private readonly base: string;
  private readonly ext: string;
  /** Backup jobs run one after another so pruning never sees a half-compressed file. */
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  /** bytes written since the file's size was last read */
  private sinceCheck = 0;
  /** a worker asked for a size rotation since the last check (one request per check interval) */
  private asked = false;
  /** the primary of `serve --workers`: after renaming the file by size, the workers must reopen it */
  private afterSizeRotation: (() => void) | undefined;

  constructor(private readonly opts: RotationOptions) {
    this.dir = path.dirname(opts.filePath);
    this.ext = path.extname(opts.filePath);
    this.base = path.basename(opts.filePath, this.ext);
    this.maxBytes = Math.max(0, opts.maxSizeMB) * 1024 * 1024;
    fs.mkdirSync(this.dir, { recursive: true });
    this.current = this.open();
    this.size = fs.fstatSync(this.currentFd()).size;
  }

  /** pino destination entry point: one complete JSON line. */
  write(line: string): boolean {
    if (this.closed) return false;
    const n = Buffer.byteLength(line);
    if (this.maxBytes > 0) {
      this.sinceCheck += n;
      if (this.sinceCheck >= this.maxBytes * SIZE_CHECK_FRACTION) this.checkSize();
      if (this.size > 0 && this.size + n > this.maxBytes) this.full();
    }
    this.size += n;
    return this.current.write(line);
  }

  /** Forced rotation (SIGUSR1, the event manager's action); a worker asks the primary instead. */
  rotate(): void {
    if (this.opts.requestRotation) this.opts.requestRotation('forced');
    else this.renameAndReopen();
  }

  /**
   * The primary's answer to a worker's size request: renames the file only if the one at the
   * path is still full (another request may have rotated it already). True when it rotated.
   */
  rotateIfFull(): boolean {
    if (this.closed || this.maxBytes <= 0) return false;
    let size: number;
    try {
      size = fs.statSync(this.opts.filePath).size;
    } catch {
      return false;
    }
    if (size < this.maxBytes) return false;
    this.renameAndReopen();
    return true;
  }

  /** Called after each rotation by size this process makes (the primary tells the workers to reopen). */
  onSizeRotation(fn: () => void): void {
    this.afterSizeRotation = fn;
  }

  /** Other processes append to the file too: what one process wrote is not the file's size. */
  private checkSize(): void {
    this.sinceCheck = 0;
    this.asked = false;
    try {
      this.size = Math.max(this.size, fs.fstatSync(this.currentFd()).size);
    } catch {
      // keep counting; the next check tries again
    }
  }

  private full(): void {
    if (this.opts.requestRotation) {
      if (this.asked) return;
      this.asked = true;
      this.opts.requestRotation('size');
      return;
    }
    this.renameAndReopen();
    this.afterSizeRotation?.();
  }

  /** Another process renamed the file: new lines go to a new file at the path, the old stream drains where it is. */
  reopen(): void {
    if (this.closed) return;
    const old = this.current;
    this.current = this.open();
    this.size = fs.fstatSync(this.currentFd()).size;
    this.sinceCheck = 0;
    this.asked = false;
    this.chain = this.chain.then(() => endBoom(old)).catch((err: Error) => this.opts.onError(err));
  }

  private renameAndReopen(): void {
    if (this.closed) return;
    const backup = this.backupPath();
    try {
      fs.renameSync(this.opts.filePath, backup);
    } catch (err) {
      // Keep writing to the current file rather than dropping lines; retry after another maxSize.
      this.size = 0;
      this.opts.onError(err as Error);
      return;
    }
    const old = this.current;
    this.current = this.open();
    this.size = 0;
    this.chain = this.chain.then(() => this.finishBackup(old, backup)).catch((err: Error) => this.opts.onError(err));
  }

  /** Resolves once everything written so far reached the disk (and pending backups are done). */
  async flush(): Promise<void> {
    if (!this.closed) await flushBoom(this.current);
    await this.chain;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await endBoom(this.current);
    await this.chain;
  }

  private open(): Boom {
    // Opened synchronously so the path exists before the first rotate can rename it.
    const fd = fs.openSync(this.opts.filePath, 'a', 0o600);
    const boom = pino.destination({ fd, sync: false, minLength: 0 });
    boom.on('error', (err: Error) => this.opts.onError(err));
    return boom;
  }

  private currentFd(): number {
    return (this.current as unknown as { fd: number }).fd;
  }

  private backupPath(): string {
    let t = Date.now();
    for (let i = 0; i < 1000; i++, t++) {
      const p = path.join(this.dir, `${this.base}-${formatBackupTime(new Date(t), this.opts.utc)}${this.ext}`);
      if (!fs.existsSync(p) && !fs.existsSync(`${p}.gz`)) return p;
    }
    throw new Error(`cannot find a free backup name for ${this.opts.filePath}`);
  }

  private async finishBackup(old: Boom, backup: string): Promise<void> {
    await endBoom(old);
    // A newer rotation may already have pruned this backup (tiny maxBackups).
    if (this.opts.compress && fs.existsSync(backup)) {
      await pipeline(fs.createReadStream(backup), zlib.createGzip(), fs.createWriteStream(`${backup}.gz`, { mode: 0o600 }));
      await fs.promises.unlink(backup);
    }
    await this.prune();
  }

  /** Lists backups newest first and removes those beyond maxBackups or older than maxAgeDays. */
  private async prune(): Promise<void> {
    if (this.opts.maxBackups <= 0 && this.opts.maxAgeDays <= 0) return;
    const prefix = `${this.base}-`;
    const backups: { name: string; time: number }[] = [];
    for (const name of await fs.promises.readdir(this.dir)) {
      if (!name.startsWith(prefix)) continue;
      const rest = name.slice(prefix.length);
      const tail = rest.slice(BACKUP_TIME_LEN);
      if (tail !== this.ext && tail !== `${this.ext}.gz`) continue;
      const time = parseBackupTime(rest.slice(0, BACKUP_TIME_LEN), this.opts.utc);
      if (time !== undefined) backups.push({ name, time });
    }
    backups.sort((a, b) => b.time - a.time);
    const cutoff = Date.now() - this.opts.maxAgeDays * DAY_MS;
    for (let i = 0; i < backups.length; i++) {
      const b = backups[i];
      const tooMany = this.opts.maxBackups > 0 && i >= this.opts.maxBackups;
      const tooOld = this.opts.maxAgeDays > 0 && b.time < cutoff;
      if (tooMany || tooOld) await fs.promises.rm(path.join(this.dir, b.name), { force: true });
    }
  }
}

function parseBackupTime(s: string, utc: boolean): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})\.(\d{3})$/.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se, ms] = m.slice(1).map(Number);
  return utc ? Date.UTC(y, mo - 1, d, h, mi, se, ms) : new Date(y, mo - 1, d, h, mi, se, ms).getTime();
}

/**
 * Resolves once the lines handed to `boom` so far are in the file. SonicBoom's
 * own flush() answers at once when minLength is 0 (ours), even while an async
 * write is in flight and more lines wait behind it: a reader then saw the
 * file without its last lines. With minLength 0 every line starts a write at
 * once, so "not writing" means "nothing buffered"; while writing, the 'drain'
 * it emits when its buffer is empty is the moment everything is written.
 */
export function flushBoom(boom: Boom): Promise<void> {
  return new Promise((resolve) => {
    const state = boom as unknown as { destroyed?: boolean; _writing?: boolean };
    if (state.destroyed || !state._writing) {
      resolve();
      return;
    }
    const done = (): void => {
      boom.off('drain', done);
      boom.off('error', done);
      boom.off('close', done);
      resolve();
    };
    boom.on('drain', done);
    boom.on('error', done); // the error listener set at open() reports it
    boom.on('close', done);
  });
}

export function endBoom(boom: Boom): Promise<void> {
  return new Promise((resolve) => {
    const b = boom as unknown as { destroyed?: boolean };
    if (b.destroyed) {
      resolve();
      return;
    }
    boom.once('close', () => resolve());
    boom.once('error', () => resolve()); // the error listener set at open() reports it
    boom.end();
  });
}
