/**
 * READ replies read straight into the SSH packets that carry them.
 *
 * The plain path reads file data into a reply buffer, then ssh2's
 * Channel._write cuts it into CHANNEL_DATA messages of the client's maximum
 * packet size (OpenSSH: 32 KiB) and Protocol.channelData copies each into a
 * packet of its own before encrypting it in place: one memcpy of every byte
 * downloaded (17 % of the daemon's instructions in a callgrind profile of an
 * aes128-gcm download). Here the packets are allocated first, as
 * channelData would, the file is read into their payload regions with one
 * readv, and at send time they are encrypted and sent as channelData sends.
 *
 * The reply goes into the channel as a marker: a Buffer of the reply's
 * length (zeros, never sent) that the channel's _write, wrapped by
 * channel-pacing.ts, knows by identity. So the Writable queues it in order
 * with every other reply and counts its bytes for backpressure as it always
 * did, and the packets are sent only when ssh2 would have sent the reply: at
 * its turn, in the window.
 *
 * That reaches into ssh2 internals, so it runs only while everything it
 * relies on holds, checked when the packets are made and again at the send;
 * otherwise the reply goes the plain way (a copy through ssh2's own _write):
 * - the outbound cipher is one of ssh2's AEAD binding ciphers (aes-gcm,
 *   chacha20-poly1305: their layout is the one ssh2-packet-slab.ts tests),
 *   no compression (ssh2's plain PacketWriter), no key exchange in progress,
 *   and at the send the same cipher and writer as when the packets were made
 *   (a rekey in between changes the layout and the keys);
 * - the channel is open;
 * - the read returned every byte expected (a short read is sent as a copy of
 *   what was read, with that length).
 * A packet the remote window cannot take whole waits for the client's next
 * WINDOW_ADJUST (ssh2 would send what the window allows and the rest after
 * it: two packets to encrypt here and to decrypt in the client instead of one,
 * for a third of the replies of an OpenSSH download), and packets also wait
 * while as much as the channel's pacer allows is in flight. Both waits are
 * channel-pacing.ts's, bounded: once one runs out (a client that grants window
 * only at zero), the packet goes (its data copied) through ssh2's _write,
 * which fills the window to the byte as it always does, and that channel
 * splits packets, unpaced, from then on.
 */
import type { Duplex } from 'node:stream';
import { aeadPacketAllocator, isAeadBindingCipher } from '../ssh2-packet-slab';
import { DATA_HEADER_LEN, MAX_READ_LENGTH, PKT } from './constants';
import { replyBlocks, type ReplyBlock } from './reply-blocks';
import { wrapChannelWrites, pacerOf, sendOwnWay, waitForGrant, type OutgoingState, type WriteFn } from '../channel-pacing';

export { WINDOW_WAIT_MS, windowWaitTimers, pacingClock, pacingOf } from '../channel-pacing';

const SSH_MSG_CHANNEL_DATA = 94;
/** packet length and padding length, before the payload */
const PAYLOAD_START = 5;
/** message type, recipient channel, data length */
const CHANNEL_DATA_HEADER = 1 + 4 + 4;
const DATA_START = PAYLOAD_START + CHANNEL_DATA_HEADER;
/** Below this maximum packet size (never seen: OpenSSH takes 32 KiB) the plain path is used. */
const MIN_PACKET_SIZE = 1024;

interface PacketWriterInternals { readonly allocStart: number; alloc(payloadLen: number): Buffer; finalize(packet: Buffer): Buffer }
interface ProtocolInternals {
  _kexinit: unknown;
  _cipher: object;
  _packetRW: { write: PacketWriterInternals };
}
interface SocketInternals {
  readonly destroyed: boolean;
  readonly writable: boolean;
  write(chunk: Buffer, cb: (err?: Error | null) => void): boolean;
}
interface ChannelInternals {
  _client?: { _protocol?: ProtocolInternals; _sock?: SocketInternals };
  outgoing?: OutgoingState;
  _write: WriteFn;
}

const ssh2Zlib = require('ssh2/lib/protocol/zlib.js') as { PacketWriter: abstract new (...args: never[]) => object };
const ssh2Utils = require('ssh2/lib/protocol/utils.js') as { sendPacket(proto: ProtocolInternals, packet: Buffer): boolean };

/**
 * How READ replies went out in this process (tests check the path they meant to take was taken):
 * all packets direct, one packet split through ssh2, copied; waits for a whole-packet window, and
 * those that ran out of time.
 */
export const directDataCounters = { direct: 0, partial: 0, copied: 0, waited: 0, waitTimeouts: 0 };

