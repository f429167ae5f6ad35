/**
 * ClientPacer against simulated clients on a simulated clock: a fast link with
 * a slower client keeps little in flight; a long link gets the whole window
 * (pacing must never cost throughput there); a client that grants only after
 * consuming half its window still gets the data it waits for; a client
 * enlarging its window is not taken for one consuming data.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ClientPacer, MIN_CAP } from '../../../../src/sftpd/sftp/client-pacing';

const PACKET = 32 * 1024;
const WINDOW = 2 * 1024 * 1024;

interface ClientModel {
  /** one-way delay, ms */
  delayMs: number;
  /** bytes per ms the client consumes */
  rate: number;
  /** bytes it consumes before it grants them back */
  grantAfter: number;
  /** sim length, ms */
  durationMs: number;
}

/** Runs a paced sender against `c` in steps of 0.01 ms; returns what happened (in flight: once the first burst drained). */
function simulate(c: ClientModel): { delivered: number; maxInFlight: number; pacer: ClientPacer } {
  let now = 0;
  const pacer = new ClientPacer(() => now);
  let window = WINDOW;
  const arrivals: Array<{ at: number; n: number }> = [];
  const grants: Array<{ at: number; n: number }> = [];
  let buffered = 0;
  let consumedSinceGrant = 0;
  let delivered = 0;
  let maxInFlight = 0;
  let drained = false;
  const step = 0.01;
  // bounded: durationMs / step iterations
  for (let k = 0; now < c.durationMs; k++, now = k * step) {
    while (grants.length > 0 && grants[0]!.at <= now) window += grants.shift()!.n;
    pacer.observe(window);
    let sent = 0;
    while (window >= PACKET && pacer.allows(window, PACKET)) {
      window -= PACKET;
      sent += PACKET;
    }
    if (sent > 0) {
      pacer.sent(sent, window);
      arrivals.push({ at: now + c.delayMs, n: sent });
    }
    // once the first window's burst has drained below the limit: before the first grant the whole window may go
    if (Number.isFinite(pacer.cap) && WINDOW - window <= pacer.cap) drained = true;
    if (drained && Number.isFinite(pacer.cap)) maxInFlight = Math.max(maxInFlight, WINDOW - window);
    while (arrivals.length > 0 && arrivals[0]!.at <= now) buffered += arrivals.shift()!.n;
    const take = Math.min(buffered, c.rate * step);
    buffered -= take;
    delivered += take;
    consumedSinceGrant += take;
    if (consumedSinceGrant >= c.grantAfter) {
      grants.push({ at: now + c.delayMs, n: consumedSinceGrant });
      consumedSinceGrant = 0;
    }
  }
  return { delivered, maxInFlight, pacer };
}

describe('client pacing', () => {
  test('loopback, the client slower than us: about MIN_CAP in flight, the client kept busy', () => {
    // 300 MB/s client, 5 us each way, OpenSSH's grant every 96 KiB
    const r = simulate({ delayMs: 0.005, rate: 300_000, grantAfter: 96 * 1024, durationMs: 200 });
    assert.ok(r.maxInFlight <= MIN_CAP + PACKET, `in flight at most ${r.maxInFlight}`);
    assert.ok(r.pacer.snapshot().minGrant >= 96 * 1024);
    assert.ok(r.delivered >= 0.97 * 300_000 * 200, `the client never starved: ${r.delivered}`);
    assert.equal(r.pacer.cap, MIN_CAP);
  });

  test('a long link (100 ms each way): the limit grows past the window, throughput as without pacing', () => {
    const c = { delayMs: 100, rate: 1_000_000, grantAfter: 96 * 1024, durationMs: 3000 };
    const r = simulate(c);
    assert.ok(r.pacer.cap >= WINDOW, `cap ${r.pacer.cap}`);
    // window-limited: WINDOW per 200 ms round trip, less the first round trip
    const windowLimited = (WINDOW / 200) * (c.durationMs - 200);
    assert.ok(r.delivered >= 0.9 * windowLimited, `delivered ${r.delivered} of ~${windowLimited}`);
  });

  test('a client that grants only after consuming half its window still gets that far', () => {
    const r = simulate({ delayMs: 0.005, rate: 300_000, grantAfter: WINDOW / 2, durationMs: 200 });
    assert.ok(r.pacer.cap >= WINDOW / 2, `cap ${r.pacer.cap}`);
    assert.ok(r.delivered >= 0.9 * 300_000 * 200, `delivered ${r.delivered}`);
  });

  test('a client that enlarges its window is not paced (a grant could be room or consumption)', () => {
    let now = 0;
    const p = new ClientPacer(() => now);
    p.observe(WINDOW);
    p.sent(WINDOW / 2, WINDOW / 2);
    now = 0.001;
    p.observe(WINDOW / 2 + 100 * 1024);
    assert.equal(p.cap, MIN_CAP, 'a plain grant: paced');
    // the client doubles its window
    p.observe(WINDOW / 2 + 100 * 1024 + WINDOW);
    assert.equal(p.cap, Number.POSITIVE_INFINITY);
    assert.ok(p.allows(0, WINDOW * 2));
    // bytes ssh2 sent before the first look come back as a grant a little past the window seen: still paced
    const q = new ClientPacer(() => now);
    q.observe(WINDOW - 300);
    q.sent(WINDOW / 2, WINDOW / 2 - 300);
    q.observe(WINDOW);
    assert.equal(q.cap, WINDOW / 2 + 300 + 64 * 1024, 'the smallest grant and its headroom');
    q.sent(WINDOW / 4, WINDOW * 3 / 4);
    q.observe(WINDOW);
    assert.equal(q.cap, WINDOW / 4 + 64 * 1024, 'a smaller grant lowers it');
  });

  test('no limit before the client\'s first grant', () => {
    const p = new ClientPacer(() => 0);
    p.observe(WINDOW);
    assert.equal(p.cap, Number.POSITIVE_INFINITY);
    assert.ok(p.allows(PACKET, PACKET));
  });
});
