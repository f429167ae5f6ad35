/**
 * The defender's rules on an injected clock, for both drivers (memory, and
 * provider over the memory store and over SQLite): scores, threshold, ban,
 * ban increment, observation window, unban, bounded memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DefenderConfig } from '../../../src/config/types';
import { createNullLogger } from '../../../src/logger/logger';
import { MemoryDefender, validateDefenderConfig, type Defender, MINUTE_MS } from '../../../src/perimeter/defender';
import { ProviderDefender } from '../../../src/perimeter/defender-provider';
import { MemoryPerimeterStore } from '../../../src/dataprovider/perimeter-memory';
import { openSqliteBackend } from '../../../src/dataprovider/sqlite';

const base: DefenderConfig = {
  enabled: true, driver: 'memory', ban_time: 30, ban_time_increment: 50, threshold: 15, score_invalid: 2, score_valid: 1,
  score_limit_exceeded: 3, score_no_auth: 0, observation_time: 30, entries_soft_limit: 100, entries_hard_limit: 150,
  login_delay: { success: 0, password_failed: 1000 },
};

interface Driver { name: string; make(c: DefenderConfig, now: () => number): Promise<{ d: Defender; close(): Promise<void> }> }

const drivers: Driver[] = [
  { name: 'memory', make: async (c, now) => ({ d: new MemoryDefender(c, createNullLogger(), now), close: async () => undefined }) },
  { name: 'provider (memory store)', make: async (c, now) => ({ d: new ProviderDefender(c, new MemoryPerimeterStore(), createNullLogger(), now), close: async () => undefined }) },
  {
    name: 'provider (sqlite)',
    make: async (c, now) => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'defender-sqlite-'));
      const b = openSqliteBackend({ file: path.join(dir, 'db.sqlite') });
      await b.migrate();
      return { d: new ProviderDefender(c, b.perimeter, createNullLogger(), now), close: async () => { await b.close(); rmSync(dir, { recursive: true, force: true }); } };
    },
  },
];

for (const drv of drivers) {
  test(`${drv.name}: threshold bans, the ban grows while tried, expires, unban forgets`, async () => {
    let now = 1_000_000_000_000;
    const { d, close } = await drv.make({ ...base, threshold: 5 }, () => now);
    try {
      d.addEvent('10.0.0.1', 'SSH', 'invalid_user'); // 2
      d.addEvent('10.0.0.1', 'FTP', 'valid_user'); // 3
      d.addEvent('10.0.0.1', 'SSH', 'no_auth'); // score 0: ignored
      assert.deepEqual(await d.host('10.0.0.1'), { ip: '10.0.0.1', score: 3, banUntil: 0 });
      assert.equal(await d.isBanned('10.0.0.1', 'SSH'), false);
      d.addEvent('10.0.0.1', 'DAV', 'invalid_user'); // 5: banned
      const host = await d.host('10.0.0.1');
      assert.equal(host?.banUntil, now + 30 * MINUTE_MS);
      assert.equal(d.isKnownBanned('10.0.0.1'), true);
      assert.equal(await d.isBanned('10.0.0.1', 'SSH'), true);
      // every try while banned adds ban_time * 50% = 15 minutes
      assert.equal((await d.host('10.0.0.1'))?.banUntil, now + 45 * MINUTE_MS);
      now += 45 * MINUTE_MS + 1;
      assert.equal(await d.isBanned('10.0.0.1', 'SSH'), false);
      assert.equal(await d.host('10.0.0.1'), undefined, 'ban over, score cleared');
      d.addEvent('10.0.0.2', 'SSH', 'limit_exceeded');
      assert.equal((await d.hosts()).length, 1);
      assert.equal(await d.deleteHost('10.0.0.2'), true);
      assert.equal(await d.deleteHost('10.0.0.2'), false);
      // unban: a banned host deleted is let in at once
      for (let i = 0; i < 3; i++) d.addEvent('10.0.0.3', 'SSH', 'invalid_user');
      assert.equal(await d.isBanned('10.0.0.3', 'SSH'), true);
      assert.equal(await d.deleteHost('10.0.0.3'), true);
      assert.equal(await d.isBanned('10.0.0.3', 'SSH'), false);
      assert.equal(d.isKnownBanned('10.0.0.3'), false);
    } finally {
      await close();
    }
  });

  test(`${drv.name}: events older than observation_time no longer count`, async () => {
    let now = 1_000_000_000_000;
    const { d, close } = await drv.make({ ...base, threshold: 4, observation_time: 10 }, () => now);
    try {
      d.addEvent('192.0.2.1', 'SSH', 'invalid_user');
      now += 11 * MINUTE_MS;
      d.addEvent('192.0.2.1', 'SSH', 'invalid_user');
      assert.equal((await d.host('192.0.2.1'))?.score, 2);
      assert.equal(await d.isBanned('192.0.2.1', 'SSH'), false);
      d.addEvent('192.0.2.1', 'SSH', 'invalid_user');
      assert.equal(await d.isBanned('192.0.2.1', 'SSH'), true);
    } finally {
      await close();
    }
  });
}

test('memory driver: a flood from 10,000 addresses keeps both maps within entries_hard_limit', () => {
  let now = 1_000_000_000_000;
  const d = new MemoryDefender({ ...base, threshold: 2, score_invalid: 1, score_valid: 1 }, createNullLogger(), () => now);
  for (let i = 0; i < 10_000; i++) {
    const ip = `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`;
    d.addEvent(ip, 'SSH', 'invalid_user');
    if (i % 2 === 0) d.addEvent(ip, 'SSH', 'invalid_user'); // banned
    now += 1;
    assert.ok(d.size.hosts <= base.entries_hard_limit && d.size.banned <= base.entries_hard_limit);
  }
  // the most recent bans survive trimming
  assert.equal(d.isKnownBanned('10.0.39.14'), true);
});

test('configuration refused as SFTPGo refuses it, naming the setting', () => {
  assert.throws(() => validateDefenderConfig({ ...base, driver: 'redis' }), /common\.defender\.driver/);
  assert.throws(() => validateDefenderConfig({ ...base, score_invalid: 15 }), /score_invalid 15 cannot be greater than threshold 15/);
  assert.throws(() => validateDefenderConfig({ ...base, score_invalid: 0, score_valid: 0, score_limit_exceeded: 0 }), /all scores are disabled/);
  assert.throws(() => validateDefenderConfig({ ...base, entries_hard_limit: 100 }), /entries_hard_limit/);
  assert.throws(() => validateDefenderConfig({ ...base, ban_time: 0 }), /ban_time/);
  validateDefenderConfig({ ...base, enabled: false, driver: 'whatever' });
});