/** Written to the socket after a reply's last packet: its callback says the socket is done with them. */
const EMPTY = Buffer.alloc(0);
/** Zeros the markers are views of: never sent, only their identity and length count. */
const MARKER_SPACE = Buffer.alloc(DATA_HEADER_LEN + MAX_READ_LENGTH);
/** The connection and channel state the packets depend on, when every condition for them holds. */
function usableState(channel: Duplex): { proto: ProtocolInternals; outgoing: OutgoingState } | undefined {
  const ch = channel as Duplex & ChannelInternals;
  const proto = ch._client?._protocol;
  const outgoing = ch.outgoing;
  if (!proto || !outgoing || outgoing.state !== 'open' || ch.destroyed || typeof ch._write !== 'function') return undefined;
  const writer = proto._packetRW.write;
  if (proto._kexinit !== undefined || !(writer instanceof ssh2Zlib.PacketWriter) || writer.allocStart !== PAYLOAD_START) return undefined;
  if (!isAeadBindingCipher(proto._cipher)) return undefined;
  return { proto, outgoing };
}

/** A DATA reply laid out in SSH packets, the file data still to be read into `regions`. */
export class DataPackets implements DirectReply {
  /** the file-data part of each packet, in file order */
  readonly regions: Buffer[] = [];
  private readonly packets: Buffer[] = [];
  /** CHANNEL_DATA length of each packet (its share of the SFTP reply) */
  private readonly chunkLens: number[] = [];
  /** what the channel queues in the reply's place (its length is the reply's) */
  readonly marker: Buffer;
  /** the pooled memory the packets are cut from, until it is given back (reply-blocks.ts) */
  private block: ReplyBlock | undefined;
  /** a packet went through ssh2's _write, split to fit the window */
  private split = false;

  private constructor(
    private readonly channel: Duplex,
    private readonly proto: ProtocolInternals,
    private readonly cipher: object,
    private readonly writer: PacketWriterInternals,
    private readonly id: number,
    readonly expected: number,
  ) {
    this.marker = MARKER_SPACE.subarray(0, DATA_HEADER_LEN + expected);
  }

  /**
   * Packets for the reply to READ `id` carrying `expected` bytes, or
   * undefined when the plain path must be used (see the file comment).
   */
  static prepare(channel: Duplex, id: number, expected: number): DataPackets | undefined {
    const state = usableState(channel);
    if (!state || expected <= 0 || expected > MAX_READ_LENGTH || state.outgoing.packetSize < MIN_PACKET_SIZE) return undefined;
    const { proto, outgoing } = state;
    wrapChannelWrites(channel);
    const p = new DataPackets(channel, proto, proto._cipher, proto._packetRW.write, id, expected);
    const block = replyBlocks.take();
    // a packet that does not fit in the block (a tiny client packet size) gets memory of its own
    const allocPacket = aeadPacketAllocator(proto._cipher, (size) => block.alloc(size) ?? Buffer.allocUnsafe(size));
    if (allocPacket) p.block = block;
    else replyBlocks.give(block);
    // bounded: each packet takes at least MIN_PACKET_SIZE bytes of the reply
    for (let left = DATA_HEADER_LEN + expected; left > 0;) {
      const len = Math.min(left, outgoing.packetSize);
      const packet = allocPacket ? allocPacket(CHANNEL_DATA_HEADER + len) : p.writer.alloc(CHANNEL_DATA_HEADER + len);
      packet[PAYLOAD_START] = SSH_MSG_CHANNEL_DATA;
      packet.writeUInt32BE(outgoing.id, PAYLOAD_START + 1);
      packet.writeUInt32BE(len, PAYLOAD_START + 5);
      const first = p.packets.length === 0;
      p.regions.push(packet.subarray(DATA_START + (first ? DATA_HEADER_LEN : 0), DATA_START + len));
      p.packets.push(packet);
      p.chunkLens.push(len);
      left -= len;
    }
    return p;
  }

  /** The reply once `n` (> 0) bytes were read into the regions: direct when they are all there. */
  reply(n: number): DirectReply | Buffer {
    if (n === this.expected) {
      this.writeSftpHeader(this.packets[0]!, DATA_START, n);
      sendOwnWay(this.marker, (plainWrite, encoding, done) => this.sendFrom(0, plainWrite, encoding, done));
      return this;
    }
    directDataCounters.copied++;
    const buf = Buffer.allocUnsafe(DATA_HEADER_LEN + n);
    this.writeSftpHeader(buf, 0, n);
    let at = DATA_HEADER_LEN;
    for (const r of this.regions) {
      if (at >= buf.length) break;
      at += r.copy(buf, at, 0, Math.min(r.length, buf.length - at));
    }
    this.release();
    return buf;
  }

