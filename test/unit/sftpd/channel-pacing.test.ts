/**
 * channel-pacing.ts on plain writes (SFTP replies from object stores or
 * through non-AEAD ciphers, SCP, command output): ssh2's own Channel._write on
 * a protocol recording each CHANNEL_DATA, a simulated client granting window
 * back on an injected clock. Before the client's first grant the window fills
 * as ssh2 fills it; after it, what is in flight stays within the pacer's
 * limit and every byte goes, in order; a client that grants only at zero
 * makes the wait run out and the channel unpaced; a stderr write waiting for
 * window is never overtaken.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Duplex } from 'node:stream';
import { pacePlainWrites, pacingClock, pacingCounters, pacingOf, WINDOW_WAIT_MS } from '../../../src/sftpd/channel-pacing';
import { withManualWindowTimers } from '../../support/window-timers';

type WriteFn = (this: Duplex, chunk: Buffer, enc: BufferEncoding, cb: (e?: Error | null) => void) => void;
const ssh2Channel = require('ssh2/lib/Channel.js') as { Channel: { prototype: { _write: WriteFn } } };

interface Outgoing { id: number; window: number; packetSize: number; state: string }
interface ChannelState { outgoing: Outgoing; _waitWindow: boolean; _chunk?: Buffer; _chunkcb?: () => void; _write: WriteFn }

const WINDOW = 2 * 1024 * 1024;
const CHUNK = 256 * 1024;

/** A Duplex with ssh2's Channel._write whose protocol records every CHANNEL_DATA payload. */
function fakeChannel(window: number) {
  const sent: Buffer[] = [];
  const ch = new Duplex({ read() { /* nothing to read */ } });
  Object.assign(ch, {
    _write: ssh2Channel.Channel.prototype._write,
    _client: { _protocol: { channelData: (_id: number, data: Buffer) => { sent.push(Buffer.from(data)); } } },
    outgoing: { id: 1, window, packetSize: 32768, state: 'open' }, _waitWindow: false,
  });
  const state = ch as unknown as ChannelState;
  /** what ssh2's server does on CHANNEL_WINDOW_ADJUST (lib/server.js) */
  const adjust = (n: number): void => {
    state.outgoing.window += n;
    if (!state._waitWindow) return;
    state._waitWindow = false;
    if (state._chunk) state._write.call(ch, state._chunk, 'binary', state._chunkcb!);
    else if (state._chunkcb) state._chunkcb();
  };
  pacePlainWrites(ch);
  return { ch, state, sent, adjust, inFlight: () => window - state.outgoing.window };
}

function withClock<T>(fn: (advance: (ms: number) => void) => T): T {
  const own = pacingClock.now;
  let now = 1000;
  pacingClock.now = () => now;
  try {
    return fn((ms) => { now += ms; });
  } finally {
    pacingClock.now = own;
  }
}

describe('channel pacing of plain writes', () => {
  test('the window fills until the first grant; then what is in flight stays within the limit, every byte in order', () => {
    withClock((advance) => {
      const f = fakeChannel(WINDOW);
      const chunks = Array.from({ length: 40 }, () => randomBytes(CHUNK));
      const waitsBefore = pacingCounters.plainWaits;
      for (const c of chunks) f.ch.write(c);
      assert.equal(f.state.outgoing.window, 0, 'before any grant: the whole window, as ssh2 sends');
      let largestAfterGrant = 0;
      // the client consumes one chunk per ms and grants it back; bounded by the chunks' count
      for (let i = 0; i < 200 && f.ch.writableLength > 0; i++) {
        advance(1);
        f.adjust(CHUNK);
        const cap = pacingOf(f.ch)!.cap;
        assert.ok(f.inFlight() <= Math.max(cap, WINDOW - (i + 1) * CHUNK), `in flight ${f.inFlight()} over the limit ${cap}`);
        if (i >= 8) largestAfterGrant = Math.max(largestAfterGrant, f.inFlight());
      }
      assert.equal(f.ch.writableLength, 0, 'everything went');
      assert.ok(Buffer.concat(f.sent).equals(Buffer.concat(chunks)), 'every byte, in order');
      assert.ok(pacingCounters.plainWaits > waitsBefore, 'writes waited for grants');
      assert.ok(largestAfterGrant <= pacingOf(f.ch)!.cap, `paced: ${largestAfterGrant} in flight at most`);
      assert.ok(largestAfterGrant < WINDOW / 2, 'far from the window');
    });
  });

  test('a client that grants only at zero: the wait runs out, the window is used to the byte, no pacing after', () => {
    withManualWindowTimers((timers) => {
      withClock((advance) => {
        const f = fakeChannel(WINDOW);
        const chunks = Array.from({ length: 24 }, () => randomBytes(CHUNK));
        for (const c of chunks) f.ch.write(c);
        // a grant at zero, then the client waits for zero again
        advance(1);
        f.adjust(WINDOW);
        assert.equal(timers.length, 1, 'a write waits for a grant');
        assert.equal(timers[0]!.ms, WINDOW_WAIT_MS);
        const timeouts = pacingCounters.waitTimeouts;
        timers[0]!.fn();
        assert.equal(pacingCounters.waitTimeouts, timeouts + 1);
        assert.equal(f.state.outgoing.window, 0, 'the window used to the byte');
        for (let i = 0; i < 100 && f.ch.writableLength > 0; i++) if (f.state.outgoing.window === 0) f.adjust(WINDOW);
        assert.equal(f.ch.writableLength, 0);
        assert.equal(timers.length, 1, 'no wait on that channel any more');
        assert.ok(Buffer.concat(f.sent).equals(Buffer.concat(chunks)), 'every byte, in order');
      });
    });
  });

  test('ssh2 waiting for window for stderr: a paced write does not take its turn at the adjust', () => {
    withClock((advance) => {
      const f = fakeChannel(WINDOW);
      for (let i = 0; i < 8; i++) f.ch.write(randomBytes(CHUNK));
      advance(1);
      f.adjust(CHUNK);
      // as ssh2's stderr _write leaves it when the window is empty
      f.state._waitWindow = true;
      const sentBefore = f.sent.length;
      const waits = pacingCounters.plainWaits;
      f.ch.write(randomBytes(CHUNK));
      assert.equal(pacingCounters.plainWaits, waits, 'no wait of its own');
      assert.ok(f.sent.length > sentBefore, 'sent what the window took, unpaced');
      assert.equal(f.state._chunkcb, undefined, 'ssh2\'s stderr wait left in place');
    });
  });

  test('a chunk larger than any limit goes once nothing is in flight', () => {
    withClock((advance) => {
      const f = fakeChannel(4 * 1024 * 1024);
      const first = randomBytes(CHUNK);
      f.ch.write(first);
      advance(1);
      f.adjust(CHUNK);
      const big = randomBytes(3 * 1024 * 1024);
      f.ch.write(big);
      assert.ok(Buffer.concat(f.sent).equals(Buffer.concat([first, big])), 'sent whole: nothing was in flight');
    });
  });
});
