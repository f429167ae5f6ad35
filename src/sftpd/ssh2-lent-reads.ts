/**
 * SSH connections read into one reused buffer per socket instead of a fresh
 * Buffer per read (issue 11: the first 1 GiB upload after start grew RSS by
 * +72..+88 MiB on S3, nearly all of it Buffers dropped but not yet scavenged,
 * docs/benchmarks.md). ssh2 parses a socket chunk synchronously and decrypts
 * it in place, so the chunk may be a view into memory the next read
 * overwrites (util/user-buffer-socket.ts, adoptWithLentReads) as long as
 * nothing keeps a view into it past the parse. What could, and what is done:
 *
 * - every decrypted payload except CHANNEL_DATA (auth requests, key
 *   exchange messages ssh2 keeps for the exchange hash, channel requests...)
 *   is copied before ssh2's handler sees it (small, rare packets);
 * - CHANNEL_DATA goes to the channel's push(): for a registered consumer that
 *   copies what it keeps (the SFTP session's framer) with nothing waiting in
 *   the stream's buffer, push() hands the view straight to its 'data' listener,
 *   paused or not, and returns false while it is paused so that ssh2 stops
 *   re-opening the window (re-opened on 'resume', as Channel._read would):
 *   an SFTP session waiting on an object store's part uploads is paused most
 *   of the time, and copies into the stream's buffer brought back one fresh
 *   Buffer per SSH packet. Any other channel (SCP, exec) gets a copy;
 * - a packet that spans two reads is put together in one reused buffer per
 *   connection, lent memory too (ssh2-packet-assembly.ts), and one that ends
 *   in this read while its MAC or tag is in the next one, which ssh2's decipher
 *   keeps as a view (`_packet`), is moved there after the parse;
 * - compressed payloads (zlib@openssh.com, never negotiated by this server)
 *   are copied like control messages.
 *
 * A read is lent only after authentication, with one of ssh2's native binding
 * deciphers (AES-GCM, ChaCha20-Poly1305, the generic CTR/CBC + HMAC one) in
 * place and ssh2 as the only 'data' listener; any other read is copied whole
 * before ssh2 sees it, which is what a fresh read buffer gave. This relies on
 * ssh2 1.x internals (Connection._protocol, Protocol._decipher, the
 * deciphers' _onPayload/_packet, Channel.prototype.push) and on Node's
 * Readable state; test/unit/sftpd/ssh2-lent-reads.test.ts fails if they change.
 */
// ssh2's crypto.js must load after the padding pool is in place (ssh2-padding.ts)
import './ssh2-padding';
import type * as net from 'node:net';
import type { Readable } from 'node:stream';
import { adoptWithLentReads, isLentMemory } from '../util/user-buffer-socket';
import { packetAssembly, type PacketAssembly } from './ssh2-packet-assembly';

/** SSH_MSG_CHANNEL_DATA */
const CHANNEL_DATA = 94;

/** How reads went (tests and diagnostics). */
export const lentReadCounters = {
  /** socket reads handed to ssh2 as views into the reused buffer */
  lentReads: 0,
  /** socket reads copied whole before ssh2 saw them (before auth, or lending not possible) */
  copiedReads: 0,
  /** lent payloads copied before ssh2's handler (control messages) */
  copiedPayloads: 0,
  /** lent channel data copied in push() (consumer not registered, or data waiting in its buffer) */
  copiedChannelData: 0,
  /** channel data handed straight to a registered consumer (lent or not, paused or not) */
  directChannelData: 0,
};

type PayloadFn = (payload: Buffer) => unknown;
interface DecipherShape { _onPayload: PayloadFn }
interface ProtocolShape { _decipher: DecipherShape; _packetRW: { read: object }; _buffer?: Uint8Array }
interface CryptoModule {
  bindingAvailable: boolean;
  CIPHER_INFO: Record<string, { keyLen: number; ivLen: number }>;
  MAC_INFO: Record<string, { len: number }>;
  createDecipher(config: { inbound: Record<string, unknown> }): { free(): void };
}
interface ZlibModule { PacketReader: new () => object }
interface ChannelModule { Channel: { prototype: Readable }; windowAdjust: unknown; WINDOW_THRESHOLD: unknown }
interface ReadableStateShape {
  length: unknown; objectMode: unknown;
  decoder: unknown; ended: unknown; destroyed: unknown; errored: unknown;
}

