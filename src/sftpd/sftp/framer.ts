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

export class PacketFramer {
  private chunks: Buffer[] = [];
  private total = 0;
  /** length of the packet being assembled, read as soon as 4 bytes are there */
  private pending = -1;

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
    const out = Buffer.allocUnsafe(n);
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

  clear(): void {
    this.chunks = [];
    this.total = 0;
    this.pending = -1;
  }
}
