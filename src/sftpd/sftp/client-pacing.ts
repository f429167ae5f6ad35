/**
 * How much of a download's data may be in flight towards the client at once.
 *
 * The SSH window lets us send the client's whole window (OpenSSH: 2 MiB) ahead
 * of what it has consumed. When the client is the slower side (it decrypts and
 * hands the data to its sftp process while we only encrypt), everything we send
 * ahead piles up in its buffers, and OpenSSH's buffers grow by reallocating and
 * copying into fresh memory: with our server filling the window, the client's
 * ssh took 43-51 k page faults and 0.8-0.95 s of CPU per 256 MiB download
 * (OpenSSH's own server, slower than the client, left it at 5-14 k and
 * 0.4-0.5 s). Holding what is in flight to 512 KiB on loopback: 1.6-2.7 k
 * faults, 0.2 s of client CPU, the download twice as fast.
 *
 * A fixed limit would cut throughput on a long link, where the window is what
 * covers the round trip. So the limit follows what the client shows
 * (BBR's rule): twice the fastest rate it consumed at times the shortest delay
 * between sending a byte and seeing it granted back, never below MIN_CAP, never
 * below the smallest grant seen and a little more (a client that grants only
 * after consuming half its window, as ssh2's does, must get to that point; a
 * larger grant is several consumptions at once), and no limit at all before the
 * client's first grant. Measuring the rate through the limit cannot
 * shrink it: a limited rate times the delay is below the limit, doubled above.
 *
 * The client's grants are seen as the window growing between two looks at it
 * (direct-data.ts looks at every send and at every grant while waiting for one).
 * A client that enlarges its window (HPN-SSH does, for long links) makes a
 * grant ambiguous (consumed, or more room?): its channel is not paced at all.
 */

/** Below this the limit never goes (16 packets of 32 KiB). */
export const MIN_CAP = 512 * 1024;
/** Sends remembered to time grants against; older ones give no delay sample. */
const SEND_RECORDS = 256;
/** Grants closer together than this are summed into one rate sample. */
const RATE_INTERVAL_MS = 1;
/** A window growing more than this past its largest is the client enlarging it (smaller: bytes ssh2 sent before we looked). */
const ENLARGE_SLACK = 64 * 1024;
/** Room beyond the smallest grant seen, so the client can consume that much and grant again. */
const GRANT_HEADROOM = 64 * 1024;

/** The largest limit and the most in flight any channel of this process reached (tests, probes). */
export const pacingRecord = { largestCap: 0, largestInFlight: 0 };

export class ClientPacer {
  /** the largest window seen: what the client lets be in flight */
  private maxWindow = 0;
  /** bytes sent so far, and bytes granted so far beyond the first window */
  private sentTotal = 0;
  private grantedTotal = 0;
  private lastWindow = -1;
  private sawGrant = false;
  private minGrant = Number.POSITIVE_INFINITY;
  private minDelayMs = Number.POSITIVE_INFINITY;
  private maxRate = 0;
  /** where the current rate sample started (time NaN: no grant yet) */
  private rateFromAt = Number.NaN;
  private rateFromConsumed = 0;
  /** ring of (bytes sent after a send, when), to time grants against */
  private readonly sendEnd = new Float64Array(SEND_RECORDS);
  private readonly sendAt = new Float64Array(SEND_RECORDS);
  private sends = 0;
  /** the client enlarged its window: no limit */
  private unpaced = false;

  constructor(private readonly now: () => number) {}

  /** What the limit is now (Infinity: none yet). */
  get cap(): number {
    if (!this.sawGrant || this.unpaced) return Number.POSITIVE_INFINITY;
    const bdp = Number.isFinite(this.minDelayMs) ? 2 * this.maxRate * this.minDelayMs : 0;
    return Math.max(MIN_CAP, this.minGrant + GRANT_HEADROOM, bdp);
  }

  /**
   * Notes the window as it is now: growth since the last look is what the
   * client granted, a fall what ssh2 sent itself (small replies, split packets).
   */
  observe(window: number): void {
    if (this.lastWindow >= 0 && window > this.maxWindow + ENLARGE_SLACK) this.unpaced = true;
    if (this.lastWindow >= 0 && window > this.lastWindow) this.granted(window - this.lastWindow);
    else if (this.lastWindow >= 0 && window < this.lastWindow) this.record(this.lastWindow - window);
    this.lastWindow = window;
    if (window > this.maxWindow) this.maxWindow = window;
  }

  /** Whether `len` more bytes may go now, the window being `window` (observed first). */
  allows(window: number, len: number): boolean {
    return this.maxWindow - window + len <= this.cap;
  }

  /** Notes `len` bytes sent, leaving the window at `window`. */
  sent(len: number, window: number): void {
    this.record(len);
    this.lastWindow = window;
    const inFlight = this.maxWindow - window;
    if (inFlight > pacingRecord.largestInFlight) pacingRecord.largestInFlight = inFlight;
    const cap = this.cap;
    if (Number.isFinite(cap) && cap > pacingRecord.largestCap) pacingRecord.largestCap = cap;
  }

  /** Stats for probes and tests. */
  snapshot(): { cap: number; minGrant: number; minDelayMs: number; maxRate: number; maxWindow: number } {
    return { cap: this.cap, minGrant: this.minGrant, minDelayMs: this.minDelayMs, maxRate: this.maxRate, maxWindow: this.maxWindow };
  }

  private record(len: number): void {
    this.sentTotal += len;
    const slot = this.sends++ % SEND_RECORDS;
    this.sendEnd[slot] = this.sentTotal;
    this.sendAt[slot] = this.now();
  }

  private granted(n: number): void {
    const now = this.now();
    this.sawGrant = true;
    if (n < this.minGrant) this.minGrant = n;
    this.grantedTotal += n;
    // the client grants what it consumed: it has now consumed this many bytes of what we sent
    const consumed = this.grantedTotal;
    const sentAt = this.whenSent(consumed);
    if (sentAt !== undefined && now - sentAt < this.minDelayMs) this.minDelayMs = Math.max(now - sentAt, 0.001);
    // the first grant only starts a sample: with no start time the rate is NaN, which never raises maxRate
    if (!(now - this.rateFromAt < RATE_INTERVAL_MS)) {
      const rate = (consumed - this.rateFromConsumed) / (now - this.rateFromAt);
      if (rate > this.maxRate) this.maxRate = rate;
      this.rateFromAt = now;
      this.rateFromConsumed = consumed;
    }
  }

  /** When the send that took the total to `bytes` or beyond went, if still remembered. */
  private whenSent(bytes: number): number | undefined {
    if (bytes > this.sentTotal) return undefined;
    const oldest = Math.max(0, this.sends - SEND_RECORDS);
    let found: number | undefined;
    // newest first: the first record below `bytes` ends the search; bounded by the ring
    for (let k = this.sends - 1; k >= oldest; k--) {
      const slot = k % SEND_RECORDS;
      if (this.sendEnd[slot]! < bytes) return found;
      found = this.sendAt[slot]!;
    }
    // the send that carried it may be older than the ring: a later one would give too short a delay
    return oldest === 0 ? found : undefined;
  }
}
