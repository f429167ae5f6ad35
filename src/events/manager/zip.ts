/**
 * A minimal streaming ZIP writer (deflate, data descriptors, no ZIP64): the
 * filesystem "compress" action writes archives of the user's files through
 * the user's own session, so the archive is built from streams and written
 * with the same checks as any upload. Entries above 4 GiB are refused
 * rather than written wrong.
 */
import { createDeflateRaw } from 'node:zlib';
import type { Readable } from 'node:stream';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(crc: number, buf: Buffer): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

interface Entry { name: Buffer; crc: number; compressed: number; size: number; offset: number; dosTime: number; dosDate: number; isDir: boolean }

const LIMIT = 0xffffffff;

function dos(d: Date): { time: number; date: number } {
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2),
    date: ((Math.max(1980, d.getFullYear()) - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

export class ZipWriter {
  private readonly entries: Entry[] = [];
  private offset = 0;

  constructor(private readonly write: (b: Buffer) => Promise<void>) {}

  private async emit(b: Buffer): Promise<void> {
    await this.write(b);
    this.offset += b.length;
  }

  private localHeader(e: Entry): Buffer {
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt16LE(0x0808, 6); // data descriptor + UTF-8 names
    h.writeUInt16LE(e.isDir ? 0 : 8, 8);
    h.writeUInt16LE(e.dosTime, 10);
    h.writeUInt16LE(e.dosDate, 12);
    h.writeUInt16LE(e.name.length, 26);
    return Buffer.concat([h, e.name]);
  }

  async addDirectory(name: string, mtime: Date): Promise<void> {
    const d = dos(mtime);
    const e: Entry = { name: Buffer.from(name.endsWith('/') ? name : `${name}/`), crc: 0, compressed: 0, size: 0, offset: this.offset, dosTime: d.time, dosDate: d.date, isDir: true };
    await this.emit(this.localHeader(e));
    await this.emit(this.descriptor(e));
    this.entries.push(e);
  }

  async addFile(name: string, mtime: Date, data: Readable): Promise<void> {
    const d = dos(mtime);
    const e: Entry = { name: Buffer.from(name), crc: 0, compressed: 0, size: 0, offset: this.offset, dosTime: d.time, dosDate: d.date, isDir: false };
    await this.emit(this.localHeader(e));
    const deflate = createDeflateRaw();
    const pumped = (async () => {
      for await (const chunk of deflate) {
        e.compressed += (chunk as Buffer).length;
        await this.emit(chunk as Buffer);
      }
    })();
    try {
      for await (const chunk of data) {
        const b = chunk as Buffer;
        e.crc = crc32(e.crc, b);
        e.size += b.length;
        if (e.size > LIMIT) throw new Error(`"${name}" is larger than 4 GiB, not supported in archives`);
        if (!deflate.write(b)) await new Promise<void>((resolve) => deflate.once('drain', resolve));
      }
      deflate.end();
      await pumped;
    } catch (err) {
      deflate.destroy();
      await pumped.catch(() => undefined);
      throw err;
    }
    if (this.offset > LIMIT) throw new Error('archive larger than 4 GiB, not supported');
    await this.emit(this.descriptor(e));
    this.entries.push(e);
  }

  private descriptor(e: Entry): Buffer {
    const b = Buffer.alloc(16);
    b.writeUInt32LE(0x08074b50, 0);
    b.writeUInt32LE(e.crc, 4);
    b.writeUInt32LE(e.compressed, 8);
    b.writeUInt32LE(e.size, 12);
    return b;
  }

  async finish(): Promise<void> {
    const start = this.offset;
    for (const e of this.entries) {
      const h = Buffer.alloc(46);
      h.writeUInt32LE(0x02014b50, 0);
      h.writeUInt16LE(0x0314, 4); // made by unix, 2.0
      h.writeUInt16LE(20, 6);
      h.writeUInt16LE(0x0808, 8);
      h.writeUInt16LE(e.isDir ? 0 : 8, 10);
      h.writeUInt16LE(e.dosTime, 12);
      h.writeUInt16LE(e.dosDate, 14);
      h.writeUInt32LE(e.crc, 16);
      h.writeUInt32LE(e.compressed, 20);
      h.writeUInt32LE(e.size, 24);
      h.writeUInt16LE(e.name.length, 28);
      h.writeUInt32LE(((e.isDir ? 0o40755 : 0o100644) << 16) >>> 0, 38);
      h.writeUInt32LE(e.offset, 42);
      await this.emit(Buffer.concat([h, e.name]));
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(this.entries.length, 8);
    end.writeUInt16LE(this.entries.length, 10);
    end.writeUInt32LE(this.offset - start, 12);
    end.writeUInt32LE(start, 16);
    await this.emit(end);
  }
}
