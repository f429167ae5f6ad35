/**
 * ScopedStorage (src/util/scoped-storage.ts): the store is seen by what a
 * body calls, across awaits and timers, by nothing outside it; the storage
 * is enabled only while a body runs, whether it resolves or rejects; two
 * bodies at once each keep their own store until both are done. And the
 * data provider's OperationQueue built on it: nested calls in a transaction
 * bypass the queue, a call left behind by a finished transaction does not.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { ScopedStorage } from '../../../src/util/scoped-storage';
import { OperationQueue } from '../../../src/dataprovider/lock';

describe('ScopedStorage', () => {
  test('the store reaches awaits and timers inside the body, nothing outside it', async () => {
    const s = new ScopedStorage<string>();
    assert.equal(s.getStore(), undefined);
    assert.equal(s.enabled, false);
    let inTimer: string | undefined;
    const result = await s.run('tx', async () => {
      assert.equal(s.getStore(), 'tx');
      assert.equal(s.enabled, true);
      await delay(1);
      assert.equal(s.getStore(), 'tx');
      await new Promise<void>((resolve) => setTimeout(() => { inTimer = s.getStore(); resolve(); }, 1));
      return 42;
    });
    assert.equal(result, 42);
    assert.equal(inTimer, 'tx');
    assert.equal(s.getStore(), undefined);
    assert.equal(s.enabled, false, 'disabled once the body settled');
  });

  test('a rejecting body disables the storage too, and its error reaches the caller', async () => {
    const s = new ScopedStorage<number>();
    await assert.rejects(s.run(1, async () => { await delay(1); throw new Error('boom'); }), /boom/);
    assert.equal(s.enabled, false);
    assert.equal(s.getStore(), undefined);
  });

  test('two bodies at once keep their own stores until the last one ends', async () => {
    const s = new ScopedStorage<string>();
    let releaseA!: () => void;
    const gateA = new Promise<void>((r) => { releaseA = r; });
    const seen: string[] = [];
    const a = s.run('a', async () => { await gateA; seen.push(`a:${s.getStore()}`); });
    const b = s.run('b', async () => {
      await delay(1);
      seen.push(`b:${s.getStore()}`);
      releaseA();
      await a;
      // a has ended; b is still running and must still see its own store
      seen.push(`b-after-a:${s.getStore()}`);
      assert.equal(s.enabled, true);
    });
    await Promise.all([a, b]);
    assert.deepEqual(seen, ['b:b', 'a:a', 'b-after-a:b']);
    assert.equal(s.enabled, false);
  });

  test('a callback a body left behind, run after the body ended, sees no store', async () => {
    const s = new ScopedStorage<string>();
    let late: () => string | undefined = () => 'not called';
    await s.run('tx', async () => { late = () => s.getStore(); });
    await delay(1);
    assert.equal(late(), undefined);
  });
});

describe('OperationQueue on ScopedStorage', () => {
  test('calls nested in exclusive() run at once; later calls wait for the queue', async () => {
    const q = new OperationQueue();
    const order: string[] = [];
    let leftBehind: Promise<void> | undefined;
    const tx = q.exclusive(async () => {
      assert.equal(q.inTransaction, true);
      // nested: must not wait for the queue the transaction itself holds
      await q.run(async () => { order.push('nested'); });
      leftBehind = delay(5).then(() => q.run(async () => { order.push(`left-behind in tx: ${q.inTransaction}`); }));
      order.push('tx body done');
    });
    const outside = q.run(async () => { order.push('queued after tx'); });
    await tx;
    await outside;
    await leftBehind;
    assert.equal(q.inTransaction, false);
    assert.deepEqual(order, ['nested', 'tx body done', 'queued after tx', 'left-behind in tx: false']);
  });
});
