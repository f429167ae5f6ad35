/**
 * Waiting for the client's window on an SSH channel, and the channel writes
 * that do it: SFTP READ replies laid out in SSH packets (sftp/direct-data.ts)
 * go whole and at the client's pace (sftp/client-pacing.ts says why and how
 * much); every other chunk goes through ssh2's _write as before.
 *
 * Only those replies are paced. Measured on plain writes too (SFTP replies
 * from S3 through s3rver, 6 alternating rounds of 1 GiB with
 * test/bench/probe-s3-download.ts): paced 178-210 MiB/s with the client's ssh
 * at 2.0-2.5 CPU-s, unpaced 200-263 MiB/s at 1.2-1.8 CPU-s. There the server
 * is the slower side, four processes share two cores, and what ssh2 sends
 * ahead absorbs their scheduling; pacing helps when the server outruns the
 * client (local files: docs/benchmarks.md, "Downloads paced to the client").
 *
 * The channel's _write is wrapped once: a chunk with a sender of its own is
 * handed to it at its turn, any other goes to ssh2's _write. The wait for a
 * grant uses ssh2's own hook (its window-adjust handler calls _chunkcb when
 * _waitWindow is set and no _chunk is pending) and is bounded: a client that
 * grants window only once it reaches zero would never send that adjust, so
 * after WINDOW_WAIT_MS the channel stops being paced and its packets are
 * split to fit the window from then on.
 */
import type { Duplex } from 'node:stream';
import { ClientPacer } from './sftp/client-pacing';

export type WriteFn = (chunk: Buffer, encoding: BufferEncoding, cb: (err?: Error | null) => void) => void;
/** Sends a chunk in its own way at its turn in the channel: `plainWrite` is ssh2's _write. */
export type OwnSender = (plainWrite: WriteFn, encoding: BufferEncoding, done: (err?: Error | null) => void) => void;

export interface OutgoingState { id: number; window: number; packetSize: number; state: string }
/** What ssh2's CHANNEL_WINDOW_ADJUST handler looks at: with _waitWindow set and no _chunk, it calls _chunkcb. */
interface WindowWaitInternals { _waitWindow: boolean; _chunk?: Buffer; _chunkcb?: () => void }
interface WrappableChannel { _write: WriteFn }

/**
 * How long a send waits for the client's window adjust before the channel
 * gives up pacing. OpenSSH's adjusts came within 24-157 ms on a loaded
 * machine (a CI run beside it); with 100 ms one wait per download ran out.
 */
export const WINDOW_WAIT_MS = 1000;
/** The timers of those waits (tests put a clock of their own here). */
export const windowWaitTimers = {
  set(fn: () => void, ms: number): unknown { const t = setTimeout(fn, ms); t.unref(); return t; },
  clear(handle: unknown): void { clearTimeout(handle as ReturnType<typeof setTimeout>); },
};
/** The clock pacing is timed by, in ms (tests put their own here). */
export const pacingClock = { now: (): number => performance.now() };

/** Channels whose client let a wait run out: not paced, packets split to fit the window. */
const splitOnly = new WeakSet<Duplex>();
const pacers = new WeakMap<Duplex, ClientPacer>();
/** Chunks written to a channel that carry a sender of their own, until their turn. */
const ownSenders = new WeakMap<Buffer, OwnSender>();
const wrapped = new WeakSet<Duplex>();

/** The pacer of a channel (undefined once a wait ran out on it). */
export function pacerOf(channel: Duplex): ClientPacer | undefined {
  if (splitOnly.has(channel)) return undefined;
  let p = pacers.get(channel);
  if (!p) {
    p = new ClientPacer(() => pacingClock.now());
    pacers.set(channel, p);
  }
  return p;
}

/** The pacing state of a channel, for probes and tests. */
export function pacingOf(channel: Duplex): ReturnType<ClientPacer['snapshot']> | undefined {
  return pacers.get(channel)?.snapshot();
}

/** `chunk`, once written to a wrapped channel, is sent by `send` at its turn instead of ssh2's _write. */
export function sendOwnWay(chunk: Buffer, send: OwnSender): void {
  ownSenders.set(chunk, send);
}

/**
 * Has ssh2's window-adjust handler call `then(false)` at the client's next
 * grant, or `then(true)` after WINDOW_WAIT_MS, from when on the channel is not
 * paced. False when the wait cannot be set up (ssh2 itself waits for a window
 * for the channel's stderr): the caller sends without waiting.
 */
export function waitForGrant(channel: Duplex, then: (timedOut: boolean) => void): boolean {
  const ch = channel as Duplex & WindowWaitInternals;
  if (ch._waitWindow) return false;
  let settled = false;
  const resume = (): void => {
    if (settled) return;
    settled = true;
    windowWaitTimers.clear(timer);
    if (ch._chunkcb === resume) ch._chunkcb = undefined;
    then(false);
  };
  const timer = windowWaitTimers.set(() => {
    if (settled) return;
    settled = true;
    splitOnly.add(ch);
    if (ch._chunkcb === resume) {
      ch._chunkcb = undefined;
      ch._waitWindow = false;
    }
    then(true);
  }, WINDOW_WAIT_MS);
  // ssh2 never clears a _chunk it resumed: left there, the handler would send it again instead
  ch._chunk = undefined;
  ch._chunkcb = resume;
  ch._waitWindow = true;
  return true;
}

/** Wraps the channel's _write once: chunks with a sender of their own go to it, any other to ssh2. */
export function wrapChannelWrites(channel: Duplex): void {
  if (wrapped.has(channel)) return;
  const ch = channel as Duplex & WrappableChannel;
  if (typeof ch._write !== 'function') return;
  wrapped.add(channel);
  const plainWrite = ch._write;
  ch._write = function ownOrPlainWrite(this: Duplex, chunk, encoding, cb) {
    const own = ownSenders.get(chunk);
    if (!own) { plainWrite.call(this, chunk, encoding, cb); return; }
    ownSenders.delete(chunk);
    own(plainWrite, encoding, cb);
  };
}
