/** When local-disk writes run inline on the loop (vfs/inline-writes.ts), with a fake clock. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InlineWriteBudget, InlineWritePolicy } from '../../../src/vfs/inline-writes';

function clock(): { now: () => number; advance(ms: number): void } {
  let t = 0;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

describe('inline write policy', () => {
  test('fast writes run inline; the caller is told when one did not run', () => {
    const c = clock();
    const policy = new InlineWritePolicy(new InlineWriteBudget(100, 40, c.now), 4, 1000, 1024);
    let ran = 0;
    assert.equal(policy.tryInline(512, () => { ran++; c.advance(1); }), true);
    assert.equal(policy.tryInline(2048, () => { ran++; }), false, 'larger than the inline maximum');
    assert.equal(ran, 1);
  });

  test('a slow write sends the handle to the pool for the backoff, then it tries again', () => {
    const c = clock();
    const policy = new InlineWritePolicy(new InlineWriteBudget(100, 1000, c.now), 4, 1000, 1 << 20);
    assert.equal(policy.tryInline(10, () => c.advance(10)), true);
    c.advance(500);
    assert.equal(policy.tryInline(10, () => assert.fail('must not run during the backoff')), false);
    c.advance(600);
    assert.equal(policy.tryInline(10, () => c.advance(1)), true);
  });

  test('the process-wide budget caps inline time per window, for every handle', () => {
    const c = clock();
    const budget = new InlineWriteBudget(100, 40, c.now);
    const a = new InlineWritePolicy(budget, 50, 1000, 1 << 20);
    const b = new InlineWritePolicy(budget, 50, 1000, 1 << 20);
    assert.equal(a.tryInline(10, () => c.advance(25)), true);
    assert.equal(b.tryInline(10, () => c.advance(20)), true);
    assert.equal(a.tryInline(10, () => assert.fail('budget spent')), false);
    assert.equal(b.tryInline(10, () => assert.fail('budget spent')), false);
    c.advance(60); // a new window
    assert.equal(b.tryInline(10, () => c.advance(1)), true);
  });

  test('a write that throws is still charged and the error reaches the caller', () => {
    const c = clock();
    const budget = new InlineWriteBudget(100, 10, c.now);
    const policy = new InlineWritePolicy(budget, 50, 1000, 1 << 20);
    assert.throws(() => policy.tryInline(10, () => { c.advance(11); throw new Error('EIO'); }), /EIO/);
    assert.equal(policy.tryInline(10, () => assert.fail('budget spent by the failed write')), false);
  });
});
