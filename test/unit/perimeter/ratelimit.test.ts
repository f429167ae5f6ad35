import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RateLimiterConfig } from '../../../src/config/types';
import { RateLimiter, validateRateLimiter } from '../../../src/perimeter/ratelimit';

const base: RateLimiterConfig = {
  average: 2, period: 1000, burst: 3, type: 2, protocols: ['SSH', 'FTP', 'DAV', 'HTTP'], generate_defender_events: false,
  entries_soft_limit: 100, entries_hard_limit: 150,
};

test('per source: the burst passes, the next waits up to the max delay or is refused, tokens come back with time', () => {
  let now = 0;
  const rl = new RateLimiter(base, () => now);
  assert.equal(rl.maxDelayMs, 250, 'two tokens per second: half a token interval');
  for (let i = 0; i < 3; i++) assert.deepEqual(rl.reserve('a'), { ok: true, delayMs: 0 });
  const refused = rl.reserve('a');
  assert.equal(refused.ok, false);
  assert.equal(refused.delayMs, 500);
  assert.deepEqual(rl.reserve('b'), { ok: true, delayMs: 0 }, 'another source has its own bucket');
  now += 300; // 0.6 token back: the next one is 200 ms away (< 250)
  assert.deepEqual(rl.reserve('a'), { ok: true, delayMs: 200 });
  now += 10_000;
  for (let i = 0; i < 3; i++) assert.equal(rl.reserve('a').ok, true);
  assert.equal(rl.reserve('a').ok, false);
});

test('global: one bucket for everyone; slow rates wait up to half the period', () => {
  let now = 0;
  const rl = new RateLimiter({ ...base, type: 1, average: 1, period: 5000, burst: 1 }, () => now);
  assert.equal(rl.maxDelayMs, 2500);
  assert.equal(rl.reserve('a').ok, true);
  assert.equal(rl.reserve('b').ok, false);
  now += 2600;
  const r = rl.reserve('c');
  assert.equal(r.ok, true);
  assert.ok(r.delayMs > 0 && r.delayMs <= 2500);
  assert.equal(rl.trackedSources, 0);
});

test('per-source buckets stay within entries_hard_limit under a flood of sources', () => {
  const rl = new RateLimiter({ ...base, entries_soft_limit: 10, entries_hard_limit: 20 }, () => 0);
  for (let i = 0; i < 5000; i++) {
    rl.reserve(`10.0.${i >> 8}.${i & 255}`);
    assert.ok(rl.trackedSources <= 20);
  }
});

test('invalid settings are refused with the index and key', () => {
  assert.throws(() => validateRateLimiter({ ...base, burst: 0 }, 0), /rate_limiters\[0\]\.burst/);
  assert.throws(() => validateRateLimiter({ ...base, period: 50 }, 1), /rate_limiters\[1\]\.period/);
  assert.throws(() => validateRateLimiter({ ...base, type: 3 }, 0), /\.type/);
  assert.throws(() => validateRateLimiter({ ...base, entries_hard_limit: 100 }, 0), /entries_hard_limit/);
  assert.throws(() => validateRateLimiter({ ...base, protocols: ['SMTP'] }, 0), /invalid protocol "SMTP"/);
});
