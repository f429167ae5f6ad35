import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { createConnectionManager } from '../../../src/common/manager';
import { isFsError } from '../../../src/common/errors';
import type { SessionHandle } from '../../../src/common/types';
import { commonConfig, makeUser, QuotaRecorder, RecordingLogger, RecordingMetrics, tempDir } from './support';
import { testFilesystems } from '../../support/filesystems';

const t = tempDir();
after(() => t.cleanup());

function setup(over: Parameters<typeof commonConfig>[0] = {}, extra: { idleTimeoutMs?: number; idleCheckIntervalMs?: number } = {}) {
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const provider = new QuotaRecorder();
  const mgr = createConnectionManager({ config: commonConfig(over), logger, metrics, provider, filesystems: testFilesystems(commonConfig(over), logger, metrics), ...extra });
  return { mgr, logger, metrics, provider };
}

/** A session that records disconnects and lets a test await the first one. */
function session(): SessionHandle & { reasons: string[]; disconnected: Promise<string> } {
  let resolve: (r: string) => void = () => undefined;
  const disconnected = new Promise<string>((r) => { resolve = r; });
  const reasons: string[] = [];
  return { reasons, disconnected, disconnect(reason: string) { reasons.push(reason); resolve(reason); } };
}

const home = path.join(t.dir, 'home');
mkdirSync(home);

