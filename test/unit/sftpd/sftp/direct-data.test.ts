/**
 * direct-data.ts against ssh2's own Protocol.channelData: the same plaintext
 * packets (padding aside, which is random) for both AEAD binding ciphers and
 * several maximum packet sizes, and the plain path whenever a condition
 * fails: compression, another cipher, a rekey between the read and the send,
 * data queued in the channel, a small window, a short read.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Duplex } from 'node:stream';
import { DataPackets, directDataCounters } from '../../../../src/sftpd/sftp/direct-data';
import '../../../../src/sftpd/ssh2-packet-slab';

interface CipherInfo { keyLen: number; ivLen: number }
interface Cipher { allocPacket(n: number): Buffer; encrypt(p: Buffer): void; free(): void }
const ssh2crypto = require('ssh2/lib/protocol/crypto.js') as {
  CIPHER_INFO: Record<string, CipherInfo>;
  MAC_INFO: Record<string, { len: number }>;
  createCipher(c: { outbound: Record<string, unknown> }): Cipher;
};
const ssh2zlib = require('ssh2/lib/protocol/zlib.js') as {
  PacketWriter: new (proto: object) => object;
  ZlibPacketWriter: new (proto: object) => object;
};
const Protocol = require('ssh2/lib/protocol/Protocol.js') as { prototype: { channelData(this: object, chan: number, data: Buffer): void } };

const TAG_LEN = 16;
const REMOTE_ID = 7;

interface FakeProtocol { _kexinit: unknown; _cipher: Cipher; _packetRW: { write: object }; _debug: undefined }

/** A cipher of `name` whose encrypt records the plaintext packet (its prototype is still ssh2's). */
function recordingCipher(name: string, sent: Buffer[]): Cipher {
  const info = ssh2crypto.CIPHER_INFO[name]!;
  const cipher = ssh2crypto.createCipher({ outbound: {
    onWrite: () => undefined, cipherInfo: info, cipherKey: randomBytes(info.keyLen), cipherIV: randomBytes(info.ivLen), seqno: 0,
    macInfo: ssh2crypto.MAC_INFO['hmac-sha2-256'], macKey: randomBytes(32),
  } });
  cipher.encrypt = (p: Buffer) => { sent.push(Buffer.from(p)); };
  return cipher;
}

/** A channel with the ssh2 internals direct-data.ts reads; `_write` holds writes when `hold` is set. */
function fakeChannel(cipherName: string, packetSize: number, window: number, sent: Buffer[], hold = false) {
  const proto: FakeProtocol = { _kexinit: undefined, _cipher: recordingCipher(cipherName, sent), _packetRW: { write: {} }, _debug: undefined };
  proto._packetRW.write = new ssh2zlib.PacketWriter(proto);
  const written: Buffer[] = [];
  const ch = new Duplex({
    read() { /* nothing to read */ },
    write(chunk: Buffer, _enc, cb) { written.push(chunk); if (!hold) cb(); },
  });
  Object.assign(ch, { _client: { _protocol: proto }, outgoing: { id: REMOTE_ID, window, packetSize, state: 'open' } });
  return { ch, proto, written, outgoing: (ch as unknown as { outgoing: { window: number } }).outgoing };
}

/** The packets with their random padding and tag room zeroed. */
function comparable(packets: Buffer[]): Buffer[] {
  return packets.map((p) => {
    const c = Buffer.from(p.subarray(0, p.length - TAG_LEN));
    const padLen = c[4]!;
    c.fill(0, c.length - padLen);
    return c;
  });
}

function sftpData(id: number, data: Buffer): Buffer {
  const h = Buffer.alloc(13);
  h.writeUInt32BE(9 + data.length, 0);
  h[4] = 103;
  h.writeUInt32BE(id, 5);
  h.writeUInt32BE(data.length, 9);
  return Buffer.concat([h, data]);
}

/** Reads `data` into the regions as readv would. */
function fill(p: DataPackets, data: Buffer): number {
  let at = 0;
  for (const r of p.regions) at += data.copy(r, 0, at, Math.min(data.length, at + r.length));
  return at;
}

const CIPHERS = ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com'];

