/**
 * Memory for the SSH packets of READ replies (direct-data.ts), reused.
 *
 * Before, each reply's packets were cut from fresh 256 KiB slabs, freed by the
 * garbage collector some time after the socket had sent them: a download
 * allocated and freed its whole size. glibc hands such blocks back to the
 * kernel (munmap, heap trims) and maps fresh pages for the next ones, so the
 * file reads into them page-faulted (perf: 6.9 % of the daemon's samples in
 * page faults, most under the page-cache copy into the packets) and V8 counted
 * the whole download as external memory. With the daemon started under
 * MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_ settings that keep freed memory
 * mapped, minor faults per GiB fell from 13-29 k to 1.1-1.4 k and server CPU per
 * GiB by a quarter: this pool gets that without depending on the allocator.
 *
 * A block holds one reply's packets. It comes back to the pool only when
 * nothing can touch it any more: the file read into it has settled and the
 * socket has finished writing every packet cut from it (direct-data.ts asks
 * the socket, after the last packet, for a callback in write order). A block
 * never given back (a closed channel, a failed read) is simply garbage
 * collected; one given back twice is a bug the pool refuses loudly.
 */

/** One reply of MAX_READ_LENGTH in 32 KiB packets takes ~257 KiB; smaller client packet sizes need a little more. */
export const REPLY_BLOCK_BYTES = 288 * 1024;
/** Free blocks kept: one busy download holds ~40 (8 MiB of reads in flight, ~2 MiB queued in the channel). */
export const MAX_FREE_BLOCKS = 64;
/** Free blocks are dropped once none was taken for this long, so an idle daemon gives the memory back. */
export const IDLE_TRIM_MS = 15_000;

export interface ReplyBlock {
  /** The next `size` bytes of the block, 8-byte aligned; undefined when they do not fit. */
  alloc(size: number): Buffer | undefined;
}

class Block implements ReplyBlock {
  used = 0;
  inUse = true;
  constructor(readonly memory: Buffer) {}
  alloc(size: number): Buffer | undefined {
    if (this.used + size > this.memory.length) return undefined;
    const b = this.memory.subarray(this.used, this.used + size);
    this.used = (this.used + size + 7) & ~7;
    return b;
  }
}

export interface ReplyBlockPoolOptions {
  blockBytes?: number;
  maxFree?: number;
  idleTrimMs?: number;
  /** the clock trims are judged by (tests inject one) */
  now?: () => number;
  /** schedules the idle trim; the default is an unref'd setTimeout */
  schedule?: (fn: () => void, ms: number) => void;
}

const unrefTimer = (fn: () => void, ms: number): void => { setTimeout(fn, ms).unref(); };

export class ReplyBlockPool {
  readonly blockBytes: number;
  private readonly maxFree: number;
  private readonly idleTrimMs: number;
  private readonly now: () => number;
  private readonly schedule: (fn: () => void, ms: number) => void;
  private readonly free: Block[] = [];
  private lastTake = 0;
  private trimScheduled = false;
  /** blocks made and blocks reused, for tests and probes */
  readonly counters = { made: 0, reused: 0, given: 0, dropped: 0 };

  constructor(opts: ReplyBlockPoolOptions = {}) {
    this.blockBytes = opts.blockBytes ?? REPLY_BLOCK_BYTES;
    this.maxFree = opts.maxFree ?? MAX_FREE_BLOCKS;
    this.idleTrimMs = opts.idleTrimMs ?? IDLE_TRIM_MS;
    this.now = opts.now ?? Date.now;
    this.schedule = opts.schedule ?? unrefTimer;
  }

  get freeBlocks(): number { return this.free.length; }

  take(): ReplyBlock {
    this.lastTake = this.now();
    const reused = this.free.pop();
    if (reused) {
      this.counters.reused++;
      reused.used = 0;
      reused.inUse = true;
      return reused;
    }
    this.counters.made++;
    return new Block(Buffer.allocUnsafeSlow(this.blockBytes));
  }

  /** Returns a block nothing touches any more (see the file comment for when that is). */
  give(block: ReplyBlock): void {
    if (!(block instanceof Block) || block.memory.length !== this.blockBytes) throw new Error('not a block of this pool');
    if (!block.inUse) throw new Error('reply block given back twice');
    block.inUse = false;
    this.counters.given++;
    if (this.free.length >= this.maxFree) {
      this.counters.dropped++;
      return;
    }
    this.free.push(block);
    this.scheduleTrim();
  }

  /** Drops the free blocks when none was taken for idleTrimMs; true when it did. */
  trimIfIdle(): boolean {
    if (this.free.length === 0 || this.now() - this.lastTake < this.idleTrimMs) return false;
    this.counters.dropped += this.free.length;
    this.free.length = 0;
    return true;
  }

  private scheduleTrim(): void {
    if (this.trimScheduled) return;
    this.trimScheduled = true;
    const check = (): void => {
      this.trimScheduled = false;
      if (this.trimIfIdle() || this.free.length === 0) return;
      this.trimScheduled = true;
      this.schedule(check, Math.max(1, this.lastTake + this.idleTrimMs - this.now()));
    };
    this.schedule(check, this.idleTrimMs);
  }
}

/** The pool every SFTP session of this process takes its READ replies' memory from. */
export const replyBlocks = new ReplyBlockPool();
