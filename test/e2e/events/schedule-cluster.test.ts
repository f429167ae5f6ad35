/**
 * Schedule rules on a cluster: three nodes (whole applications in this
 * process) on one PostgreSQL database with data_provider.is_shared 1 and one
 * injected clock. Every node ticks every minute, at the same moment; the
 * rule's HTTP action reaches the test's receiver once per due minute for the
 * whole cluster, and once per node with concurrent_execution. Without a
 * shared provider (SQLite, memory) each process runs its schedules itself.
 * A run that outlasts its minute blocks the next one everywhere; a lock that
 * cannot be claimed skips the run instead of running it on every node.
 * The database is created and dropped by the test.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AppConfig } from '../../../src/config/types';
import { createDatabase, queryDatabase, type TestDatabase } from '../../support/databases';
import { apiOk, startEventsEnv, startReceiver, type EventsEnv, type Receiver } from './env';

/** 2026-01-05 10:00:20 UTC; each step is one minute */
let nowMs = Date.UTC(2026, 0, 5, 10, 0, 20);
const clock = (): number => nowMs;

function hitsFor(rec: Receiver, rule: string): number {
  return rec.requests.filter((r) => r.url.searchParams.get('rule') === rule).length;
}

/** Ticks every node at the same moment and returns how many of them ran a rule. */
async function tickAll(nodes: EventsEnv[]): Promise<number> {
  const ran = await Promise.all(nodes.map((n) => n.app.ctx.eventManager.tick(nowMs)));
  return ran.reduce((a, b) => a + b, 0);
}

async function everyMinuteRule(node: EventsEnv, rec: Receiver, name: string, concurrent: boolean): Promise<void> {
  await apiOk(node, 'POST', '/api/v2/eventactions', {
    name: `${name}-hook`, type: 1, options: { http_config: { endpoint: `${rec.url}/fired?rule={{.Name}}`, method: 'POST', timeout: 10 } },
  });
  await apiOk(node, 'POST', '/api/v2/eventrules', {
    name, status: 1, trigger: 3,
    conditions: {
      schedules: [{ minute: '*', hour: '*', day_of_week: '*', day_of_month: '*', month: '*' }],
      options: concurrent ? { concurrent_execution: true } : {},
    },
    actions: [{ name: `${name}-hook` }],
  });
}

