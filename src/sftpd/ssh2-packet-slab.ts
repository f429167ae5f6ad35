/**
 * ssh2 allocates every outgoing SSH packet with its own Buffer.allocUnsafe:
 * a 1 GiB download is 32768 packets of 32 KiB (OpenSSH's client takes no
 * larger ones), each a fresh ArrayBuffer (malloc, a V8 backing store, its
 * sweep). This gives the two native-binding AEAD ciphers (aes*-gcm and
 * chacha20-poly1305, the ones OpenSSH clients pick) an allocPacket that cuts
 * packets out of a shared slab instead, as Node's own Buffer pool does for
 * small buffers: a slab is never reused, only dropped once used up, so a
 * packet's memory stays valid for as long as the socket holds it. The packet
 * layout is ssh2's (length, padding length, payload, random padding, room
 * for the tag); test/unit/sftpd/ssh2-packet-slab.test.ts encrypts with both
 * and compares the bytes.
 *
 * ssh2 does not export those cipher classes: their prototypes are reached
 * through instances createCipher() makes with a zero key, then freed.
 */
import { randomFillSync } from 'node:crypto';
import { ssh2PaddingPool } from './ssh2-padding';

/** Slab size: eight 32 KiB packets per allocation. */
export const SLAB_BYTES = 256 * 1024;
/** Larger packets (none in an OpenSSH session: 32 KiB is its maximum) keep a buffer of their own. */
export const SLAB_MAX_PACKET = 64 * 1024;
const TAG_LEN = 16;

interface CipherInfo { keyLen: number; ivLen: number; sslName: string }
interface OutboundCipher { allocPacket(payloadLen: number): Buffer; free(): void }
interface Ssh2Crypto {
  bindingAvailable: boolean;
  CIPHER_INFO: Record<string, CipherInfo>;
  createCipher(config: { outbound: Record<string, unknown> }): OutboundCipher;
}

/** Cuts buffers out of slabs of `slabBytes`, each 8-byte aligned; larger requests get their own. */
export function slabAllocator(slabBytes = SLAB_BYTES, maxBytes = SLAB_MAX_PACKET): (size: number) => Buffer {
  let slab: Buffer | undefined;
  let used = 0;
  return (size) => {
    if (size > maxBytes) return Buffer.allocUnsafe(size);
    if (!slab || used + size > slabBytes) {
      slab = Buffer.allocUnsafeSlow(slabBytes);
      used = 0;
    }
    const b = slab.subarray(used, used + size);
    used = (used + size + 7) & ~7;
    return b;
  };
}

type Fill = (buf: Buffer, offset: number, size: number) => unknown;

/**
 * ssh2's allocPacket of its AEAD binding ciphers (lib/protocol/crypto.js,
 * AESGCMCipherBinding and ChaChaPolyCipherBinding), with the memory from `alloc`.
 */
export function aeadAllocPacket(blockLen: number, alloc: (size: number) => Buffer, fill: Fill): (payloadLen: number) => Buffer {
  return (payloadLen) => {
    let pktLen = 4 + 1 + payloadLen;
    let padLen = blockLen - ((pktLen - 4) & (blockLen - 1));
    if (padLen < 4) padLen += blockLen;
    pktLen += padLen;
    const packet = alloc(pktLen + TAG_LEN);
    packet.writeUInt32BE(pktLen - 4, 0);
    packet[4] = padLen;
    fill(packet, 5 + payloadLen, padLen);
    return packet;
  };
}

/** The AEAD ciphers patched, with the block length their padding rounds to. */
const PATCHED: ReadonlyArray<[name: string, blockLen: number]> = [
  ['aes128-gcm@openssh.com', 16],
  ['chacha20-poly1305@openssh.com', 8],
];

export type PacketSlabState = 'applied' | 'no-binding' | 'failed';

/** ssh2's own allocPacket of each patched prototype, recorded when first patched. */
const originals = new Map<Record<string, unknown>, PropertyDescriptor>();
/** The block length each patched prototype pads to. */
const blockLens = new Map<Record<string, unknown>, number>();
/** What the patched allocPacket pads with. */
let paddingFill: Fill = randomFillSync as Fill;

function prototypeFor(c: Ssh2Crypto, name: string): Record<string, unknown> | undefined {
  const info = c.CIPHER_INFO[name];
  if (!info) return undefined;
  const cipher = c.createCipher({ outbound: {
    onWrite: () => undefined, cipherInfo: info, cipherKey: Buffer.alloc(info.keyLen),
    cipherIV: Buffer.alloc(info.ivLen), seqno: 0,
  } });
  cipher.free();
  return Object.getPrototypeOf(cipher) as Record<string, unknown>;
}

/**
 * Whether `cipher` is an instance of one of the AEAD binding ciphers this module
 * patches (direct-data.ts sends file data only in their packets, whose layout it knows).
 */
export function isAeadBindingCipher(cipher: object): boolean {
  return originals.has(Object.getPrototypeOf(cipher) as Record<string, unknown>);
}

/**
 * An allocPacket for `cipher`'s packets (ssh2's layout, padded as the patched
 * one pads) taking its memory from `alloc`; undefined when `cipher` is not one
 * of the patched AEAD binding ciphers.
 */
export function aeadPacketAllocator(cipher: object, alloc: (size: number) => Buffer): ((payloadLen: number) => Buffer) | undefined {
  const blockLen = blockLens.get(Object.getPrototypeOf(cipher) as Record<string, unknown>);
  return blockLen === undefined ? undefined : aeadAllocPacket(blockLen, alloc, paddingFill);
}

/** Puts ssh2's own allocPacket back on every patched cipher (tests compare the two). */
export function restorePacketSlab(): void {
  for (const [proto, own] of originals) Object.defineProperty(proto, 'allocPacket', own);
}

/** Gives ssh2's AEAD binding ciphers an allocPacket drawing from a new slab. */
export function installPacketSlab(): PacketSlabState {
  try {
    const c = require('ssh2/lib/protocol/crypto.js') as Ssh2Crypto;
    if (!c.bindingAvailable) return 'no-binding';
    const alloc = slabAllocator();
    // the pool ssh2 pads from when the daemon gave it one, else what ssh2 itself calls
    const fill: Fill = (ssh2PaddingPool?.fill ?? randomFillSync) as Fill;
    paddingFill = fill;
    const protos = PATCHED.map(([name, blockLen]) => [prototypeFor(c, name), blockLen] as const);
    for (const [proto] of protos) {
      const own = proto && Object.getOwnPropertyDescriptor(proto, 'allocPacket');
      if (!proto || typeof own?.value !== 'function') return 'failed';
      if (!originals.has(proto)) originals.set(proto, own);
    }
    for (const [proto, blockLen] of protos) {
      proto!.allocPacket = aeadAllocPacket(blockLen, alloc, fill);
      blockLens.set(proto!, blockLen);
    }
    return 'applied';
  } catch {
    return 'failed';
  }
}

/** Whether ssh2's AEAD ciphers cut their packets from the slab in this process. */
export const packetSlabState: PacketSlabState = installPacketSlab();
