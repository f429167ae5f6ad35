/**
 * A streaming ZIP writer: entries are written as they are read (stored, no
 * compression, so memory stays flat and CPU low), sizes and CRC follow each
 * entry in a data descriptor (general purpose bit 3), and ZIP64 records are
 * added when sizes, offsets or the entry count exceed the 32/16-bit fields.
 * Only the central directory (a few dozen bytes per entry) is kept.
 */
import type { Writable } from 'node:stream';
import { crc32 } from 'node:zlib';

const MAX32 = 0xffffffff;
const MAX16 = 0xffff;
/** bit 3: sizes in a data descriptor; bit 11: names are UTF-8 */
const FLAGS = 0x0808;
const VERSION_ZIP64 = 45;
const VERSION_DEFAULT = 20;
/** "made by" UNIX, so external attributes carry the mode */
const MADE_BY_UNIX = 3 << 8;

interface CentralEntry { name: Buffer; crc: number; size: number; offset: number; dosTime: number; dosDate: number; mode: number; isDir: boolean }

export class ZipLimitError extends Error {}

function dosDateTime(d: Date): { dosTime: number; dosDate: number } {
  const year = Math.min(Math.max(d.getFullYear(), 1980), 2107);
  return {
    dosTime: (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2),
    dosDate: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

export class ZipStreamWriter {
  private offset = 0;
  private readonly entries: CentralEntry[] = [];
  private finished = false;

  constructor(private readonly out: Writable, private readonly maxEntries = 1_000_000) {}

  /** Writes with backpressure; rejects when the destination is gone. */
  private write(buf: Buffer): Promise<void> {
    this.offset += buf.length;
    if (this.out.destroyed) return Promise.reject(new Error('the client went away'));
    if (this.out.write(buf)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (err?: Error): void => {
        this.out.off('drain', onDrain);
        this.out.off('close', onClose);
        this.out.off('error', done);
        if (err) reject(err); else resolve();
      };
      const onDrain = (): void => done();
      const onClose = (): void => done(new Error('the client went away'));
      this.out.on('drain', onDrain);
      this.out.once('close', onClose);
      this.out.once('error', done);
    });
  }

  private async localHeader(name: Buffer, mtime: Date): Promise<CentralEntry> {
    if (this.finished) throw new Error('zip already finished');
    if (this.entries.length >= this.maxEntries) throw new ZipLimitError(`too many entries (max ${this.maxEntries})`);
    const { dosTime, dosDate } = dosDateTime(mtime);
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(VERSION_ZIP64, 4);
    h.writeUInt16LE(FLAGS, 6);
    h.writeUInt16LE(0, 8); // stored
    h.writeUInt16LE(dosTime, 10);
    h.writeUInt16LE(dosDate, 12);
    // crc and sizes are 0 here: they follow in the data descriptor
    h.writeUInt16LE(name.length, 26);
    const entry: CentralEntry = { name, crc: 0, size: 0, offset: this.offset, dosTime, dosDate, mode: 0, isDir: false };
    await this.write(h);
    await this.write(name);
    return entry;
  }

  /** `name` is relative ("dir/sub"), without the trailing slash. */
  async addDirectory(name: string, mtime: Date, mode = 0o755): Promise<void> {
    const e = await this.localHeader(Buffer.from(`${name}/`, 'utf8'), mtime);
    e.isDir = true;
    e.mode = 0o040000 | (mode & 0o7777);
    await this.descriptor(e);
    this.entries.push(e);
  }

  /** Streams `data` (already permission-checked by the caller) into a new entry. */
  async addFile(name: string, mtime: Date, data: AsyncIterable<Buffer>, mode = 0o644): Promise<void> {
    const e = await this.localHeader(Buffer.from(name, 'utf8'), mtime);
    e.mode = 0o100000 | (mode & 0o7777);
    for await (const chunk of data) {
      e.crc = crc32(chunk, e.crc);
      e.size += chunk.length;
      await this.write(chunk);
    }
    await this.descriptor(e);
    this.entries.push(e);
  }

  private descriptor(e: CentralEntry): Promise<void> {
    const zip64 = e.size > MAX32;
    const d = Buffer.alloc(zip64 ? 24 : 16);
    d.writeUInt32LE(0x08074b50, 0);
    d.writeUInt32LE(e.crc >>> 0, 4);
    if (zip64) {
      d.writeBigUInt64LE(BigInt(e.size), 8);
      d.writeBigUInt64LE(BigInt(e.size), 16);
    } else {
      d.writeUInt32LE(e.size, 8);
      d.writeUInt32LE(e.size, 12);
    }
    return this.write(d);
  }

  private centralHeader(e: CentralEntry): Buffer {
    const extra: Buffer[] = [];
    if (e.size > MAX32) extra.push(u64(e.size), u64(e.size));
    if (e.offset > MAX32) extra.push(u64(e.offset));
    const extraLen = extra.length > 0 ? 4 + extra.length * 8 : 0;
    const h = Buffer.alloc(46 + e.name.length + extraLen);
    h.writeUInt32LE(0x02014b50, 0);
    h.writeUInt16LE(MADE_BY_UNIX | (extraLen > 0 ? VERSION_ZIP64 : VERSION_DEFAULT), 4);
    h.writeUInt16LE(extraLen > 0 ? VERSION_ZIP64 : VERSION_DEFAULT, 6);
    h.writeUInt16LE(FLAGS, 8);
    h.writeUInt16LE(0, 10);
    h.writeUInt16LE(e.dosTime, 12);
    h.writeUInt16LE(e.dosDate, 14);
    h.writeUInt32LE(e.crc >>> 0, 16);
    h.writeUInt32LE(Math.min(e.size, MAX32), 20);
    h.writeUInt32LE(Math.min(e.size, MAX32), 24);
    h.writeUInt16LE(e.name.length, 28);
    h.writeUInt16LE(extraLen, 30);
    // comment length, disk number, internal attributes: 0
    h.writeUInt32LE(((e.mode << 16) | (e.isDir ? 0x10 : 0)) >>> 0, 38);
    h.writeUInt32LE(Math.min(e.offset, MAX32), 42);
    e.name.copy(h, 46);
    if (extraLen > 0) {
      let p = 46 + e.name.length;
      h.writeUInt16LE(0x0001, p);
      h.writeUInt16LE(extraLen - 4, p + 2);
      p += 4;
      for (const b of extra) { b.copy(h, p); p += 8; }
    }
    return h;
  }

  /** Central directory and end records; the caller ends the destination. */
  async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    const cdStart = this.offset;
    for (const e of this.entries) await this.write(this.centralHeader(e));
    const cdSize = this.offset - cdStart;
    const count = this.entries.length;
    if (count >= MAX16 || cdStart > MAX32 || cdSize > MAX32) {
      const eocd64At = this.offset;
      const r = Buffer.alloc(56);
      r.writeUInt32LE(0x06064b50, 0);
      r.writeBigUInt64LE(44n, 4);
      r.writeUInt16LE(MADE_BY_UNIX | VERSION_ZIP64, 12);
      r.writeUInt16LE(VERSION_ZIP64, 14);
      r.writeBigUInt64LE(BigInt(count), 24);
      r.writeBigUInt64LE(BigInt(count), 32);
      r.writeBigUInt64LE(BigInt(cdSize), 40);
      r.writeBigUInt64LE(BigInt(cdStart), 48);
      const loc = Buffer.alloc(20);
      loc.writeUInt32LE(0x07064b50, 0);
      loc.writeBigUInt64LE(BigInt(eocd64At), 8);
      loc.writeUInt32LE(1, 16);
      await this.write(r);
      await this.write(loc);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(Math.min(count, MAX16), 8);
    end.writeUInt16LE(Math.min(count, MAX16), 10);
    end.writeUInt32LE(Math.min(cdSize, MAX32), 12);
    end.writeUInt32LE(Math.min(cdStart, MAX32), 16);
    await this.write(end);
  }
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}
