/**
 * Sequential read batching for a local file opened for download.
 *
 * Why: OpenSSH's sftp keeps ~8 MiB of 255 KiB READs in flight but sends them
 * one at a time, one per reply it receives (measured: of ~970 pump runs of a
 * 256 MiB download, 910 dispatched a single READ), so READs never arrive
 * together to be merged. Each READ served alone costs a libuv thread-pool round
 * trip (queue, thread wake-up, completion wake-up of the loop). Instead, a READ
 * that continues the previous one starts a batch: one `readv` fills its own
 * reply buffer and those of the next READs the client is about to send (same
 * length, following offsets), each with its reply header room in front, so the
 * followers are answered without a file read of their own and without a copy.
 *
 * Correctness rules:
 * - only a request of exactly a predicted (position, length, headroom) is
 *   served from a batch; anything else (out of order, overlapping, another
 *   length) reads the file directly;
 * - a follower is served from the batch only when the batch filled it
 *   completely; a short batch (file truncated, EOF in the middle) or a failed
 *   one makes the follower read the file directly, so a file that grew or
 *   shrank meanwhile is read as it is now;
 * - followers are never predicted past the size the file had at open, so the
 *   end of a file and a file still growing are read directly;
 * - a follower is served from its batch only while the file's size and
 *   mtime are those seen just before the batch was read (an fstat on the loop,
 *   ~1 us, far cheaper than the pool round trip it replaces): a file truncated,
 *   grown or rewritten since is read again as it is now (a rewrite within the
 *   file system's timestamp granularity and without a size change is the one
 *   change this misses: the data is then at most one batch, milliseconds, old);
 * - unclaimed predictions are bounded per process (SpeculationBudget) and
 *   dropped when the pattern breaks or the handle closes.
 */

/** Reads into `buffers` in order from `position`; resolves to the total bytes read. */
import type { ReadHandle } from './fs';

export type ReadvFn = (buffers: Buffer[], position: number) => Promise<number>;

/** What says whether a file changed: its size and mtime now (synchronous), undefined when unknown. */
export interface FileVersion { size: number; mtimeMs: number }
export type VersionFn = () => FileVersion | undefined;

const sameVersion = (a: FileVersion | undefined, b: FileVersion | undefined): boolean =>
  a !== undefined && b !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs;

/** Bytes one batch reads at most (the head request included). */
export const BATCH_BYTES = 1024 * 1024;
export const MAX_BATCH_SEGMENTS = 64;
/** Unclaimed predicted bytes the whole process may hold. */
export const PROCESS_SPECULATION_BYTES = 64 * 1024 * 1024;

export class SpeculationBudget {
  private used = 0;
  constructor(private readonly limit: number) {}
  get inUse(): number { return this.used; }
  reserve(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }
  release(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
}

export const processSpeculationBudget = new SpeculationBudget(PROCESS_SPECULATION_BYTES);

interface Segment {
  readonly position: number;
  readonly length: number;
  readonly headroom: number;
  /** headroom + length bytes: the reply buffer */
  readonly buf: Buffer;
  /** the batch's total bytes read; -1 when it failed */
  readonly batch: Promise<number>;
  /** data bytes of the batch before this segment's */
  readonly before: number;
  /** the file as it was just before the batch was read */
  readonly version: FileVersion;
}

export class SequentialReadBatcher {
  /** end of the previous request: a request starting there continues a sequence */
  private expected = -1;
  /** predicted requests not yet claimed, in position order */
  private segments: Segment[] = [];
  private closed = false;

  constructor(
    private readonly readv: ReadvFn,
    private readonly version: VersionFn,
    /** the file's size at open: no follower is predicted past it */
    private readonly size: number,
    private readonly budget: SpeculationBudget = processSpeculationBudget,
    private readonly batchBytes: number = BATCH_BYTES,
  ) {}

  /** Predicted requests waiting for their READ (tests, debug). */
  get pending(): number { return this.segments.length; }

  /**
   * Up to `length` bytes at `position`, in a buffer of `headroom` free bytes
   * followed by the data: `headroom + n` bytes long, n < length only at the
   * end of the file. Rejects with the read error.
   */
  async read(headroom: number, length: number, position: number): Promise<Buffer> {
    const sequential = position === this.expected;
    this.expected = position + length;
    const seg = this.claim(headroom, length, position);
    if (seg) {
      const total = await seg.batch;
      if (total - seg.before >= length && sameVersion(seg.version, this.version())) return seg.buf;
      return this.direct(headroom, length, position);
    }
    this.dropAll();
    if (sequential && !this.closed && length > 0) {
      const batch = this.startBatch(headroom, length, position);
      if (batch) return batch;
    }
    return this.direct(headroom, length, position);
  }

  /** Drops every prediction (the owner closes the file). */
  close(): void {
    this.closed = true;
    this.dropAll();
  }

  private claim(headroom: number, length: number, position: number): Segment | undefined {
    const i = this.segments.findIndex((s) => s.position === position);
    if (i < 0) return undefined;
    const s = this.segments[i]!;
    if (s.length !== length || s.headroom !== headroom) return undefined;
    this.segments.splice(i, 1);
    this.budget.release(s.buf.length);
    return s;
  }

  private dropAll(): void {
    for (const s of this.segments) this.budget.release(s.buf.length);
    this.segments = [];
  }

  private async direct(headroom: number, length: number, position: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(headroom + length);
    const n = length === 0 ? 0 : await this.readv([buf.subarray(headroom)], position);
    return buf.subarray(0, headroom + n);
  }

  /** Reads the head request and predicted followers in one call; undefined when no follower fits. */
  private startBatch(headroom: number, length: number, position: number): Promise<Buffer> | undefined {
    const stride = headroom + length;
    let count = Math.min(MAX_BATCH_SEGMENTS, Math.floor(this.batchBytes / stride));
    // followers only where the whole segment lies inside the file as opened
    count = Math.min(count, 1 + Math.max(0, Math.floor((this.size - position - length) / length)));
    if (count < 2) return undefined;
    const version = this.version();
    if (!version) return undefined;
    if (!this.budget.reserve((count - 1) * stride)) return undefined;
    // one allocation for the batch; each reply is a view with its header room in front
    const block = Buffer.allocUnsafe(count * stride);
    const views: Buffer[] = [];
    for (let i = 0; i < count; i++) views.push(block.subarray(i * stride + headroom, (i + 1) * stride));
    const head = this.readv(views, position);
    // followers see a failed batch as an empty one, and read the file themselves
    const settled = head.then((n) => n, () => -1);
    for (let i = 1; i < count; i++) {
      this.segments.push({
        position: position + i * length, length, headroom,
        buf: block.subarray(i * stride, (i + 1) * stride), batch: settled, before: i * length, version,
      });
    }
    return head.then((total) => block.subarray(0, headroom + Math.min(total, length)));
  }
}

/** The one place that decides whether a read goes through the handle's batching (local disk) or plain readAt. */
export async function readWithHeadroom(handle: ReadHandle, headroom: number, length: number, position: number): Promise<Buffer> {
  if (handle.readWithHeadroom) return handle.readWithHeadroom(headroom, length, position);
  const buf = Buffer.allocUnsafe(headroom + length);
  return buf.subarray(0, headroom + await handle.readAt(buf, headroom, length, position));
}
