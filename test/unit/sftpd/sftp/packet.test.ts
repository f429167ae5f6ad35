import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ATTR, PKT } from '../../../../src/sftpd/sftp/constants';
import { PacketFramer, FramingError } from '../../../../src/sftpd/sftp/framer';
import {
  BadMessageError, namePacket, PacketReader, PacketWriter, readAttrs, statusPacket, toUnixSeconds,
} from '../../../../src/sftpd/sftp/packet';
import type { FileInfo } from '../../../../src/vfs/fs';

const info: FileInfo = {
  name: 'f', size: 5 * 2 ** 32 + 7, mode: 0o100644, mtime: new Date(1_700_000_000_000), atime: new Date(1_600_000_000_500),
  uid: 1000, gid: 100, isDirectory: false, isFile: true, isSymlink: false,
};

test('writer and reader round-trip integers, uint64 above 4 GiB, strings and attrs', () => {
  const pkt = new PacketWriter(PKT.ATTRS, 42, 8).u64(6 * 2 ** 32 + 1).string('héllo').string(Buffer.from([0, 1, 2])).attrs(info).finish();
  assert.equal(pkt.readUInt32BE(0), pkt.length - 4);
  const r = new PacketReader(pkt, 4);
  assert.equal(r.u8(), PKT.ATTRS);
  assert.equal(r.u32(), 42);
  assert.equal(r.u64(), 6 * 2 ** 32 + 1);
  assert.equal(r.string(), 'héllo');
  assert.deepEqual([...r.bytes()], [0, 1, 2]);
  const a = readAttrs(r);
  assert.deepEqual(a, { size: info.size, uid: 1000, gid: 100, permissions: 0o100644, atime: 1_600_000_000, mtime: 1_700_000_000 });
  assert.equal(r.remaining, 0);
});

test('attrs with only some flags and extended pairs decode', () => {
  const w = new PacketWriter(0, undefined);
  w.u32(ATTR.PERMISSIONS | ATTR.EXTENDED).u32(0o755).u32(1).string('k').string('v');
  const r = new PacketReader(w.finish(), 5);
  assert.deepEqual(readAttrs(r), { permissions: 0o755 });
});

test('truncated fields, lying lengths, bad UTF-8 and huge uint64 are BadMessage', () => {
  assert.throws(() => new PacketReader(Buffer.from([0, 0, 0])).u32(), BadMessageError);
  assert.throws(() => new PacketReader(Buffer.from([0, 0, 0, 9, 65, 66])).bytes(), BadMessageError);
  assert.throws(() => new PacketReader(Buffer.from([0, 0, 0, 2, 0xc3, 0x28])).string(), BadMessageError);
  assert.throws(() => new PacketReader(Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0])).u64(), BadMessageError);
  // an absurd extended-attribute count fails fast instead of looping
  const w = new PacketWriter(0, undefined).u32(ATTR.EXTENDED).u32(0xffffffff);
  assert.throws(() => readAttrs(new PacketReader(w.finish(), 5)), BadMessageError);
});

test('status and name packets have the SFTPv3 layout', () => {
  const st = new PacketReader(statusPacket(7, 2, 'no such file'), 4);
  assert.deepEqual([st.u8(), st.u32(), st.u32(), st.string(), st.string(), st.remaining], [PKT.STATUS, 7, 2, 'no such file', 'en', 0]);
  const n = new PacketReader(namePacket(9, [{ filename: '/a', longname: '/a' }, { filename: 'f', longname: 'l', attrs: info }]), 4);
  assert.deepEqual([n.u8(), n.u32(), n.u32()], [PKT.NAME, 9, 2]);
  assert.deepEqual([n.string(), n.string(), n.u32()], ['/a', '/a', 0]);
  assert.deepEqual([n.string(), n.string()], ['f', 'l']);
  assert.equal(readAttrs(n).size, info.size);
  assert.equal(n.remaining, 0);
});

test('times clamp to the uint32 range', () => {
  assert.equal(toUnixSeconds(new Date(-5000)), 0);
  assert.equal(toUnixSeconds(new Date(NaN)), 0);
  assert.equal(toUnixSeconds(new Date(2 ** 33 * 1000)), 0xffffffff);
});

function frame(type: number, body: number[]): Buffer {
  const b = Buffer.from([0, 0, 0, 0, type, ...body]);
  b.writeUInt32BE(b.length - 4, 0);
  return b;
}

test('framer returns whole packets from any chunking, zero-copy inside a chunk', () => {
  const stream = Buffer.concat([frame(1, [0, 0, 0, 3]), frame(17, [0, 0, 0, 1, 0, 0, 0, 1, 0x2f]), frame(4, [9, 9, 9, 9])]);
  for (let split = 1; split <= stream.length; split++) {
    const f = new PacketFramer(1024);
    const out: number[][] = [];
    for (let p = 0; p < stream.length; p += split) {
      f.push(stream.subarray(p, p + split));
      for (let pkt = f.next(); pkt; pkt = f.next()) out.push([...pkt]);
    }
    assert.deepEqual(out, [[1, 0, 0, 0, 3], [17, 0, 0, 0, 1, 0, 0, 0, 1, 0x2f], [4, 9, 9, 9, 9]], `split ${split}`);
    assert.equal(f.bufferedBytes, 0);
  }
  const f = new PacketFramer(1024);
  f.push(stream);
  const first = f.next()!;
  assert.equal(first.buffer, stream.buffer, 'a packet inside one chunk is a view, not a copy');
});

test('framer rejects zero and oversize lengths before buffering the body', () => {
  const f = new PacketFramer(100);
  f.push(Buffer.from([0, 0, 0, 101]));
  assert.throws(() => f.next(), FramingError);
  const z = new PacketFramer(100);
  z.push(Buffer.from([0, 0, 0, 0]));
  assert.throws(() => z.next(), FramingError);
});
