/**
 * Bounds-checked decoding of request fields and compact encoding of replies.
 * Decoding never copies: strings used as data (WRITE payloads, handles) are
 * subarrays of the packet.
 */
import type { FileInfo } from '../../vfs/fs';
import { ATTR, PKT } from './constants';

/** A request that does not parse: the session answers BAD_MESSAGE and ends. */
export class BadMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadMessageError';
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

export class PacketReader {
  private p: number;
  constructor(private readonly buf: Buffer, start = 0) {
    this.p = start;
  }

  get remaining(): number {
    return this.buf.length - this.p;
  }

  private need(n: number, what: string): void {
    if (this.buf.length - this.p < n) throw new BadMessageError(`truncated packet reading ${what}`);
  }

  u8(): number {
    this.need(1, 'byte');
    return this.buf[this.p++]!;
  }

  u32(): number {
    this.need(4, 'uint32');
    const v = this.buf.readUInt32BE(this.p);
    this.p += 4;
    return v;
  }

  /** uint64 as a number; values past 2^53 cannot be real offsets and are rejected. */
  u64(): number {
    this.need(8, 'uint64');
    const hi = this.buf.readUInt32BE(this.p);
    const lo = this.buf.readUInt32BE(this.p + 4);
    this.p += 8;
    if (hi > 0x1fffff) throw new BadMessageError('uint64 value too large');
    return hi * 0x100000000 + lo;
  }

  bytes(): Buffer {
    const len = this.u32();
    this.need(len, 'string');
    const out = this.buf.subarray(this.p, this.p + len);
    this.p += len;
    return out;
  }

  /** A UTF-8 string; invalid encodings are malformed requests (NUL bytes are refused by path cleaning). */
  string(): string {
    const raw = this.bytes();
    let s: string;
    try {
      s = UTF8.decode(raw);
    } catch {
      throw new BadMessageError('invalid UTF-8 string');
    }
    return s;
  }

  rest(): Buffer {
    const out = this.buf.subarray(this.p);
    this.p = this.buf.length;
    return out;
  }
}

export interface SftpAttrs {
  size?: number;
  uid?: number;
  gid?: number;
  permissions?: number;
  atime?: number;
  mtime?: number;
}

export function readAttrs(r: PacketReader): SftpAttrs {
  const flags = r.u32();
  const a: SftpAttrs = {};
  if (flags & ATTR.SIZE) a.size = r.u64();
  if (flags & ATTR.UIDGID) {
    a.uid = r.u32();
    a.gid = r.u32();
  }
  if (flags & ATTR.PERMISSIONS) a.permissions = r.u32();
  if (flags & ATTR.ACMODTIME) {
    a.atime = r.u32();
    a.mtime = r.u32();
  }
  if (flags & ATTR.EXTENDED) {
    const count = r.u32();
    // each pair needs at least 8 bytes: a bogus count cannot loop for long
    if (count > r.remaining / 8) throw new BadMessageError('bad extended attribute count');
    for (let i = 0; i < count; i++) {
      r.bytes();
      r.bytes();
    }
  }
  return a;
}

/** Seconds since the epoch as SFTPv3's uint32 (clamped, never negative). */
export function toUnixSeconds(d: Date): number {
  const s = Math.floor(d.getTime() / 1000);
  if (!Number.isFinite(s) || s < 0) return 0;
  return s > 0xffffffff ? 0xffffffff : s;
}

/** Builds one reply packet in a growable buffer; finish() fills in the length. */
export class PacketWriter {
  private buf: Buffer;
  private p = 4;

  constructor(type: number, id: number | undefined, sizeHint = 64) {
    this.buf = Buffer.allocUnsafe(Math.max(16, sizeHint));
    this.buf[this.p++] = type;
    if (id !== undefined) this.u32(id);
  }

  private ensure(n: number): void {
    if (this.p + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.p + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.p);
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.p++] = v;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.p);
    this.p += 4;
    return this;
  }

  u64(v: number): this {
    this.ensure(8);
    const n = v > 0 && Number.isFinite(v) ? Math.floor(v) : 0;
    this.buf.writeUInt32BE(Math.floor(n / 0x100000000) >>> 0, this.p);
    this.buf.writeUInt32BE(n >>> 0, this.p + 4);
    this.p += 8;
    return this;
  }

  string(v: string | Buffer): this {
    const len = typeof v === 'string' ? Buffer.byteLength(v) : v.length;
    this.ensure(4 + len);
    this.buf.writeUInt32BE(len, this.p);
    this.p += 4;
    if (typeof v === 'string') this.buf.write(v, this.p, len, 'utf8');
    else v.copy(this.buf, this.p);
    this.p += len;
    return this;
  }

  raw(v: Buffer): this {
    this.ensure(v.length);
    v.copy(this.buf, this.p);
    this.p += v.length;
    return this;
  }

  attrs(info: FileInfo): this {
    this.u32(ATTR.SIZE | ATTR.UIDGID | ATTR.PERMISSIONS | ATTR.ACMODTIME);
    this.u64(info.size);
    this.u32(info.uid);
    this.u32(info.gid);
    this.u32(info.mode);
    this.u32(toUnixSeconds(info.atime));
    this.u32(toUnixSeconds(info.mtime));
    return this;
  }

  /** Empty ATTRS (flags 0), used by REALPATH/READLINK names. */
  noAttrs(): this {
    return this.u32(0);
  }

  finish(): Buffer {
    this.buf.writeUInt32BE(this.p - 4, 0);
    return this.buf.subarray(0, this.p);
  }
}

export function statusPacket(id: number, code: number, message: string): Buffer {
  return new PacketWriter(PKT.STATUS, id, 24 + message.length * 3)
    .u32(code)
    .string(message)
    .string('en')
    .finish();
}

export interface NameEntry {
  filename: string;
  longname: string;
  attrs?: FileInfo;
}

export function namePacket(id: number, entries: readonly NameEntry[]): Buffer {
  const w = new PacketWriter(PKT.NAME, id, 64 + entries.length * 160);
  w.u32(entries.length);
  for (const e of entries) {
    w.string(e.filename).string(e.longname);
    if (e.attrs) w.attrs(e.attrs);
    else w.noAttrs();
  }
  return w.finish();
}