describe('schedules on three nodes sharing PostgreSQL', () => {
  let db: TestDatabase;
  let rec: Receiver;
  const nodes: EventsEnv[] = [];

  before(async () => {
    rec = await startReceiver();
    db = await createDatabase('postgresql');
    const shared = (c: AppConfig): void => {
      Object.assign(c.data_provider, db.config, { is_shared: 1 });
      c.data_provider.node = { host: '127.0.0.1', port: c.httpd.bindings[0]!.port, proto: 'http' };
    };
    // one after the other: the first migrates the schema
    for (let i = 0; i < 3; i++) nodes.push(await startEventsEnv(shared, clock));
  });

  after(async () => {
    for (const n of nodes) await n.stop();
    await db?.drop();
    await rec?.close();
  });

  test('a rule runs once per due minute across the cluster; concurrent_execution runs it on every node', async () => {
    const [a, b] = nodes;
    assert.ok(a && b);
    await everyMinuteRule(a, rec, 'once', false);
    for (let minute = 1; minute <= 4; minute++) {
      assert.equal(await tickAll(nodes), 1, `minute ${minute}: one node ran the rule`);
      assert.equal(hitsFor(rec, 'once'), minute, `minute ${minute}: the action fired once`);
      // a second tick in the same minute (a late timer) runs nothing anywhere
      nowMs += 15_000;
      assert.equal(await tickAll(nodes), 0);
      nowMs += 45_000;
    }
    const [task] = await queryDatabase(db, "SELECT version, updated_at, last_minute FROM tasks WHERE name = 'once'");
    assert.deepEqual({ version: Number(task?.version), updated_at: Number(task?.updated_at) }, { version: 4, updated_at: 0 }, 'claimed four times, released');
    assert.equal(Number(task?.last_minute), Math.floor((nowMs - 60_000) / 60_000));

    // the same rule switched to concurrent execution (through another node): each node runs it
    const rule = await apiOk(b, 'GET', '/api/v2/eventrules/once', undefined, 200) as { conditions: { options: Record<string, unknown> } };
    rule.conditions.options.concurrent_execution = true;
    await apiOk(b, 'PUT', '/api/v2/eventrules/once', rule, 200);
    await everyMinuteRule(b, rec, 'everywhere', true);
    for (let minute = 1; minute <= 2; minute++) {
      assert.equal(await tickAll(nodes), 6);
      nowMs += 60_000;
    }
    assert.equal(hitsFor(rec, 'once'), 4 + 6);
    assert.equal(hitsFor(rec, 'everywhere'), 6);
    assert.equal((await queryDatabase(db, "SELECT name FROM tasks WHERE name = 'everywhere'")).length, 0, 'no lock row for concurrent rules');

    // the lock row goes with its rule
    await apiOk(a, 'DELETE', '/api/v2/eventrules/once', undefined, 200);
    assert.equal((await queryDatabase(db, "SELECT name FROM tasks WHERE name = 'once'")).length, 0);
    await apiOk(a, 'DELETE', '/api/v2/eventrules/everywhere', undefined, 200);
  });

  test('a run still going on one node is not started again by the others; the next minute after it finished is', async () => {
    const [a] = nodes;
    assert.ok(a);
    await everyMinuteRule(a, rec, 'slow', false);
    // the receiver holds the first call open: the run lasts past its minute
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => { release = resolve; });
    let reached = (): void => undefined;
    const firstCall = new Promise<void>((resolve) => { reached = resolve; });
    let calls = 0;
    rec.hold = (r) => {
      if (r.url.searchParams.get('rule') !== 'slow' || ++calls > 1) return Promise.resolve();
      reached();
      return held;
    };
    const started = tickAll(nodes);
    await firstCall;
    nowMs += 60_000;
    assert.equal(await tickAll(nodes), 0, 'the next minute is skipped while the run holds the lock');
    release();
    assert.equal(await started, 1);
    nowMs += 60_000;
    assert.equal(await tickAll(nodes), 1);
    assert.equal(hitsFor(rec, 'slow'), 2);
    rec.hold = () => Promise.resolve();
  });

  // last: it breaks the schema
  test('a lock that cannot be claimed (its table gone) skips the run on every node rather than running it everywhere', async () => {
    const [a] = nodes;
    assert.ok(a);
    await everyMinuteRule(a, rec, 'unlockable', false);
    await queryDatabase(db, 'DROP TABLE tasks');
    nowMs += 60_000;
    assert.equal(await tickAll(nodes), 0);
    assert.equal(hitsFor(rec, 'unlockable'), 0);
  });
});

describe('schedules without a shared provider', () => {
  test('each process (sqlite, memory) runs a due rule once per minute, whatever concurrent_execution says', async (t) => {
    const rec = await startReceiver();
    t.after(() => rec.close());
    const sqlite = await startEventsEnv(() => undefined, clock);
    t.after(() => sqlite.stop());
    const memory = await startEventsEnv((c) => { c.data_provider.driver = 'memory'; c.data_provider.name = ''; }, clock);
    t.after(() => memory.stop());
    for (const n of [sqlite, memory]) await everyMinuteRule(n, rec, 'local', false);
    const both = [sqlite, memory];
    assert.equal(await tickAll(both), 2, 'once in each process');
    nowMs += 20_000;
    assert.equal(await tickAll(both), 0, 'not twice in a minute');
    nowMs += 40_000;
    assert.equal(await tickAll(both), 2);
    assert.equal(hitsFor(rec, 'local'), 4);
    // the lock is not consulted: no row was written
    assert.equal(await sqlite.app.ctx.provider.backend.tasks.getTask('local'), undefined);
  });
});
