/**
 * sftpd/ssh2-packet-assembly.ts: ssh2's binding deciphers put packets that
 * span two reads together in one reused buffer per connection. Each decipher
 * is driven directly with packets from its matching cipher, the wire split
 * in two at every offset and in many reads of pseudo-random sizes; every
 * read goes through one reused read buffer that is overwritten after the
 * parse, as a lent socket read is. The payloads must come out byte-exact
 * and the decipher must not allocate (Buffer.allocUnsafe) for any of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
// ssh2's crypto.js loads after the padding pool (as in the daemon)
import '../../../src/sftpd/ssh2-lent-reads';
import { MAX_ASSEMBLED_PACKET_BYTES, packetAssembly, packetAssemblyCounters } from '../../../src/sftpd/ssh2-packet-assembly';
import { isLentMemory, registerLentMemory } from '../../../src/util/user-buffer-socket';

interface Info { keyLen: number; ivLen: number; sslName?: string }
interface CipherLike { allocPacket(n: number): Buffer; encrypt(pkt: Buffer): void; free(): void }
interface DecipherLike { decrypt(data: Buffer, p: number, len: number): unknown; free(): void }
interface CryptoModule {
  bindingAvailable: boolean;
  CIPHER_INFO: Record<string, Info>;
  MAC_INFO: Record<string, { len: number }>;
  createCipher(c: { outbound: Record<string, unknown> }): CipherLike;
  createDecipher(c: { inbound: Record<string, unknown> }): DecipherLike;
}
const crypto = require('ssh2/lib/protocol/crypto.js') as CryptoModule;

const FAMILIES: Array<[string, string | undefined]> = [
  ['chacha20-poly1305@openssh.com', undefined],
  ['aes128-gcm@openssh.com', undefined],
  ['aes256-gcm@openssh.com', undefined],
  ['aes128-ctr', 'hmac-sha2-256-etm@openssh.com'],
];

interface Pair { wire: Buffer; decipher: (onPayload: (p: Buffer) => void) => DecipherLike }

/** Encrypts `payloads` with `cipher` (and `mac`); returns the wire bytes and a factory of matching deciphers. */
function pairFor(cipher: string, mac: string | undefined, payloads: Buffer[]): Pair {
  const info = crypto.CIPHER_INFO[cipher]!;
  const macInfo = mac ? crypto.MAC_INFO[mac] : undefined;
  const key = randomBytes(info.keyLen);
  const iv = randomBytes(info.ivLen);
  const macKey = macInfo ? randomBytes(macInfo.len) : undefined;
  const parts: Buffer[] = [];
  const c = crypto.createCipher({ outbound: {
    onWrite: (b: Buffer) => parts.push(Buffer.from(b)), cipherInfo: info, cipherKey: key, cipherIV: iv, seqno: 0,
    ...(macInfo ? { macInfo, macKey } : {}),
  } });
  for (const payload of payloads) {
    const pkt = c.allocPacket(payload.length);
    payload.copy(pkt, 5);
    c.encrypt(pkt);
  }
  c.free();
  return {
    wire: Buffer.concat(parts),
    decipher: (onPayload) => crypto.createDecipher({ inbound: {
      onPayload, decipherInfo: info, decipherKey: key, decipherIV: iv, seqno: 0,
      ...(macInfo ? { macInfo, macKey } : {}),
    } }),
  };
}

/** Counts Buffer.allocUnsafe calls while `fn` runs. */
function countingAllocations<T>(fn: () => T): { result: T; allocations: number } {
  const original = Buffer.allocUnsafe;
  let allocations = 0;
  Buffer.allocUnsafe = ((size: number) => { allocations++; return original(size); }) as typeof Buffer.allocUnsafe;
  try {
    return { result: fn(), allocations };
  } finally {
    Buffer.allocUnsafe = original;
  }
}

/**
 * Feeds `wire` to a fresh decipher in reads of the given sizes through one
 * reused read buffer, overwritten after each parse; returns the payloads
 * (copied in the handler, as the daemon's consumers do with lent memory),
 * which of them were lent memory, and the allocations during the reads.
 */
