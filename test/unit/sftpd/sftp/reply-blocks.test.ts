/** The READ replies' memory pool: reuse, the free list's bound, double returns refused, the idle trim on an injected clock. */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ReplyBlockPool, type ReplyBlock } from '../../../../src/sftpd/sftp/reply-blocks';

function pool(maxFree = 4) {
  let now = 1_000;
  const scheduled: Array<{ fn: () => void; at: number }> = [];
  const p = new ReplyBlockPool({
    blockBytes: 1024, maxFree, idleTrimMs: 100, now: () => now,
    schedule: (fn, ms) => { scheduled.push({ fn, at: now + ms }); },
  });
  /** advances the clock, running what came due in order */
  const advance = (ms: number): void => {
    now += ms;
    // bounded: each round runs at least one due callback or stops
    for (let i = 0; i < 100; i++) {
      scheduled.sort((a, b) => a.at - b.at);
      if (scheduled.length === 0 || scheduled[0]!.at > now) return;
      scheduled.shift()!.fn();
    }
  };
  return { p, advance, scheduled };
}

describe('reply block pool', () => {
  test('cuts aligned pieces, refuses what does not fit', () => {
    const { p } = pool();
    const b = p.take();
    const a1 = b.alloc(13)!;
    const a2 = b.alloc(100)!;
    assert.equal(a1.length, 13);
    assert.equal(a2.byteOffset - a1.byteOffset, 16, '8-byte aligned');
    assert.equal(b.alloc(2000), undefined);
    assert.ok(b.alloc(1024 - 16 - 104), 'the rest still fits');
  });

  test('a given-back block is reused from its start; twice or foreign is refused', () => {
    const { p } = pool();
    const b = p.take();
    const mem = b.alloc(10)!.buffer;
    p.give(b);
    assert.throws(() => p.give(b), /twice/);
    const again = p.take();
    assert.equal(again, b);
    assert.equal(again.alloc(10)!.buffer, mem);
    assert.equal(again.alloc(10)!.byteOffset, 16, 'cut after the first piece, as in a new block');
    assert.deepEqual({ made: p.counters.made, reused: p.counters.reused }, { made: 1, reused: 1 });
    const other = new ReplyBlockPool({ blockBytes: 2048 });
    assert.throws(() => p.give(other.take()), /not a block of this pool/);
    const fake: ReplyBlock = { alloc: () => undefined };
    assert.throws(() => p.give(fake), /not a block of this pool/);
  });

  test('keeps at most maxFree blocks', () => {
    const { p } = pool(2);
    const blocks = [p.take(), p.take(), p.take()];
    for (const b of blocks) p.give(b);
    assert.equal(p.freeBlocks, 2);
    assert.equal(p.counters.dropped, 1);
  });

  test('drops the free blocks once none was taken for the idle time, not while in use', () => {
    const { p, advance, scheduled } = pool();
    const b1 = p.take();
    const b2 = p.take();
    p.give(b1);
    assert.equal(scheduled.length, 1, 'one trim scheduled');
    advance(60);
    p.give(p.take());
    advance(60);
    assert.equal(p.freeBlocks, 1, 'taken 60 ms ago: kept');
    assert.equal(scheduled.length, 1, 'checked again when the idle time is up');
    advance(50);
    assert.equal(p.freeBlocks, 0, 'idle for 110 ms: dropped');
    assert.equal(scheduled.length, 0, 'nothing left to trim, no timer');
    p.give(b2);
    assert.equal(p.freeBlocks, 1, 'a block in use when trimmed still comes back');
    advance(100);
    assert.equal(p.freeBlocks, 0);
  });
});
