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
/** spare packet memories kept at most: 2 MiB of 255 KiB WRITEs, the channel window's worth */
const MAX_SPARES = 32;

export class PacketFramer {
  private chunks: Buffer[] = [];
  private total = 0;
  /** length of the packet being assembled, read as soon as 4 bytes are there */
  private pending = -1;
  /**
   * Memories of packets next() assembled by copying and handed out, not yet
   * recycled: recycle() takes back only these, each once (a second recycle
   * of the same packet would give two packets the same memory).
   */
  private readonly handedOut = new WeakSet<ArrayBufferLike>();
  /** assembled packets' memories handed back by recycle(), for the next assemblies */
  private spares: Buffer[] = [];

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
   * that a later packet spanning chunks is assembled into the same memory
   * instead of a fresh Buffer. An upload of 255 KiB WRITEs otherwise
   * allocates one per request: with writes waiting on an object store's
   * part uploads, 164 of them (41 MiB) for a 64 MiB upload, most of the
   * first upload's RSS growth (docs/benchmarks.md, issue 11). Only packets
   * this framer assembled are taken (never a view into a chunk, whose memory
   * others share), each once, at most MAX_SPARES kept, and only while more
   * data is buffered: a session that goes quiet does not keep the memory.
   */
  recycle(pkt: Buffer): void {
    const memory = pkt.buffer;
    if (pkt.byteOffset !== 0 || !this.handedOut.has(memory)) return;
    this.handedOut.delete(memory);
    if (this.total === 0 || this.spares.length >= MAX_SPARES) return;
    // `pkt` lies at the start of an ArrayBuffer only this framer allocated (assemblyBuffer)
    this.spares.push(Buffer.from(memory, 0, memory.byteLength));
  }

  private assemblyBuffer(n: number): Buffer {
    const spare = this.spares.pop();
    if (spare && spare.length >= n) return this.handOut(spare.subarray(0, n));
    if (n < RECYCLE_MIN_BYTES) return Buffer.allocUnsafe(n);
    // allocUnsafeSlow: memory of its own, never a slice of Node's shared pool, so it can be reused
    return this.handOut(Buffer.allocUnsafeSlow(n));
  }

  private handOut(pkt: Buffer): Buffer {
    this.handedOut.add(pkt.buffer);
    return pkt;
  }

  clear(): void {
    this.spares = [];
    this.chunks = [];
    this.total = 0;
    this.pending = -1;
  }
}