/** The prototypes of ssh2's native binding deciphers, or empty when ssh2 has no binding. */
function bindingDecipherPrototypes(c: CryptoModule): Set<object> {
  const out = new Set<object>();
  if (!c.bindingAvailable) return out;
  const make = (cipher: string, mac?: string): void => {
    const info = c.CIPHER_INFO[cipher];
    const macInfo = mac ? c.MAC_INFO[mac] : undefined;
    if (!info || (mac && !macInfo)) return;
    const d = c.createDecipher({ inbound: {
      onPayload: () => undefined, decipherInfo: info, decipherKey: Buffer.alloc(info.keyLen),
      decipherIV: Buffer.alloc(info.ivLen), seqno: 0,
      ...(macInfo ? { macInfo, macKey: Buffer.alloc(macInfo.len) } : {}),
    } });
    out.add(Object.getPrototypeOf(d) as object);
    d.free();
  };
  make('aes128-gcm@openssh.com');
  make('chacha20-poly1305@openssh.com');
  make('aes128-ctr', 'hmac-sha2-256');
  return out;
}

/**
 * Whether push() may hand a chunk straight to the stream's one 'data' listener:
 * nothing waits in its buffer (so order holds) and it can still emit.
 */
export function deliversDirectly(stream: Readable): boolean {
  const st = (stream as unknown as { _readableState?: ReadableStateShape })._readableState;
  return !!st && st.length === 0 && st.objectMode === false && st.decoder === null && st.ended === false &&
    st.destroyed === false && st.errored === null && stream.listenerCount('data') === 1;
}

/** Channels whose 'data' consumer copies whatever it keeps of a lent chunk and takes data while paused. */
const lentConsumers = new WeakSet<object>();

interface ChannelWindowState { _waitChanDrain?: unknown; incoming?: { window?: unknown } }
let windowAdjust: ((channel: object) => void) | undefined;
let windowThreshold = 0;

/**
 * Registers `channel` (an ssh2 channel) as one whose only 'data' listener
 * copies what it keeps of lent chunks and accepts data while paused (its
 * backlog is bounded by the SSH window, which ssh2 stops re-opening while
 * push() returns false). The window is re-opened when it resumes.
 */
export function acceptLentChunks(channel: Readable): void {
  lentConsumers.add(channel);
  channel.on('resume', () => {
    const c = channel as unknown as ChannelWindowState;
    if (c._waitChanDrain !== true || channel.isPaused() || !windowAdjust) return;
    c._waitChanDrain = false;
    if (typeof c.incoming?.window === 'number' && c.incoming.window <= windowThreshold) windowAdjust(channel);
  });
}

let decipherPrototypes = new Set<object>();
let PlainPacketReader: (new () => object) | undefined;

/** Patches ssh2's Channel.push once; 'applied' when lending is possible in this process. */
function install(): 'applied' | 'no-binding' | 'failed' {
  try {
    const c = require('ssh2/lib/protocol/crypto.js') as CryptoModule;
    decipherPrototypes = bindingDecipherPrototypes(c);
    if (decipherPrototypes.size === 0) return 'no-binding';
    PlainPacketReader = (require('ssh2/lib/protocol/zlib.js') as ZlibModule).PacketReader;
    const channelModule = require('ssh2/lib/Channel.js') as ChannelModule;
    const proto = channelModule.Channel.prototype;
    const push = proto.push;
    if (typeof push !== 'function' || typeof PlainPacketReader !== 'function') return 'failed';
    if (typeof channelModule.windowAdjust !== 'function' || typeof channelModule.WINDOW_THRESHOLD !== 'number') return 'failed';
    windowAdjust = channelModule.windowAdjust as (channel: object) => void;
    windowThreshold = channelModule.WINDOW_THRESHOLD;
    proto.push = function lentAwarePush(this: Readable, chunk: unknown, encoding?: BufferEncoding): boolean {
      if (chunk instanceof Buffer && chunk.length > 0 && lentConsumers.has(this) && deliversDirectly(this)) {
        lentReadCounters.directChannelData++;
        this.emit('data', chunk);
        // false while paused: ssh2 then stops re-opening the window until 'resume'
        return !this.isPaused();
      }
      if (chunk instanceof Uint8Array && isLentMemory(chunk)) {
        lentReadCounters.copiedChannelData++;
        return push.call(this, Buffer.from(chunk), encoding);
      }
      return push.call(this, chunk, encoding);
    };
    return 'applied';
  } catch {
    decipherPrototypes = new Set();
    return 'failed';
  }
}