function feed(pair: Pair, readSizes: number[], adopt: boolean): { payloads: Buffer[]; lent: boolean[]; allocations: number } {
  const readBuffer = Buffer.allocUnsafeSlow(256 * 1024);
  registerLentMemory(readBuffer);
  const payloads: Buffer[] = [];
  const lent: boolean[] = [];
  const d = pair.decipher((p) => { lent.push(isLentMemory(p)); payloads.push(Buffer.from(p)); });
  const assembly = packetAssembly();
  if (adopt) assert.ok(assembly.adopt(d));
  let allocations = 0;
  let at = 0;
  for (const size of readSizes) {
    const n = Math.min(size, pair.wire.length - at);
    if (n <= 0) break;
    pair.wire.copy(readBuffer, 0, at, at + n);
    at += n;
    allocations += countingAllocations(() => {
      d.decrypt(readBuffer.subarray(0, n), 0, n);
      assembly.settle(d, readBuffer.buffer);
    }).allocations;
    readBuffer.fill(0xa5, 0, n);
  }
  assert.equal(at, pair.wire.length, 'the whole wire was fed');
  d.free();
  return { payloads, lent, allocations };
}

test('ssh2 has its binding deciphers here (otherwise nothing is adopted and the daemon copies reads)', () => {
  assert.equal(crypto.bindingAvailable, true);
});

for (const [cipher, mac] of FAMILIES) {
  test(`${cipher}${mac ? ` + ${mac}` : ''}: split at every offset, byte-exact, no allocation`, () => {
    // two packets above Node's pool size (so that ssh2 would allocate their own memory) around a small one
    const payloads = [randomBytes(4200), randomBytes(17), randomBytes(5000)];
    const pair = pairFor(cipher, mac, payloads);
    const before = { ...packetAssemblyCounters };
    let splitPacketsLent = 0;
    // bounded: one round per offset of a ~9 KiB wire
    for (let cut = 1; cut < pair.wire.length; cut++) {
      const out = feed(pair, [cut, pair.wire.length], true);
      assert.equal(out.payloads.length, 3, `cut at ${cut}`);
      for (let i = 0; i < 3; i++) assert.ok(out.payloads[i]!.equals(payloads[i]!), `payload ${i}, cut at ${cut}`);
      assert.equal(out.allocations, 0, `no Buffer.allocUnsafe, cut at ${cut}`);
      splitPacketsLent += out.lent.filter(Boolean).length;
    }
    assert.ok(splitPacketsLent > 0, 'payloads assembled in the reused buffer are lent memory');
    assert.ok(packetAssemblyCounters.assembled > before.assembled, 'packets were assembled');
    assert.ok(packetAssemblyCounters.settled > before.settled, 'bodies whose MAC came in the next read were moved out of the read buffer');
  });

  test(`${cipher}${mac ? ` + ${mac}` : ''}: 300 channel-data-sized packets in reads of varied sizes`, () => {
    const payloads = Array.from({ length: 300 }, (_, i) => randomBytes(i % 7 === 0 ? 9 + i : 32768 + (i % 40)));
    const pair = pairFor(cipher, mac, payloads);
    let seed = 12345;
    // a deterministic spread of read sizes, from one byte to 64 KiB
    const sizes = Array.from({ length: 20000 }, () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % 5 === 0 ? 1 + (seed % 31) : 1 + (seed % (64 * 1024));
    });
    const out = feed(pair, sizes, true);
    assert.equal(out.payloads.length, payloads.length);
    out.payloads.forEach((p, i) => assert.ok(p.equals(payloads[i]!), `payload ${i}`));
    assert.equal(out.allocations, 0);
  });
}

test('control: a decipher that is not adopted allocates for split packets (the spy sees ssh2\'s allocations)', () => {
  const payloads = [randomBytes(4200), randomBytes(5000)];
  const pair = pairFor('chacha20-poly1305@openssh.com', undefined, payloads);
  const out = feed(pair, [100, 5000, pair.wire.length], false);
  out.payloads.forEach((p, i) => assert.ok(p.equals(payloads[i]!)));
  assert.ok(out.allocations > 0);
});

test('the reused buffer holds any packet ssh2 accepts', () => {
  const payload = randomBytes(MAX_ASSEMBLED_PACKET_BYTES - 64);
  const pair = pairFor('aes128-gcm@openssh.com', undefined, [payload]);
  const out = feed(pair, [1000, pair.wire.length], true);
  assert.ok(out.payloads[0]!.equals(payload));
  assert.equal(out.allocations, 0);
});