  /**
   * Gives the packets' memory back once the read into it has settled and
   * nothing was sent from it (an EOF, a short read copied out). Not after a
   * failed read: a backend may still be writing into it, so the collector
   * takes it.
   */
  release(): void {
    const block = this.block;
    this.block = undefined;
    if (block) replyBlocks.give(block);
  }

  /** Gives the memory back once the socket has written every packet sent from it. */
  private releaseAfterSend(): void {
    const block = this.block;
    this.block = undefined;
    const sock = (this.channel as Duplex & ChannelInternals)._client?._sock;
    if (!block || !sock || sock.destroyed || !sock.writable) return;
    // callbacks come in write order: this one once the packets written before it are sent
    sock.write(EMPTY, (err) => { if (!err) replyBlocks.give(block); });
  }

  private writeSftpHeader(buf: Buffer, at: number, n: number): void {
    buf.writeUInt32BE(DATA_HEADER_LEN - 4 + n, at);
    buf[at + 4] = PKT.DATA;
    buf.writeUInt32BE(this.id, at + 5);
    buf.writeUInt32BE(n, at + 9);
  }

  /**
   * At the reply's turn in the channel: sends the packets from `from` while
   * the window takes them whole. At the first one it cannot take, waits for
   * the client's window adjust and goes on from there; when that wait runs
   * out (or ran out before on this channel) the packet goes through ssh2's
   * _write (a copy of that one packet's data), which sends what the window
   * allows and the rest after the adjust, then calls back here for the
   * packets after it. When the packets may not be sent at all (a rekey, a
   * closed channel) the rest of the reply goes through ssh2's _write as a
   * copy. `done` is the Writable's callback, called once all went.
   */
  sendFrom(from: number, plainWrite: WriteFn, encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    const state = usableState(this.channel);
    if (!state || state.proto !== this.proto || this.proto._cipher !== this.cipher || this.proto._packetRW.write !== this.writer) {
      directDataCounters.copied++;
      const rest = this.restFrom(from);
      this.releaseAfterSend();
      plainWrite.call(this.channel, rest, encoding, done);
      return;
    }
    const outgoing = state.outgoing;
    const pacer = pacerOf(this.channel);
    pacer?.observe(outgoing.window);
    let i = from;
    let sent = 0;
    for (; i < this.packets.length; i++) {
      const len = this.chunkLens[i]!;
      if (len > outgoing.window || (pacer && !pacer.allows(outgoing.window, len))) break;
      ssh2Utils.sendPacket(this.proto, this.writer.finalize(this.packets[i]!));
      outgoing.window -= len;
      sent += len;
    }
    if (sent > 0) pacer?.sent(sent, outgoing.window);
    if (i === this.packets.length) {
      if (!this.split) directDataCounters.direct++;
      this.releaseAfterSend();
      done();
      return;
    }
    if (pacer) {
      this.waitForWindow(i, plainWrite, encoding, done);
      return;
    }
    this.splitThrough(i, plainWrite, encoding, done);
  }

  /** Sends packet `i` through ssh2's _write (a copy of its data, split to the window), then goes on after it. */
  private splitThrough(i: number, plainWrite: WriteFn, encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    if (!this.split) directDataCounters.partial++;
    this.split = true;
    const cut = this.packets[i]!.subarray(DATA_START, DATA_START + this.chunkLens[i]!);
    plainWrite.call(this.channel, cut, encoding, (err) => {
      if (err) done(err);
      else this.sendFrom(i + 1, plainWrite, encoding, done);
    });
  }

  /** Goes on from packet `i` at the client's next grant; a wait that ran out splits it through ssh2. */
  private waitForWindow(i: number, plainWrite: WriteFn, encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    directDataCounters.waited++;
    const waiting = waitForGrant(this.channel, (timedOut) => {
      if (timedOut) directDataCounters.waitTimeouts++;
      this.sendFrom(i, plainWrite, encoding, done);
    });
    // ssh2 waits for a window itself (stderr data): split through it, which waits its turn
    if (!waiting) this.splitThrough(i, plainWrite, encoding, done);
  }

  /** The SFTP reply bytes of packets `from`.. (header included from packet 0), copied into one buffer. */
  private restFrom(from: number): Buffer {
    if (from === this.packets.length) return Buffer.alloc(0);
    const parts: Buffer[] = [];
    for (let i = from; i < this.packets.length; i++) parts.push(this.packets[i]!.subarray(DATA_START, DATA_START + this.chunkLens[i]!));
    return Buffer.concat(parts);
  }
}

/** A READ reply in prepared packets: SftpSession writes its marker to the channel in the reply's place. */
export interface DirectReply {
  readonly marker: Buffer;
}
