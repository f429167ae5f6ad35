/**
 * SSH packets that span two socket reads, assembled in one reused buffer per
 * connection instead of a fresh one per packet.
 *
 * ssh2's binding deciphers (AES-GCM, ChaCha20-Poly1305, the generic CTR/CBC +
 * ETM MAC one) decrypt a packet in place where the read holds all of it, and
 * otherwise copy its parts into `Buffer.allocUnsafe(packetLength)`. On an
 * upload about 7 % of the packets span reads: counted on a 1 GiB SFTP upload
 * into S3 (test/bench/alloc-sites.ts), 2,367 fresh buffers and 73.5 MiB per
 * GiB, which the daemon promoted and kept until a mark-compact: most of the
 * 4 GiB upload's RSS growth (issue 11, docs/benchmarks.md).
 *
 * The deciphers ask for that buffer only when their `_packet` is empty
 * (`if (!this._packet) this._packet = Buffer.allocUnsafe(this._len)`), so
 * `_packet` becomes an accessor that, read while empty with the packet's
 * length known, answers with a view of this connection's buffer of exactly
 * that length. The buffer is registered as lent memory: like a lent read,
 * a payload decrypted in it is valid only during ssh2's handler, and the
 * consumers that keep bytes copy them (ssh2-lent-reads.ts). A packet whose
 * body ends a read while its MAC or tag is in the next one is kept by ssh2 as
 * a view into the read buffer: settle() moves it into the same buffer.
 *
 * Relies on ssh2 1.x's crypto.js (the deciphers' `_packet` and `_len`, read
 * nowhere else in ssh2); test/unit/sftpd/ssh2-packet-assembly.test.ts drives
 * each binding decipher with packets split at every offset and fails if a
 * decipher still allocates or a payload differs.
 */
import { isLentMemory, registerLentMemory } from '../util/user-buffer-socket';

/** ssh2's MAX_PACKET_SIZE: its deciphers refuse a longer packet */
export const MAX_ASSEMBLED_PACKET_BYTES = 35000;

interface DecipherFields { _packet?: Uint8Array | null; _len?: unknown }

/** What assembly did (tests and diagnostics). */
export const packetAssemblyCounters = {
  /** packets whose parts were put together in a connection's reused buffer */
  assembled: 0,
  /** packets kept by ssh2 as a view into the read buffer, moved into the reused buffer after the parse */
  settled: 0,
  /** such views copied into fresh memory (the decipher could not be adopted) */
  copied: 0,
};

export interface PacketAssembly {
  /** Makes `decipher` (one of ssh2's binding deciphers) assemble split packets in this connection's buffer. */
  adopt(decipher: object): boolean;
  /**
   * After a parse of a read lent from `readMemory`: a packet the decipher
   * keeps as a view into it is moved out (the next read overwrites it).
   */
  settle(decipher: object, readMemory: ArrayBufferLike): void;
}

/** One connection's assembly buffer (allocated at its first split packet) for the deciphers it adopts. */
export function packetAssembly(): PacketAssembly {
  let memory: Buffer | undefined;
  const held = new WeakMap<object, { packet: Uint8Array | null }>();
  const assemblyView = (len: number): Buffer => {
    if (!memory) {
      // memory of its own, never a slice of Node's shared pool, so that it can be lent
      memory = Buffer.allocUnsafeSlow(MAX_ASSEMBLED_PACKET_BYTES);
      registerLentMemory(memory);
    }
    return memory.subarray(0, len);
  };
  return {
    adopt(decipher) {
      if (held.has(decipher)) return true;
      const desc = Object.getOwnPropertyDescriptor(decipher, '_packet');
      if (!desc || !('value' in desc) || !desc.configurable) return false;
      const value: unknown = desc.value;
      if (value !== null && value !== undefined && !(value instanceof Uint8Array)) return false;
      const state = { packet: (value ?? null) as Uint8Array | null };
      held.set(decipher, state);
      Object.defineProperty(decipher, '_packet', {
        configurable: true,
        enumerable: desc.enumerable ?? true,
        get(): Uint8Array | null {
          if (state.packet === null) {
            // read while empty only where the decipher is about to allocate: the length is known there
            const len = (decipher as DecipherFields)._len;
            if (typeof len === 'number' && len > 0 && len <= MAX_ASSEMBLED_PACKET_BYTES) {
              packetAssemblyCounters.assembled++;
              state.packet = assemblyView(len);
            }
          }
          return state.packet;
        },
        set(v: Uint8Array | null | undefined) {
          state.packet = v ?? null;
        },
      });
      return true;
    },
    settle(decipher, readMemory) {
      const state = held.get(decipher);
      if (!state) {
        // not adopted: a plain property, copied when it points into lent memory
        const d = decipher as DecipherFields;
        if (d._packet && isLentMemory(d._packet)) {
          packetAssemblyCounters.copied++;
          d._packet = Buffer.from(d._packet);
        }
        return;
      }
      const kept = state.packet;
      if (!kept || kept.buffer !== readMemory) return;
      packetAssemblyCounters.settled++;
      if (kept.length > MAX_ASSEMBLED_PACKET_BYTES) {
        state.packet = Buffer.from(kept);
        return;
      }
      const view = assemblyView(kept.length);
      view.set(kept);
      state.packet = view;
    },
  };
}
