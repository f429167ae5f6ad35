/**
 * direct-data.ts against ssh2's own Protocol.channelData: the same plaintext
 * packets (padding aside, which is random) for both AEAD binding ciphers and
 * several maximum packet sizes, through ssh2's own Channel._write, and the
 * plain path whenever a condition fails: compression, another cipher, a rekey
 * between the read and the send, a closed channel, a short read; a small
 * window keeps every reply in order; the packets' memory returns to the pool
 * only once the socket has written them.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Duplex } from 'node:stream';
import { DataPackets, directDataCounters, WINDOW_WAIT_MS } from '../../../../src/sftpd/sftp/direct-data';
import { withManualWindowTimers } from '../../../support/window-timers';
import { replyBlocks } from '../../../../src/sftpd/sftp/reply-blocks';
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
const Protocol = require('ssh2/lib/protocol/Protocol.js') as { prototype: object };
const ssh2Channel = require('ssh2/lib/Channel.js') as { Channel: { prototype: { _write: WriteFn } } };

type WriteFn = (this: Duplex, chunk: Buffer, enc: BufferEncoding, cb: (e?: Error | null) => void) => void;
const TAG_LEN = 16;
const REMOTE_ID = 7;

interface FakeProtocol { _kexinit: unknown; _cipher: Cipher; _packetRW: { write: object }; _debug: undefined }
interface Outgoing { id: number; window: number; packetSize: number; state: string }
interface ChannelState { outgoing: Outgoing; _waitWindow: boolean; _chunk?: Buffer; _chunkcb?: () => void }

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

/**
 * A Duplex with ssh2's Channel._write and the internals it and direct-data.ts
 * use, on a Protocol whose channelData is ssh2's own; every packet encrypted
 * lands in `sent` as plaintext.
 */
function fakeChannel(cipherName: string, packetSize: number, window: number, sent: Buffer[]) {
  const proto = Object.assign(Object.create(Protocol.prototype) as object, {
    _kexinit: undefined, _cipher: recordingCipher(cipherName, sent), _packetRW: { write: {} }, _debug: undefined,
  }) as FakeProtocol;
  proto._packetRW.write = new ssh2zlib.PacketWriter(proto);
  const ch = new Duplex({ read() { /* nothing to read */ } });
  Object.assign(ch, {
    _write: ssh2Channel.Channel.prototype._write, _client: { _protocol: proto },
    outgoing: { id: REMOTE_ID, window, packetSize, state: 'open' }, _waitWindow: false,
  });
  const state = ch as unknown as ChannelState;
  /** what ssh2's server does on CHANNEL_WINDOW_ADJUST (lib/server.js) */
  const adjust = (n: number): void => {
    state.outgoing.window += n;
    if (!state._waitWindow) return;
    state._waitWindow = false;
    if (state._chunk) (ch as unknown as { _write: WriteFn })._write.call(ch, state._chunk, 'binary', state._chunkcb!);
    else if (state._chunkcb) state._chunkcb();
  };
  return { ch, proto, outgoing: state.outgoing, adjust };
}