describe('direct READ replies', () => {
  test('the same plaintext packets as ssh2 channelData, every AEAD cipher, packet and data size', () => {
    for (const name of CIPHERS) {
      for (const packetSize of [32768, 1024, 65536, 32768 + 13]) {
        for (const len of [1, 100, 32768 - 13, 32768, 255 * 1024, 100_000]) {
          const data = randomBytes(len);
          const direct: Buffer[] = [];
          const a = fakeChannel(name, packetSize, 4 << 20, direct);
          const p = DataPackets.prepare(a.ch, 42, len);
          assert.ok(p, `${name} ${packetSize} ${len}: prepared`);
          assert.equal(fill(p, data), len);
          const reply = p.reply(len);
          assert.ok(!Buffer.isBuffer(reply));
          assert.equal(reply.send(), undefined, 'all sent directly');
          const own: Buffer[] = [];
          const b = fakeChannel(name, packetSize, 4 << 20, own);
          b.proto._cipher = a.proto._cipher;
          a.proto._cipher.encrypt = (pk: Buffer) => { own.push(Buffer.from(pk)); };
          const bytes = sftpData(42, data);
          for (let at = 0; at < bytes.length; at += packetSize) {
            Protocol.prototype.channelData.call(b.proto, REMOTE_ID, bytes.subarray(at, at + packetSize));
          }
          assert.deepEqual(comparable(direct), comparable(own), `${name} ${packetSize} ${len}: packets byte for byte`);
          assert.equal(a.outgoing.window, (4 << 20) - bytes.length, 'window consumed');
          assert.equal(a.written.length, 0, 'nothing through channel.write');
        }
      }
    }
  });

  test('no packets when compression is on, the cipher is another, a rekey runs or data is queued', () => {
    const sent: Buffer[] = [];
    const zlib = fakeChannel(CIPHERS[0]!, 32768, 1 << 20, sent);
    zlib.proto._packetRW.write = new ssh2zlib.ZlibPacketWriter(zlib.proto);
    assert.equal(DataPackets.prepare(zlib.ch, 1, 1000), undefined, 'compression');
    const ctr = fakeChannel(CIPHERS[0]!, 32768, 1 << 20, sent);
    ctr.proto._cipher = recordingCipher('aes128-ctr', sent);
    assert.equal(DataPackets.prepare(ctr.ch, 1, 1000), undefined, 'aes128-ctr');
    const kex = fakeChannel(CIPHERS[0]!, 32768, 1 << 20, sent);
    kex.proto._kexinit = Buffer.alloc(1);
    assert.equal(DataPackets.prepare(kex.ch, 1, 1000), undefined, 'key exchange in progress');
    const queued = fakeChannel(CIPHERS[0]!, 32768, 1 << 20, sent, true);
    queued.ch.write(Buffer.alloc(10));
    assert.equal(DataPackets.prepare(queued.ch, 1, 1000), undefined, 'a write is queued');
    const closed = fakeChannel(CIPHERS[0]!, 32768, 1 << 20, sent);
    Object.assign((closed.ch as unknown as { outgoing: object }).outgoing, { state: 'eof' });
    assert.equal(DataPackets.prepare(closed.ch, 1, 1000), undefined, 'channel at EOF');
    assert.equal(sent.length, 0);
  });

  test('a rekey, a queued write or a close between the read and the send: the whole reply as a copy', () => {
    const changes: Array<[string, (f: ReturnType<typeof fakeChannel>) => void]> = [
      ['new cipher', (f) => { f.proto._cipher = recordingCipher(CIPHERS[2]!, []); }],
      ['key exchange started', (f) => { f.proto._kexinit = Buffer.alloc(1); }],
      ['queued write', (f) => { f.ch.cork(); }],
      ['closed', (f) => { Object.assign((f.ch as unknown as { outgoing: object }).outgoing, { state: 'closed' }); }],
    ];
    for (const [what, change] of changes) {
      const sent: Buffer[] = [];
      const f = fakeChannel(CIPHERS[0]!, 32768, 1 << 20, sent);
      const data = randomBytes(200_000);
      const p = DataPackets.prepare(f.ch, 9, data.length)!;
      fill(p, data);
      const reply = p.reply(data.length);
      assert.ok(!Buffer.isBuffer(reply));
      change(f);
      const before = directDataCounters.copied;
      const rest = reply.send();
      assert.ok(rest?.equals(sftpData(9, data)), `${what}: the whole reply to write`);
      assert.equal(sent.length, 0, `${what}: no packet sent directly`);
      assert.equal(directDataCounters.copied, before + 1);
    }
  });

  test('a window smaller than the reply: the packets it takes, the rest to channel.write', () => {
    const sent: Buffer[] = [];
    const f = fakeChannel(CIPHERS[2]!, 32768, 100_000, sent);
    const data = randomBytes(255 * 1024);
    const p = DataPackets.prepare(f.ch, 3, data.length)!;
    fill(p, data);
    const reply = p.reply(data.length);
    assert.ok(!Buffer.isBuffer(reply));
    const rest = reply.send()!;
    const bytes = sftpData(3, data);
    assert.equal(sent.length, 3, 'three 32 KiB packets fit in 100000');
    assert.equal(f.outgoing.window, 100_000 - 3 * 32768);
    assert.ok(rest.equals(bytes.subarray(3 * 32768)), 'the rest, in order');
    const carried = Buffer.concat(sent.map((pk) => pk.subarray(14, 14 + pk.readUInt32BE(10))));
    assert.ok(carried.equals(bytes.subarray(0, 3 * 32768)));
  });

  test('a short read: a copy with the length actually read, never the unread bytes', () => {
    const f = fakeChannel(CIPHERS[0]!, 32768, 1 << 20, []);
    const p = DataPackets.prepare(f.ch, 5, 100_000)!;
    const data = randomBytes(40_000);
    fill(p, data);
    const reply = p.reply(data.length);
    assert.ok(Buffer.isBuffer(reply));
    assert.ok(reply.equals(sftpData(5, data)));
  });
});
