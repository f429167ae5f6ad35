/**
 * Incremental SFTP packet framing over channel data. Each chunk is split into
 * packets as it arrives. A packet that lies inside one chunk the caller owns
 * is returned as a subarray of it (no copy); a packet that spans chunks, or
 * any packet of a lent chunk (memory the next socket read overwrites,
 * util/user-buffer-socket.ts), is copied once into memory of its own. Large
 * packets (uploads' 255 KiB WRITEs) are copied into pooled buffers the
 * session hands back with recycle() once the request no longer reads them,
 * so an upload reuses a few packet buffers instead of allocating one per
 * WRITE (issue 11, docs/benchmarks.md).
 */

export class FramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FramingError';
  }
}

/** packets smaller than this are not worth recycling (uploads send 255 KiB WRITEs) */
const RECYCLE_MIN_BYTES = 64 * 1024;
/** pooled packet memory: one 255 KiB WRITE (MAX_WRITE_LENGTH) with its header fits */
export const POOLED_PACKET_BYTES = 256 * 1024;
/** ssh2's channel window: what a client may still send after the session pauses its channel */
const CHANNEL_WINDOW_BYTES = 2 * 1024 * 1024;
/**
 * Spares for a session that lets `pendingWriteBytes` of WRITEs wait: as many
 * packets as can be held at once (the pending WRITEs, one more dispatched
 * before the limit is seen, a window's worth framed while the channel is
 * paused, the one being assembled), so that a busy upload reuses its packet
 * memory instead of dropping some at each part wait and allocating them again
 * (counted on an S3 upload: 78 fresh 256 KiB packets per GiB with 34 spares
 * for 8 MiB of pending WRITEs; issue 11, docs/benchmarks.md).
 */
export function sparesFor(pendingWriteBytes: number): number {
  return Math.ceil((pendingWriteBytes + CHANNEL_WINDOW_BYTES) / POOLED_PACKET_BYTES) + 3;
}
/** spares kept by default: 8 MiB of pending WRITEs (DEFAULT_MAX_PENDING_WRITE_BYTES) */
export const DEFAULT_MAX_SPARES = sparesFor(8 * 1024 * 1024);
/** spares of a framer that assembled no large packet for this long, none of its packets out, are dropped */
export const SPARE_IDLE_MS = 1000;
/** ...and after this many such periods even with packets out (one never given back must not pin the spares) */
const IDLE_CHECKS_WITH_PACKETS_OUT = 10;