/** The data each CHANNEL_DATA packet carried, concatenated. */
function carried(packets: Buffer[]): Buffer {
  return Buffer.concat(packets.map((pk) => pk.subarray(14, 14 + pk.readUInt32BE(10))));
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
          const before = directDataCounters.direct;
          a.ch.write(reply.marker);
          assert.equal(directDataCounters.direct, before + 1, 'sent directly');
          const own: Buffer[] = [];
          const b = fakeChannel(name, packetSize, 4 << 20, own);
          b.ch.write(sftpData(42, data));
          assert.deepEqual(comparable(direct), comparable(own), `${name} ${packetSize} ${len}: packets byte for byte`);
          assert.equal(a.outgoing.window, b.outgoing.window, 'window consumed alike');
          assert.equal(a.ch.writableLength, 0);
        }
      }
    }
  });

  test('no packets when compression is on, the cipher is another, a rekey runs or the channel is at EOF', () => {
    const sent: Buffer[] = [];
    const zlib = fakeChannel(CIPHERS[0]!, 32768, 1 << 20, sent);
    zlib.proto._packetRW.write = new ssh2zlib.ZlibPacketWriter(zlib.proto);
    assert.equal(DataPackets.prepare(zlib.ch, 1, 1000), undefined, 'compression');
    const ctr = fakeChannel(CIPHERS[0]!, 32768, 1 << 20, sent);
    ctr.proto._cipher = recordingCipher('aes128-ctr', sent);
    assert.equal(DataPackets.prepare(ctr.ch, 1, 1000), undefined, 'aes128-ctr');
    const kex = fakeChannel(CIPHERS[0]!, 32768, 1 << 20, sent);
    kex.proto._kexinit = Buffer.alloc(1);
    (kex.proto._packetRW.write as { allocStart: number }).allocStart = 0;
    assert.equal(DataPackets.prepare(kex.ch, 1, 1000), undefined, 'key exchange in progress');
    const closed = fakeChannel(CIPHERS[0]!, 32768, 1 << 20, sent);
    closed.outgoing.state = 'eof';
    assert.equal(DataPackets.prepare(closed.ch, 1, 1000), undefined, 'channel at EOF');
    assert.equal(sent.length, 0);
  });

  test('a rekey or a close between the read and the send: the whole reply as a copy through ssh2', () => {
    const changes: Array<[string, (f: ReturnType<typeof fakeChannel>, sent: Buffer[]) => void]> = [
      ['new cipher', (f, sent) => { f.proto._cipher = recordingCipher(CIPHERS[2]!, sent); }],
      ['closed', (f) => { f.outgoing.state = 'closed'; }],
    ];
    for (const [what, change] of changes) {
      const sent: Buffer[] = [];
      const f = fakeChannel(CIPHERS[0]!, 32768, 1 << 20, sent);
      const data = randomBytes(200_000);
      const p = DataPackets.prepare(f.ch, 9, data.length)!;
      fill(p, data);
      const reply = p.reply(data.length);
      assert.ok(!Buffer.isBuffer(reply));
      change(f, sent);
      const before = { ...directDataCounters };
      f.ch.write(reply.marker);
      assert.equal(directDataCounters.copied, before.copied + 1, `${what}: copied`);
      assert.equal(directDataCounters.direct, before.direct, `${what}: not direct`);
      if (what === 'new cipher') assert.ok(carried(sent).equals(sftpData(9, data)), `${what}: the reply, by ssh2 with the new cipher`);
      else assert.equal(sent.length, 0, `${what}: nothing sent on a closed channel`);
    }
    const kex = fakeChannel(CIPHERS[0]!, 32768, 1 << 20, []);
    const p = DataPackets.prepare(kex.ch, 9, 5000)!;
    fill(p, randomBytes(5000));
    const reply = p.reply(5000);
    assert.ok(!Buffer.isBuffer(reply));
    // what ssh2's kex.js does when a key exchange starts
    kex.proto._kexinit = Buffer.alloc(1);
    (kex.proto._packetRW.write as { allocStart: number }).allocStart = 0;
    const queued: Buffer[] = [];
    (kex.proto as unknown as { _queue?: Buffer[] })._queue = queued;
    const copied = directDataCounters.copied;
    kex.ch.write(reply.marker);
    assert.equal(directDataCounters.copied, copied + 1, 'a key exchange in progress: ssh2 queues a copy');
    assert.equal(queued.length, 1);
  });

  test('a window smaller than the reply: the packets it takes whole, the rest after the window adjusts, later replies behind', () => {
    const sent: Buffer[] = [];
    const f = fakeChannel(CIPHERS[2]!, 32768, 100_000, sent);
    const data = randomBytes(255 * 1024);
    const p = DataPackets.prepare(f.ch, 3, data.length)!;
    fill(p, data);
    const reply = p.reply(data.length);
    assert.ok(!Buffer.isBuffer(reply));
    const before = { ...directDataCounters };
    f.ch.write(reply.marker);
    assert.equal(directDataCounters.waited, before.waited + 1, 'waits for a window that takes the next packet whole');
    assert.equal(sent.length, 3, 'three packets sent');
    assert.equal(f.outgoing.window, 100_000 - 3 * 32768, 'the rest of the window kept');
    f.adjust(1000);
    assert.equal(sent.length, 3, 'an adjust too small for a packet: still waiting');
    const later = sftpData(4, randomBytes(5000));
    f.ch.write(later);
    assert.ok(f.ch.writableLength > later.length, 'the rest and the later reply wait');
    const other = randomBytes(3000);
    const p2 = DataPackets.prepare(f.ch, 5, other.length)!;
    fill(p2, other);
    const reply2 = p2.reply(other.length);
    assert.ok(!Buffer.isBuffer(reply2));
    f.ch.write(reply2.marker);
    // bounded: each adjust lets at least one packet out
    for (let i = 0; i < 100 && f.ch.writableLength > 0; i++) f.adjust(64 * 1024);
    assert.equal(f.ch.writableLength, 0);
    assert.ok(carried(sent).equals(Buffer.concat([sftpData(3, data), later, sftpData(5, other)])), 'every byte, in order');
    assert.equal(directDataCounters.partial, before.partial, 'no packet split');
    assert.ok(sent.every((pk) => pk.readUInt32BE(10) <= 32768));
    assert.equal(sent.filter((pk) => pk.readUInt32BE(10) < 32768).length, 3, 'only each reply\'s last packet short');
  });

  test('a client that grants window only at zero: the wait runs out, the packet is split, that channel splits from then on', () => {
    withManualWindowTimers((timers) => {
      const sent: Buffer[] = [];
      const f = fakeChannel(CIPHERS[0]!, 32768, 100_000, sent);
      const send = (id: number, len: number): Buffer => {
        const data = randomBytes(len);
        const p = DataPackets.prepare(f.ch, id, len)!;
        fill(p, data);
        const reply = p.reply(len);
        assert.ok(!Buffer.isBuffer(reply));
        f.ch.write(reply.marker);
        return data;
      };
      const before = { ...directDataCounters };
      const first = send(1, 255 * 1024);
      assert.equal(timers.length, 1);
      assert.equal(timers[0]!.ms, WINDOW_WAIT_MS);
      // the client waits for the window to reach zero; the wait runs out instead
      timers[0]!.fn();
      assert.equal(directDataCounters.waitTimeouts, before.waitTimeouts + 1);
      assert.equal(directDataCounters.partial, before.partial + 1, 'the packet split to fill the window');
      assert.equal(f.outgoing.window, 0, 'window used to the byte');
      // bounded: each adjust at zero lets at least one packet out
      for (let i = 0; i < 100 && f.ch.writableLength > 0; i++) if (f.outgoing.window === 0) f.adjust(100_000);
      assert.equal(f.ch.writableLength, 0);
      f.outgoing.window = 50_000;
      const second = send(2, 100_000);
      assert.equal(timers.length, 1, 'no wait on that channel any more');
      for (let i = 0; i < 100 && f.ch.writableLength > 0; i++) if (f.outgoing.window === 0) f.adjust(100_000);
      assert.ok(carried(sent).equals(Buffer.concat([sftpData(1, first), sftpData(2, second)])), 'every byte, in order');
      // an adjust in time clears the wait's timer
      const g = fakeChannel(CIPHERS[0]!, 32768, 40_000, []);
      const p = DataPackets.prepare(g.ch, 3, 100_000)!;
      fill(p, randomBytes(100_000));
      const reply = p.reply(100_000);
      assert.ok(!Buffer.isBuffer(reply));
      g.ch.write(reply.marker);
      assert.equal(timers.length, 2);
      g.adjust(200_000);
      assert.ok(timers[1]!.cleared, 'timer cleared by the adjust');
      assert.equal(g.ch.writableLength, 0);
      timers[1]!.fn();
      assert.equal(directDataCounters.waitTimeouts, before.waitTimeouts + 1, 'a late timer does nothing');
    });
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

  test('the packets\' memory goes back to the pool once the socket has written them, not before, never after an error', () => {
    const f = fakeChannel(CIPHERS[0]!, 32768, 4 << 20, []);
    const callbacks: Array<(err?: Error | null) => void> = [];
    const sock = { destroyed: false, writable: true, write: (chunk: Buffer, cb: (err?: Error | null) => void) => { assert.equal(chunk.length, 0); callbacks.push(cb); return true; } };
    (f.ch as unknown as { _client: { _sock: typeof sock } })._client._sock = sock;
    const send = (id: number): ArrayBufferLike => {
      const data = randomBytes(255 * 1024);
      const p = DataPackets.prepare(f.ch, id, data.length)!;
      fill(p, data);
      const reply = p.reply(data.length);
      assert.ok(!Buffer.isBuffer(reply));
      f.ch.write(reply.marker);
      return p.regions[0]!.buffer;
    };
    const given = replyBlocks.counters.given;
    const first = send(1);
    assert.equal(callbacks.length, 1, 'one callback asked for after the last packet');
    assert.equal(replyBlocks.counters.given, given, 'not given back while the socket may still hold the packets');
    callbacks.shift()!();
    assert.equal(replyBlocks.counters.given, given + 1, 'given back once written');
    const reused = replyBlocks.counters.reused;
    assert.equal(send(2), first, 'the next reply is cut from the same memory');
    assert.equal(replyBlocks.counters.reused, reused + 1);
    callbacks.shift()!(new Error('socket destroyed'));
    assert.equal(replyBlocks.counters.given, given + 1, 'a failed socket write keeps the memory out of the pool');
    assert.notEqual(send(3), first, 'so the next reply has memory of its own');
    sock.destroyed = true;
    send(4);
    assert.equal(callbacks.length, 1, 'no callback asked of a destroyed socket');
  });

  test('an EOF or a short read gives the memory back at once', () => {
    const f = fakeChannel(CIPHERS[2]!, 32768, 1 << 20, []);
    const given = replyBlocks.counters.given;
    DataPackets.prepare(f.ch, 1, 1000)!.release();
    assert.equal(replyBlocks.counters.given, given + 1, 'EOF');
    const p = DataPackets.prepare(f.ch, 2, 100_000)!;
    fill(p, randomBytes(100_000));
    assert.ok(Buffer.isBuffer(p.reply(50_000)), 'short read: copied');
    assert.equal(replyBlocks.counters.given, given + 2, 'short read');
    p.release();
    assert.equal(replyBlocks.counters.given, given + 2, 'released once only');
  });
});