describe('connection manager', () => {
  test('max_total_connections and max_per_host_connections', () => {
    const { mgr } = setup({ max_total_connections: 3, max_per_host_connections: 2 });
    const r1 = mgr.acceptClient('10.0.0.1');
    mgr.acceptClient('10.0.0.1:1234');
    assert.throws(() => mgr.acceptClient('10.0.0.1'), (e: unknown) => isFsError(e, 'TooManyConnections'));
    mgr.acceptClient('10.0.0.2');
    assert.throws(() => mgr.acceptClient('10.0.0.3'), (e: unknown) => isFsError(e, 'TooManyConnections'));
    r1();
    r1(); // idempotent
    mgr.acceptClient('10.0.0.3');
    assert.throws(() => mgr.acceptClient('10.0.0.4'), (e: unknown) => isFsError(e, 'TooManyConnections'));
  });

  test('max_sessions per user, ids, list, remove, metrics', async () => {
    const { mgr, metrics } = setup();
    const user = makeUser(home, { max_sessions: 2 });
    const a = mgr.add({ protocol: 'SFTP', user, remoteAddr: '1.2.3.4:5', localAddr: '127.0.0.1:2022', session: session() });
    const b = mgr.add({ protocol: 'FTP', user, remoteAddr: '1.2.3.4:6', localAddr: '127.0.0.1:21', session: session(), id: 'FTP_given' });
    assert.match(a.id, /^SFTP_[0-9a-f]{20}$/);
    assert.equal(b.id, 'FTP_given');
    assert.throws(() => mgr.add({ protocol: 'DAV', user, remoteAddr: '1.2.3.4:7', localAddr: '', session: session() }),
      (e: unknown) => isFsError(e, 'TooManyConnections'));
    assert.equal(metrics.active, 2);
    assert.deepEqual(mgr.list().map((c) => c.id).sort(), [a.id, 'FTP_given'].sort());
    a.setCommand('LIST');
    assert.equal(mgr.list().find((c) => c.id === a.id)?.command, 'LIST');
    await mgr.remove(a.id);
    await mgr.remove(a.id);
    assert.equal(metrics.active, 1);
    mgr.add({ protocol: 'DAV', user, remoteAddr: '1.2.3.4:7', localAddr: '', session: session() });
    await mgr.shutdown(0);
    assert.equal(metrics.active, 0);
  });

  test('close and closeUser call the session handles', async () => {
    const { mgr } = setup();
    const s1 = session();
    const s2 = session();
    const s3 = session();
    const c1 = mgr.add({ protocol: 'SFTP', user: makeUser(home), remoteAddr: 'a', localAddr: 'b', session: s1 });
    mgr.add({ protocol: 'SFTP', user: makeUser(home), remoteAddr: 'a', localAddr: 'b', session: s2 });
    mgr.add({ protocol: 'SFTP', user: makeUser(home, { username: 'other' }), remoteAddr: 'a', localAddr: 'b', session: s3 });
    assert.equal(mgr.close(c1.id), true);
    assert.equal(mgr.close('nope'), false);
    assert.equal(s1.reasons.length, 1);
    assert.equal(mgr.closeUser('u1'), 2);
    assert.equal(s2.reasons.length, 1);
    assert.equal(s3.reasons.length, 0);
    await mgr.shutdown(0);
  });

  test('idle sessions are disconnected by the sweeper; active ones are kept', async () => {
    // a minute of idle timeout: the busy session (just added) cannot reach it during the test however
    // loaded the machine is; the idle one's last activity is set two minutes back, so the next sweep
    // (every 5 ms) closes it. No race between real timers decides the outcome.
    const { mgr } = setup({}, { idleTimeoutMs: 60_000, idleCheckIntervalMs: 5 });
    const idle = session();
    const busy = session();
    const idleOps = mgr.add({ protocol: 'SFTP', user: makeUser(home), remoteAddr: 'a', localAddr: 'b', session: idle });
    mgr.add({ protocol: 'SFTP', user: makeUser(home), remoteAddr: 'a', localAddr: 'b', session: busy });
    // the manager hands out the Connection itself; its lastActivity is what the sweeper reads
    (idleOps as unknown as { lastActivity: number }).lastActivity = Date.now() - 120_000;
    // the sweeper's interval is unref'd (it never keeps a server alive): hold the loop open while waiting
    const holdLoop = setTimeout(() => undefined, 60_000);
    const reason = await idle.disconnected.finally(() => clearTimeout(holdLoop));
    assert.equal(reason, 'idle timeout');
    assert.equal(busy.reasons.length, 0);
    await mgr.shutdown(0);
  });

  test('shutdown refuses new work, waits for transfers, then disconnects', async () => {
    const { mgr } = setup();
    const s = session();
    const ops = mgr.add({ protocol: 'SFTP', user: makeUser(home), remoteAddr: 'a', localAddr: 'b', session: s });
    const up = await ops.openWrite('/f', { truncate: true, append: false, exclusive: false, read: false, offset: 0 });
    let shutDown = false;
    const done = mgr.shutdown(60_000).then(() => { shutDown = true; });
    assert.equal(mgr.isShuttingDown, true);
    await assert.rejects(ops.openRead('/f'), (e: unknown) => isFsError(e, 'ShuttingDown'));
    assert.throws(() => mgr.acceptClient('1.1.1.1'), (e: unknown) => isFsError(e, 'ShuttingDown'));
    // the transfer is still running: nobody has been disconnected
    await up.writeAt(Buffer.from('x'), 0);
    assert.equal(shutDown, false);
    assert.equal(s.reasons.length, 0);
    await up.close();
    await done;
    assert.equal(s.reasons.length, 1);
    assert.deepEqual(mgr.list(), []);
  });

  test('shutdown grace expiry disconnects even with a transfer running, closing it as aborted', async () => {
    const { mgr, logger } = setup({ upload_mode: 1 });
    const s = session();
    const ops = mgr.add({ protocol: 'SFTP', user: makeUser(home), remoteAddr: 'a', localAddr: 'b', session: s });
    const up = await ops.openWrite('/g', { truncate: true, append: false, exclusive: false, read: false, offset: 0 });
    await up.writeAt(Buffer.from('x'), 0);
    await mgr.shutdown(1);
    assert.equal(s.reasons.length, 1);
    assert.equal(mgr.activeTransfers(), 0);
    assert.ok(logger.transfers.some((e) => e.virtualPath === '/g' && e.error));
  });
});