export class PacketFramer {
  /** complete packets next() has not returned yet, from `readyHead` on */
  private ready: Buffer[] = [];
  private readyHead = 0;
  private readyBytes = 0;
  /** a bad length prefix: thrown by next() once the packets before it are taken */
  private failure: FramingError | null = null;
  /** a length prefix split across chunks */
  private readonly prefix = Buffer.alloc(4);
  private prefixFill = 0;
  /** the packet being assembled by copying, and how much of it is there */
  private current: Buffer | null = null;
  private filled = 0;
  /** pooled memories handed out in packets and not yet recycled: recycle() takes back only these, each once */
  private readonly handedOut = new WeakSet<ArrayBufferLike>();
  private handedOutCount = 0;
  /** recycled packet memories, for the next large packets */
  private spares: Buffer[] = [];
  /** large packets assembled since the idle timer was armed */
  private assembledSinceCheck = 0;
  private idleChecks = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly maxPacketLength: number, private readonly maxSpares = DEFAULT_MAX_SPARES) {}

  /** bytes pushed and not yet returned by next() */
  get bufferedBytes(): number {
    return this.readyBytes + this.prefixFill + this.filled + (this.current ? 4 : 0);
  }

  /** spare packet memories held (tests) */
  get spareCount(): number {
    return this.spares.length;
  }

  /**
   * Adds channel data. With `lent`, `chunk` is valid only during this call:
   * every byte of it is copied before push() returns.
   */
  push(chunk: Buffer, lent = false): void {
    let p = 0;
    // bounded: every round consumes at least one byte of the chunk or stops
    while (p < chunk.length && this.failure === null) {
      if (this.current === null) {
        let len: number;
        if (this.prefixFill === 0 && chunk.length - p >= 4) {
          len = chunk.readUInt32BE(p);
          p += 4;
        } else {
          const n = Math.min(4 - this.prefixFill, chunk.length - p);
          chunk.copy(this.prefix, this.prefixFill, p, p + n);
          this.prefixFill += n;
          p += n;
          if (this.prefixFill < 4) return;
          this.prefixFill = 0;
          len = this.prefix.readUInt32BE(0);
        }
        if (len === 0) { this.failure = new FramingError('zero-length packet'); break; }
        if (len > this.maxPacketLength) {
          this.failure = new FramingError(`packet length ${len} exceeds the maximum of ${this.maxPacketLength}`);
          break;
        }
        if (!lent && chunk.length - p >= len) {
          this.enqueue(chunk.subarray(p, p + len));
          p += len;
          continue;
        }
        this.current = this.packetMemory(len);
        this.filled = 0;
      }
      const n = Math.min(this.current.length - this.filled, chunk.length - p);
      chunk.copy(this.current, this.filled, p, p + n);
      this.filled += n;
      p += n;
      if (this.filled === this.current.length) {
        this.enqueue(this.current);
        this.current = null;
        this.filled = 0;
      }
    }
  }

  /**
   * The next complete packet (type byte + body, without the length prefix),
   * or null when more data is needed. Throws FramingError on a zero or
   * oversize length (never buffering the oversize body), after the packets
   * that came before it.
   */
  next(): Buffer | null {
    if (this.readyHead < this.ready.length) {
      const pkt = this.ready[this.readyHead]!;
      this.ready[this.readyHead++] = EMPTY;
      if (this.readyHead === this.ready.length || this.readyHead >= COMPACT_AFTER) {
        this.ready = this.ready.slice(this.readyHead);
        this.readyHead = 0;
      }
      this.readyBytes -= pkt.length + 4;
      return pkt;
    }
    if (this.failure) throw this.failure;
    return null;
  }

  /**
   * Takes back a packet next() returned, once nothing reads it any more, so
   * that a later large packet is copied into the same memory. Only pooled
   * packets this framer copied are taken (never a view into a chunk, whose
   * memory others share), each once; at most `maxSpares` are kept, and a
   * framer that assembles no large packet for SPARE_IDLE_MS drops them.
   */
  recycle(pkt: Buffer): void {
    const memory = pkt.buffer;
    if (pkt.byteOffset !== 0 || !this.handedOut.has(memory)) return;
    this.handedOut.delete(memory);
    this.handedOutCount--;
    if (this.spares.length >= this.maxSpares) return;
    this.spares.push(Buffer.from(memory, 0, memory.byteLength));
    this.armIdleCheck();
  }

  private enqueue(pkt: Buffer): void {
    this.ready.push(pkt);
    this.readyBytes += pkt.length + 4;
  }

  private packetMemory(n: number): Buffer {
    if (n < RECYCLE_MIN_BYTES) return Buffer.allocUnsafe(n);
    this.assembledSinceCheck++;
    let memory = this.spares.pop();
    if (!memory || memory.length < n) {
      // allocUnsafeSlow: memory of its own, never a slice of Node's shared pool, so it can be reused
      memory = Buffer.allocUnsafeSlow(Math.max(n, POOLED_PACKET_BYTES));
    }
    this.handedOut.add(memory.buffer);
    this.handedOutCount++;
    return memory.subarray(0, n);
  }

  /**
   * Drops the spares once no large packet was assembled for SPARE_IDLE_MS
   * while none of the pooled packets is out: a session waiting on its backend
   * with WRITEs pending (an object store's part upload) still needs them.
   */
  private armIdleCheck(): void {
    if (this.idleTimer) return;
    this.assembledSinceCheck = 0;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.assembledSinceCheck > 0) this.idleChecks = 0;
      else if (this.handedOutCount === 0 || ++this.idleChecks >= IDLE_CHECKS_WITH_PACKETS_OUT) {
        this.spares = [];
        this.idleChecks = 0;
        return;
      }
      if (this.spares.length > 0) this.armIdleCheck();
    }, SPARE_IDLE_MS);
    this.idleTimer.unref();
  }

  clear(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.spares = [];
    // packets still out stay counted: a WRITE that finishes after the session gives its packet back
    this.idleChecks = 0;
    this.ready = [];
    this.readyHead = 0;
    this.readyBytes = 0;
    this.current = null;
    this.filled = 0;
    this.prefixFill = 0;
  }
}

const EMPTY = Buffer.alloc(0);
/** taken entries at the head of the ready queue before it is compacted */
const COMPACT_AFTER = 1024;
