import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { lazy } from '../../../src/util/lazy';

test('lazy loads on the first call only and hands out the same value after', () => {
  let loads = 0;
  const get = lazy(() => ({ n: ++loads }));
  assert.equal(loads, 0, 'nothing loads before the first call');
  const first = get();
  assert.equal(get(), first);
  assert.equal(loads, 1);
});

test('lazy retries a load that threw', () => {
  let attempts = 0;
  const get = lazy(() => {
    attempts++;
    if (attempts === 1) throw new Error('not yet');
    return 'ok';
  });
  assert.throws(get, /not yet/);
  assert.equal(get(), 'ok');
  assert.equal(get(), 'ok');
  assert.equal(attempts, 2);
});
