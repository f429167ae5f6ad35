/**
 * The schedule lock rows (SFTPGo's tasks table) on every backend: one claim
 * per rule and due minute even when claims race, no claim while a run holds
 * a fresh heartbeat, a released row claimable at the next minute, a stale
 * row taken over (the old holder then loses its heartbeat and release), and
 * the row gone with its rule.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BACKENDS, tempDir } from './support';

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const MINUTE = Math.floor(T0 / 60_000);
const STALE_MS = 10 * 60_000;
const claim = (minute: number, nowMs: number) => ({ name: 'nightly', minute, nowMs, staleBeforeMs: nowMs - STALE_MS });

for (const backend of BACKENDS) {
  describe(`data provider conformance: ${backend.name} schedule lock`, () => {
    test('one claim per due minute, held while running, free once released', async (t) => {
      const dp = await backend.open(tempDir(t));
      t.after(() => dp.close());
      const tasks = dp.backend.tasks;
      assert.equal(await tasks.getTask('nightly'), undefined);
      // five nodes racing for the first run: the INSERT admits one
      const first = await Promise.all([1, 2, 3, 4, 5].map(() => tasks.claimTask(claim(MINUTE, T0))));
      assert.deepEqual(first.filter((v) => v !== undefined), [1]);
      assert.equal(await tasks.claimTask(claim(MINUTE, T0 + 5_000)), undefined, 'the same minute is not run twice');
      // the run lasts: the next minute finds a fresh heartbeat and skips
      assert.equal(await tasks.touchTask('nightly', 1, T0 + 50_000), true);
      assert.equal(await tasks.claimTask(claim(MINUTE + 1, T0 + 60_000)), undefined);
      await tasks.releaseTask('nightly', 1);
      assert.deepEqual(await tasks.getTask('nightly'), { name: 'nightly', updated_at: 0, version: 1, last_minute: MINUTE + 0 });
      // the following minute after a finished run: racing claims, one optimistic UPDATE wins
      const second = await Promise.all([1, 2, 3, 4].map(() => tasks.claimTask(claim(MINUTE + 2, T0 + 120_000))));
      assert.deepEqual(second.filter((v) => v !== undefined), [2]);
      assert.equal(await tasks.claimTask(claim(MINUTE + 1, T0 + 125_000)), undefined, 'an earlier minute is not run after a later one');
    });

    test('a stale row is taken over; the old holder loses its heartbeat and cannot release', async (t) => {
      const dp = await backend.open(tempDir(t));
      t.after(() => dp.close());
      const tasks = dp.backend.tasks;
      assert.equal(await tasks.claimTask(claim(MINUTE, T0)), 1);
      // its node died: no heartbeat for the stale window
      assert.equal(await tasks.claimTask(claim(MINUTE + 9, T0 + 9 * 60_000)), undefined, 'still within the stale window');
      const later = T0 + STALE_MS + 60_000;
      assert.equal(await tasks.claimTask(claim(MINUTE + 11, later)), 2);
      assert.equal(await tasks.touchTask('nightly', 1, later + 1), false, 'the old claim is gone');
      await tasks.releaseTask('nightly', 1);
      assert.equal((await tasks.getTask('nightly'))?.updated_at, later, 'the old holder did not release the new run');
      await tasks.deleteTask('nightly');
      assert.equal(await tasks.getTask('nightly'), undefined);
    });
  });
}
