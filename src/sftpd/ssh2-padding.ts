/**
 * ssh2 pads every SSH packet it sends with 4-255 random bytes, drawn with one
 * crypto.randomFillSync call per packet. A 1 GiB download is 32768 packets
 * (OpenSSH's client takes 32 KiB at most), and a CPU profile of our server
 * put those calls at ~9% of its download time. RFC 4253 §6 asks for random
 * padding, not for a system call per packet: this gives ssh2's packet module
 * a randomFillSync that serves small requests from a 64 KiB buffer refilled
 * from the same CSPRNG, each byte handed out once (Node does the same for
 * randomUUID). A/B of two servers in one run, 6 rounds of 512 MiB
 * aes128-gcm@openssh.com downloads: server CPU 56 -> 51 ticks median,
 * 774 -> 831 MB/s.
 *
 * ssh2's lib/protocol/crypto.js destructures randomFillSync from 'crypto'
 * when it loads, so the function is swapped in for exactly that load and put
 * back at once: no other module sees it. That only works if this runs before
 * anything loads ssh2, so the daemon's entry point imports it first; a
 * process that loaded ssh2 earlier keeps ssh2's own calls (state
 * 'already-loaded').
 */
import type { randomFillSync as RandomFillSync } from 'node:crypto';

type Fill = typeof RandomFillSync;

/** Requests up to this size come from the pool; larger ones go to the CSPRNG directly. */
export const POOLED_MAX_BYTES = 256;
const POOL_BYTES = 64 * 1024;

export interface PooledFill {
  fill: Fill;
  /** refills of the pool so far (one CSPRNG call each) */
  refills(): number;
  /** requests served from the pool so far */
  served(): number;
}

/** A randomFillSync that serves (buffer, offset, size) requests of up to POOLED_MAX_BYTES from a pool. */
export function pooledRandomFill(source: Fill, poolBytes = POOL_BYTES): PooledFill {
  const pool = Buffer.allocUnsafeSlow(poolBytes);
  let used = poolBytes;
  let refills = 0;
  let served = 0;
  const fill = ((buf: NodeJS.ArrayBufferView | ArrayBuffer, offset?: number, size?: number): unknown => {
    // only the shape ssh2 uses (a Buffer, an offset and a small size) is pooled
    if (!Buffer.isBuffer(buf) || typeof offset !== 'number' || typeof size !== 'number' || size > POOLED_MAX_BYTES
      || size < 0 || offset < 0 || offset + size > buf.length) {
      return (source as (...a: unknown[]) => unknown)(buf, offset, size);
    }
    if (used + size > poolBytes) {
      source(pool);
      used = 0;
      refills++;
    }
    pool.copy(buf, offset, used, used + size);
    used += size;
    served++;
    return buf;
  }) as Fill;
  return { fill, refills: () => refills, served: () => served };
}

export type PaddingPoolState = 'applied' | 'already-loaded' | 'failed';

const SSH2_CRYPTO = 'ssh2/lib/protocol/crypto.js';

function install(): { state: PaddingPoolState; pooled?: PooledFill } {
  // the module object itself (an `import *` would be a copy)
  const nodeCrypto = require('node:crypto') as { randomFillSync: Fill };
  let resolved: string;
  try {
    resolved = require.resolve(SSH2_CRYPTO);
  } catch {
    return { state: 'failed' };
  }
  if (require.cache[resolved]) return { state: 'already-loaded' };
  const original = nodeCrypto.randomFillSync;
  const pooled = pooledRandomFill(original);
  nodeCrypto.randomFillSync = pooled.fill;
  try {
    require(SSH2_CRYPTO);
  } catch {
    return { state: 'failed' };
  } finally {
    nodeCrypto.randomFillSync = original;
  }
  return { state: 'applied', pooled };
}

const installed = install();

/** Whether ssh2's packets draw their padding from the pool in this process. */
export const paddingPoolState: PaddingPoolState = installed.state;

/** Counters of the pool ssh2 uses (undefined unless applied): for tests. */
export const ssh2PaddingPool: PooledFill | undefined = installed.pooled;