export const lentReadsState = install();

function protocolOf(client: object): ProtocolShape | undefined {
  const p = (client as { _protocol?: Partial<ProtocolShape> })._protocol;
  if (!p || typeof p !== 'object' || !p._decipher || typeof p._decipher._onPayload !== 'function') return undefined;
  if (!p._packetRW || typeof p._packetRW.read !== 'object') return undefined;
  return p as ProtocolShape;
}

/** Copies lent payloads unless they are uncompressed CHANNEL_DATA (push() decides for those). */
function copyingPayloads(proto: ProtocolShape, handler: PayloadFn): PayloadFn {
  return (payload) => {
    if (payload.length > 0 && isLentMemory(payload) &&
        (payload[0] !== CHANNEL_DATA || !(PlainPacketReader && proto._packetRW.read instanceof PlainPacketReader))) {
      lentReadCounters.copiedPayloads++;
      return handler(Buffer.from(payload));
    }
    return handler(payload);
  };
}

/**
 * Makes every handler ssh2 gives this decipher (it swaps them around a key
 * exchange) go through copyingPayloads, and a binding decipher assemble split
 * packets in the connection's reused buffer.
 */
function wrapDecipher(proto: ProtocolShape, d: DecipherShape, assembly: PacketAssembly): void {
  if (decipherPrototypes.has(Object.getPrototypeOf(d) as object)) assembly.adopt(d);
  let wrapped = copyingPayloads(proto, d._onPayload);
  Object.defineProperty(d, '_onPayload', {
    configurable: true,
    enumerable: true,
    get: () => wrapped,
    set: (f: PayloadFn) => { wrapped = copyingPayloads(proto, f); },
  });
}

/** Wraps the current decipher and each one ssh2 installs after a key exchange. */
function wrapProtocol(proto: ProtocolShape, assembly: PacketAssembly): void {
  let current = proto._decipher;
  wrapDecipher(proto, current, assembly);
  Object.defineProperty(proto, '_decipher', {
    configurable: true,
    enumerable: true,
    get: () => current,
    set: (d: DecipherShape) => {
      current = d;
      if (d && typeof d === 'object') wrapDecipher(proto, d, assembly);
    },
  });
}

/** After a lent parse: what ssh2 keeps for the next read must not point into the lent buffer. */
function keepNothingLent(proto: ProtocolShape, assembly: PacketAssembly, readMemory: ArrayBufferLike): void {
  const d = proto._decipher as DecipherShape | undefined;
  if (d && typeof d === 'object') assembly.settle(d, readMemory);
  if (proto._buffer && isLentMemory(proto._buffer)) proto._buffer = Buffer.from(proto._buffer);
}

export interface SshLentReads {
  readonly socket: net.Socket;
  /** Starts lending reads to `client`'s parser (after authentication); false when its shape is not the expected one. */
  lendTo(client: object): boolean;
}

/**
 * A socket on `sock`'s connection reading into one reused buffer, to give
 * ssh2 through injectSocket(); undefined when lending is not possible here
 * (no ssh2 binding, Node internals changed, the socket cannot be adopted).
 */
export function adoptForSsh(sock: net.Socket): SshLentReads | undefined {
  if (lentReadsState !== 'applied') return undefined;
  let proto: ProtocolShape | undefined;
  const assembly = packetAssembly();
  const socket = adoptWithLentReads(sock, (s, chunk) => {
    const decipher = proto?._decipher as DecipherShape | undefined;
    const lend = decipher !== undefined && typeof decipher === 'object' && s.listenerCount('data') === 1 &&
      decipherPrototypes.has(Object.getPrototypeOf(decipher) as object);
    if (!lend) {
      lentReadCounters.copiedReads++;
      s.emit('data', Buffer.from(chunk));
      return;
    }
    lentReadCounters.lentReads++;
    s.emit('data', chunk);
    keepNothingLent(proto as ProtocolShape, assembly, chunk.buffer);
  });
  if (!socket) return undefined;
  return {
    socket,
    lendTo(client) {
      if (proto) return true;
      const p = protocolOf(client);
      if (!p) return false;
      wrapProtocol(p, assembly);
      proto = p;
      return true;
    },
  };
}
