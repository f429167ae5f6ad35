import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  installPacketSlab, packetSlabState, restorePacketSlab, SLAB_BYTES, SLAB_MAX_PACKET, slabAllocator,
} from '../../../src/sftpd/ssh2-packet-slab';

interface CipherInfo { keyLen: number; ivLen: number }
interface Cipher { allocPacket(n: number): Buffer; encrypt(p: Buffer): void; free(): void }
const ssh2crypto = require('ssh2/lib/protocol/crypto.js') as {
  CIPHER_INFO: Record<string, CipherInfo>;
  createCipher(c: { outbound: Record<string, unknown> }): Cipher;
};

const CIPHERS = ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com'];
/** payload sizes: control messages, an SFTP status, a full 32 KiB CHANNEL_DATA, and over the slab's maximum */
const SIZES = [0, 1, 5, 16, 100, 1000, 32768 + 9, 40000, SLAB_MAX_PACKET + 1];

/**
 * Everything a cipher writes to the socket for `payloads`, its padding set to
 * a counter (so two allocPackets' random padding compares equal), with the
 * lengths allocPacket returned.
 */
function wire(name: string, key: Buffer, iv: Buffer, payloads: Buffer[]): { bytes: Buffer; lengths: number[]; packets: Buffer[] } {
  const info = ssh2crypto.CIPHER_INFO[name]!;
  const out: Buffer[] = [];
  const cipher = ssh2crypto.createCipher({ outbound: {
    onWrite: (b: Buffer) => out.push(Buffer.from(b)), cipherInfo: info, cipherKey: key,
    cipherIV: Buffer.from(iv), seqno: 7,
  } });
  const lengths: number[] = [];
  const packets: Buffer[] = [];
  for (const payload of payloads) {
    const p = cipher.allocPacket(payload.length);
    lengths.push(p.length);
    packets.push(p);
    payload.copy(p, 5);
    const padLen = p[4]!;
    for (let i = 0; i < padLen; i++) p[5 + payload.length + i] = i;
    cipher.encrypt(p);
  }
  cipher.free();
  return { bytes: Buffer.concat(out), lengths, packets };
}

test('the daemon applies the slab to ssh2 (native binding present here)', () => {
  assert.equal(packetSlabState, 'applied');
});

test('slab packets encrypt to the same bytes as ssh2 own packets, every AEAD cipher and size', () => {
  for (const name of CIPHERS) {
    const info = ssh2crypto.CIPHER_INFO[name]!;
    const key = randomBytes(info.keyLen);
    const iv = randomBytes(info.ivLen);
    const payloads = SIZES.map((n) => randomBytes(n));
    const slab = wire(name, key, iv, payloads);
    restorePacketSlab();
    try {
      const own = wire(name, key, iv, payloads);
      assert.deepEqual(slab.lengths, own.lengths, `${name}: packet lengths`);
      assert.ok(slab.bytes.equals(own.bytes), `${name}: ciphertext, tags and lengths byte for byte`);
      // ssh2's own packets each have an ArrayBuffer; the slab's small ones share one
      assert.ok(own.packets.every((p) => p.byteOffset === 0 || p.length <= 4096), `${name}: unpatched allocates per packet`);
    } finally {
      assert.equal(installPacketSlab(), 'applied');
    }
    const shared = slab.packets.filter((p) => p.length <= SLAB_MAX_PACKET);
    assert.ok(shared.length >= 2 && shared.slice(1).some((p) => p.buffer === shared[0]!.buffer), `${name}: packets share a slab`);
  }
});

test('restore puts ssh2 own allocPacket back; installing again patches again', () => {
  const info = ssh2crypto.CIPHER_INFO['aes128-gcm@openssh.com']!;
  const make = (): Cipher => ssh2crypto.createCipher({ outbound: {
    onWrite: () => undefined, cipherInfo: info, cipherKey: Buffer.alloc(info.keyLen), cipherIV: Buffer.alloc(info.ivLen), seqno: 0,
  } });
  const patched = make();
  const patchedFn = patched.allocPacket;
  restorePacketSlab();
  const plain = make();
  assert.notEqual(plain.allocPacket, patchedFn, 'the original method is back');
  const a = plain.allocPacket(5000);
  const b = plain.allocPacket(5000);
  assert.notEqual(a.buffer, b.buffer, 'and allocates as ssh2 does');
  assert.equal(installPacketSlab(), 'applied');
  const c = make();
  assert.equal(c.allocPacket(5000).buffer, c.allocPacket(5000).buffer, 'patched again');
  assert.equal(installPacketSlab(), 'applied', 'installing twice');
  restorePacketSlab();
  assert.notEqual(make().allocPacket(5000).buffer, make().allocPacket(5000).buffer, 'one restore undoes both installs');
  installPacketSlab();
  for (const x of [patched, plain, c]) x.free();
});

test('slab allocator: aligned, non-overlapping views; a new slab when full; large requests apart', () => {
  const alloc = slabAllocator(1024, 300);
  const views: Buffer[] = [];
  for (let i = 0; i < 20; i++) {
    const v = alloc(13 + i * 7);
    assert.equal(v.length, 13 + i * 7);
    assert.equal(v.byteOffset % 8, 0, 'offsets are 8-byte aligned');
    v.fill(i);
    views.push(v);
  }
  views.forEach((v, i) => assert.ok(v.every((x) => x === i), `view ${i} was not overwritten by a later one`));
  assert.ok(new Set(views.map((v) => v.buffer)).size > 1, 'a full slab is replaced, not reused');
  const big = alloc(301);
  assert.equal(big.length, 301);
  assert.ok(views.every((v) => v.buffer !== big.buffer), 'over the maximum: a buffer of its own');
  assert.ok(SLAB_BYTES >= 4 * 32 * 1024 + 64, 'several full CHANNEL_DATA packets per slab');
});
