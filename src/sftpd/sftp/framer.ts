/**
 * Incremental SFTP packet framing over channel data. Chunks are kept as a
 * list; a packet that lies inside one chunk is returned as a subarray (no
 * copy), one that spans chunks is assembled once.
 */

export class FramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FramingError';
  }
}

/** packets smaller than this are not worth recycling (uploads send 255 KiB WRITEs) */
const RECYCLE_MIN_BYTES = 64 * 1024;

export class PacketFramer {
  private chunks: Buffer[] = [];
  private total = 0;
  /** length of the packet being assembled, read as soon as 4 bytes are there */
  private pending = -1;
  /** the packet next() last assembled by copying, the only one recycle() takes back */
  private assembled: Buffer | null = null;
  /** an assembled packet's memory, handed back by recycle() for the next assembly */
  private spare: Buffer | null = null;

  constructor(private readonly maxPacketLength: number) {}

  get bufferedBytes(): number {
    return this.total;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /**
   * The next complete packet (type byte + body, without the length prefix),
   * or null when more data is needed. Throws FramingError on a zero or
   * oversize length, before buffering the oversize body.
   */
  next(): Buffer | null {
    if (this.pending < 0) {
      if (this.total < 4) return null;
      const head = this.take(4);
      const len = head.readUInt32BE(0);
      if (len === 0) throw new FramingError('zero-length packet');
      if (len > this.maxPacketLength) {
        throw new FramingError(`packet length ${len} exceeds the maximum of ${this.maxPacketLength}`);
      }
      this.pending = len;
    }
    if (this.total < this.pending) return null;
    const pkt = this.take(this.pending);
    this.pending = -1;
    return pkt;
  }

  /** Removes and returns exactly n bytes (n ≤ total). */
  private take(n: number): Buffer {
    this.total -= n;
    const first = this.chunks[0]!;
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    const out = this.assemblyBuffer(n);
    let p = 0;
    while (p < n) {
      const c = this.chunks[0]!;
      const want = n - p;
      if (c.length <= want) {
        c.copy(out, p);
        p += c.length;
        this.chunks.shift();
      } else {
        c.copy(out, p, 0, want);
        this.chunks[0] = c.subarray(want);
        p += want;
      }
    }
    return out;
  }

  /**
   * Takes back a packet next() returned once its caller is done with it, so
   * that the next packet spanning chunks is assembled into the same memory
   * instead of a fresh Buffer. An upload of 255 KiB WRITEs otherwise
   * allocates one per request, and that churn is what drives V8 into full
   * collections (src/cmd/node-flags.ts). Only the packet most recently
   * assembled is taken (never a view into a chunk, whose memory others
   * share), and only while more data is buffered: a session that goes quiet
   * does not keep the memory.
   */
  recycle(pkt: Buffer): void {
    const a = this.assembled;
    this.assembled = null;
    if (a === null || pkt !== a || this.total === 0) return;
    // `a` lies at the start of an ArrayBuffer only this framer allocated (assemblyBuffer)
    this.spare = Buffer.from(a.buffer, 0, a.buffer.byteLength);
  }

  private assemblyBuffer(n: number): Buffer {
    const spare = this.spare;
    this.spare = null;
    if (spare && spare.length >= n) {
      this.assembled = spare.subarray(0, n);
      return this.assembled;
    }
    if (n < RECYCLE_MIN_BYTES) {
      this.assembled = null;
      return Buffer.allocUnsafe(n);
    }
    // allocUnsafeSlow: memory of its own, never a slice of Node's shared pool, so it can be reused
    this.assembled = Buffer.allocUnsafeSlow(n);
    return this.assembled;
  }

  clear(): void {
    this.assembled = null;
    this.spare = null;
    this.chunks = [];
    this.total = 0;
    this.pending = -1;
  }
}
