/**
 * SIGHUP to `serve --workers 2` reaches every worker, including one still
 * starting: a worker's signal handlers exist only once it has started (before
 * that Node's default action for SIGHUP ends the process), so the primary
 * holds the signal until the worker says "ready" over IPC and then delivers
 * it. Each worker acknowledges its finished reload over IPC and the primary
 * logs one line per worker: the test waits on those lines (one process
 * writes them), never on a delay. SIGUSR1 rotates the shared log file once
 * (the primary renames it, the workers reopen it). Size rotation of the
 * shared file (log_max_size) is the primary's too: every rename is logged by
 * the primary and no backup is renamed before it is full.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { stopDaemon, until, type Daemon } from '../../support/daemon';
import { startWorkers } from './node';

/** How many reloads the primary saw acknowledged, per worker index. */
function acknowledged(d: Daemon): Map<string, number> {
  const counts = new Map<string, number>();
  for (const l of d.logLines()) {
    const m = /^worker (\d+) \(pid \d+\) reloaded$/.exec(String(l.message));
    if (m) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
  }
  return counts;
}

describe('serve with 2 workers: SIGHUP', () => {
  test('a SIGHUP sent while the workers start reaches each once it is ready; every reload is acknowledged; SIGUSR1 rotates the shared log once', async (t) => {
    const cleanups: (() => Promise<void> | void)[] = [];
    t.after(async () => { for (const fn of cleanups.reverse()) await fn(); });
    const d = await startWorkers(cleanups, 2);
    const { dir } = d;
    // at once: the ports answer as soon as one worker listens, the other is typically still starting
    d.proc.kill('SIGHUP');
    await until('both workers acknowledged the reload', async () => {
      const acks = acknowledged(d);
      return acks.get('0') === 1 && acks.get('1') === 1;
    }, 90_000);
    const lines = d.logLines().map((l) => String(l.message));
    assert.ok(!lines.some((l) => /exited \(SIGHUP\)/.test(l)), 'no worker ended by the SIGHUP');

    // both running now: one more SIGHUP, one more acknowledgment from each
    d.proc.kill('SIGHUP');
    await until('both workers acknowledged the second reload', async () => {
      const acks = acknowledged(d);
      return acks.get('0') === 2 && acks.get('1') === 2;
    }, 90_000);
    assert.equal(d.logLines().filter((l) => /exited/.test(String(l.message))).length, 0, 'no worker exited');

    // SIGUSR1: the primary renames the shared log file once, every worker reopens it; lines from all three
    // processes land in the new file (each process renaming it would scatter them over several backups)
    d.proc.kill('SIGUSR1');
    const backups = (): string[] => readdirSync(dir).filter((n) => /^sftpgo-.+\.log$/.test(n));
    await until('both workers reopened the rotated log', async () =>
      d.logLines().filter((l) => String(l.message) === 'received SIGUSR1, log file reopened').length === 2, 90_000);
    assert.equal(backups().length, 1, `one rename: ${backups().join(', ')}`);
    assert.ok(d.logLines().some((l) => String(l.message) === 'log file rotated, workers reopen it'));
    d.proc.kill('SIGHUP');
    await until('both reload acknowledgments in the new file', async () => {
      const acks = acknowledged(d);
      return acks.get('0') === 1 && acks.get('1') === 1;
    }, 90_000);
    assert.equal(d.logLines().filter((l) => String(l.message) === 'received SIGHUP, reloading').length, 2, 'both workers write to the new file');
    assert.equal(backups().length, 1);
    assert.equal(await stopDaemon(d), 0);
  });

  test('log_max_size: the shared file is rotated by size once per fill, by the primary', async (t) => {
    const cleanups: (() => Promise<void> | void)[] = [];
    t.after(async () => { for (const fn of cleanups.reverse()) await fn(); });
    const d = await startWorkers(cleanups, 2, { SFTPGO_LOG_MAX_SIZE: '1', SFTPGO_LOG_LEVEL: 'debug' });
    const { dir } = d;
    const backups = (): string[] => readdirSync(dir).filter((n) => /^sftpgo-.+\.log$/.test(n));
    // each request on its own connection (the primary deals connections to the workers in turn) and logged with
    // a 2 KiB user agent: about 1,500 requests fill the 1 MB file three times
    const agent = 'x'.repeat(2048);
    const hit = (): Promise<void> => new Promise((resolve, reject) => {
      const r = request({ host: '127.0.0.1', port: d.httpPort, path: '/healthz', agent: false, headers: { 'user-agent': agent } }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      r.on('error', reject);
      r.end();
    });
    for (let batch = 0; batch < 100 && backups().length < 3; batch++) {
      await Promise.all(Array.from({ length: 20 }, hit));
    }
    await until('three size rotations', async () => backups().length >= 3, 90_000);
    // stopped first: every line is on disk
    assert.equal(await stopDaemon(d), 0);
    const messages = [...backups(), 'sftpgo.log'].flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l !== '')
      .map((l) => String((JSON.parse(l) as { message?: unknown }).message)));
    // every rename is the primary's, one line each (processes renaming on their own, as before, log none); how far
    // past log_max_size a backup grows depends on how soon the workers reopen, so only the lower bound is exact
    const renames = messages.filter((m) => m === 'log file reached log_max_size, workers reopen it').length;
    assert.ok(renames >= 3 && renames >= backups().length, `${renames} renames by the primary for ${backups().length} backups`);
    const mb = 1024 * 1024;
    for (const b of backups()) {
      const size = statSync(join(dir, b)).size;
      // renamed only once full (a worker's request: the file at the path >= log_max_size; the primary's own check
      // may count a line or two it has not flushed yet): two processes renaming in turn would leave small backups
      assert.ok(size > mb - 64 * 1024, `${b}: ${size} bytes`);
    }
    assert.equal(messages.filter((m) => /exited/.test(m)).length, 0, 'no worker exited');
  });
});
