/**
 * Data sent on an SSH channel at the client's pace (sftp/client-pacing.ts says
 * why and how much), and the waits for the client's window that it takes.
 *
 * The channel's _write is wrapped once. A chunk with a sender of its own (an
 * SFTP READ reply laid out in packets, sftp/direct-data.ts, paced there) is
 * handed to it at its turn. Any other chunk goes through ssh2's _write: on a
 * channel whose plain writes are paced (SCP and command output from the start;
 * an SFTP channel from its first data reply that is not laid out in packets:
 * a non-AEAD cipher) once the pacer lets it go, waiting for the client's next
 * WINDOW_ADJUST otherwise. Measured on local files (256 MiB, alternating
 * rounds): SCP 164-215 -> 275-356 MB/s, SFTP with aes128-ctr 132-168 -> 217-272,
 * the client's CPU halved.
 *
 * SFTP channels are not set up for it at the start: with the wrapper installed
 * when the channel opened, S3 downloads (every reply laid out in packets, 8
 * plain writes of 578 bytes in all, none waiting) went 183-252 MiB/s against
 * 242-274 with it installed at the first reply, 6 alternating rounds, the
 * client's ssh at 1.5-2.3 CPU-s against 1.2-1.5. Why is not understood; what
 * was measured decides.
 *
 * The wait uses ssh2's own hook (its window-adjust handler calls _chunkcb
 * when _waitWindow is set and no _chunk is pending) and is bounded: a client
 * that grants window only once it reaches zero would never send that adjust,
 * so after WINDOW_WAIT_MS the channel stops being paced and its packets are
 * split to fit the window from then on.
 */
import type { Duplex } from 'node:stream';
import { ClientPacer, MIN_CAP } from './sftp/client-pacing';

export type WriteFn = (chunk: Buffer, encoding: BufferEncoding, cb: (err?: Error | null) => void) => void;
/** Sends a chunk in its own way at its turn in the channel: `plainWrite` is ssh2's _write. */
export type OwnSender = (plainWrite: WriteFn, encoding: BufferEncoding, done: (err?: Error | null) => void) => void;

export interface OutgoingState { id: number; window: number; packetSize: number; state: string }
/** What ssh2's CHANNEL_WINDOW_ADJUST handler looks at: with _waitWindow set and no _chunk, it calls _chunkcb. */
interface WindowWaitInternals { _waitWindow: boolean; _chunk?: Buffer; _chunkcb?: () => void }
interface WrappableChannel { outgoing?: OutgoingState; _write: WriteFn; destroyed: boolean }

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
/** Channels whose plain writes became paced, plain writes that waited for a grant, waits of any kind that ran out. */
export const pacingCounters = { plainPacedChannels: 0, plainWaits: 0, waitTimeouts: 0 };

/** Channels whose client let a wait run out: not paced, packets split to fit the window. */
const splitOnly = new WeakSet<Duplex>();
const pacers = new WeakMap<Duplex, ClientPacer>();
/** Chunks written to a channel that carry a sender of their own, until their turn. */
const ownSenders = new WeakMap<Buffer, OwnSender>();
const wrapped = new WeakSet<Duplex>();
/** Channels whose plain writes wait for the pacer too. */
const plainPaced = new WeakSet<Duplex>();

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
    pacingCounters.waitTimeouts++;
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

/** Wraps the channel's _write once: chunks with a sender of their own go to it, any other to ssh2 (paced or not). */
export function wrapChannelWrites(channel: Duplex): void {
  if (wrapped.has(channel)) return;
  const ch = channel as Duplex & WrappableChannel;
  if (typeof ch._write !== 'function') return;
  wrapped.add(channel);
  const plainWrite = ch._write;
  ch._write = function ownOrPlainWrite(this: Duplex & WrappableChannel, chunk, encoding, cb) {
    const own = ownSenders.get(chunk);
    if (own) {
      ownSenders.delete(chunk);
      own(plainWrite, encoding, cb);
    } else if (plainPaced.has(this)) {
      writePaced(this, plainWrite, chunk, encoding, cb);
    } else {
      plainWrite.call(this, chunk, encoding, cb);
    }
  };
}

/** From now on the channel's plain writes go at the client's pace too. */
export function pacePlainWrites(channel: Duplex): void {
  if (plainPaced.has(channel)) return;
  wrapChannelWrites(channel);
  plainPaced.add(channel);
  pacingCounters.plainPacedChannels++;
}

function writePaced(ch: Duplex & WrappableChannel, plainWrite: WriteFn, chunk: Buffer, encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
  const outgoing = ch.outgoing;
  const pacer = pacerOf(ch);
  if (!pacer || !outgoing || outgoing.state !== 'open' || ch.destroyed) {
    plainWrite.call(ch, chunk, encoding, cb);
    return;
  }
  pacer.observe(outgoing.window);
  // a chunk larger than any limit goes once nothing is in flight
  if (!pacer.allows(outgoing.window, Math.min(chunk.length, MIN_CAP))
    && waitForGrant(ch, () => writePaced(ch, plainWrite, chunk, encoding, cb))) {
    pacingCounters.plainWaits++;
    return;
  }
  // ssh2 sends what the window takes synchronously: count it before the callback can start the next write
  const before = outgoing.window;
  let counted = false;
  const count = (): void => {
    if (counted) return;
    counted = true;
    if (outgoing.window < before) pacer.sent(before - outgoing.window, outgoing.window);
  };
  plainWrite.call(ch, chunk, encoding, (err) => { count(); cb(err); });
  count();
}
