import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { once } from 'node:events';
import type { User } from '../../../src/dataprovider/models';
import { FsError } from '../../../src/common/errors';
import { bandwidthFor, ipFromAddr } from '../../../src/common/throttle';
import { freshHomes, makeUser, PLAIN_UPLOAD, QuotaRecorder } from './support';
import { connect, rejectsKind, writeFile, readAll } from './helpers';

const W = PLAIN_UPLOAD;
const freshHome = freshHomes();

describe('upload modes', () => {
  test('mode 0: an interrupted upload leaves the partial file, quota counts it', async () => {
    const home = freshHome();
    const h = await connect(makeUser(home, { quota_files: 10 }), { upload_mode: 0 });
    const up = await h.conn.openWrite('/f', W);
    await up.writeAt(Buffer.from('part'), 0);
    await up.close(new Error('client went away'));
    assert.equal(readFileSync(path.join(home, 'f'), 'utf8'), 'part');
    assert.deepEqual(h.provider.calls.filter((c) => c.fn === 'user'), [{ fn: 'user', name: 'u1', size: 4, files: 1 }]);
    const log = h.logger.transfers.at(-1);
    assert.equal(log?.sender, 'Upload');
    assert.equal(log?.error, 'client went away');
    assert.deepEqual(h.metrics.transfers.at(-1), { kind: 'upload', bytes: 4, failed: true });
    await h.mgr.shutdown(0);
  });

  test('mode 1: aborted new upload leaves no file and no temp; success renames into place', async () => {
    const home = freshHome();
    const h = await connect(makeUser(home, { quota_files: 10 }), { upload_mode: 1 });
    const up = await h.conn.openWrite('/f', W);
    await up.writeAt(Buffer.from('partial'), 0);
    assert.equal(readdirSync(home).filter((x) => x.startsWith('.sftpgo-upload.')).length, 1);
    assert.equal(existsSync(path.join(home, 'f')), false);
    await up.close(new Error('aborted'));
    assert.deepEqual(readdirSync(home), []);
    assert.deepEqual(h.provider.calls.filter((c) => c.fn === 'user'), []);
    await writeFile(h.conn, '/f', 'complete');
    assert.deepEqual(readdirSync(home), ['f']);
    assert.equal(readFileSync(path.join(home, 'f'), 'utf8'), 'complete');
    await h.mgr.shutdown(0);
  });

  test('mode 1: an aborted overwrite keeps the original content', async () => {
    const home = freshHome();
    writeFileSync(path.join(home, 'f'), 'original');
    const h = await connect(makeUser(home), { upload_mode: 1 });
    const up = await h.conn.openWrite('/f', W);
    await up.writeAt(Buffer.from('new'), 0);
    await up.close(new Error('aborted'));
    assert.deepEqual(readdirSync(home), ['f']);
    assert.equal(readFileSync(path.join(home, 'f'), 'utf8'), 'original');
    await h.mgr.shutdown(0);
  });

  test('mode 2: an aborted upload is kept at the target so the client can resume', async () => {
    const home = freshHome();
    const h = await connect(makeUser(home), { upload_mode: 2 });
    const up = await h.conn.openWrite('/f', W);
    await up.writeAt(Buffer.from('first-'), 0);
    await up.close(new Error('aborted'));
    assert.deepEqual(readdirSync(home), ['f']);
    // resume: open without truncate, continue at the current size
    const res = await h.conn.openWrite('/f', { ...W, truncate: false, append: true });
    await res.writeAt(Buffer.from('second'), 6);
    await res.close();
    assert.deepEqual(readdirSync(home), ['f']);
    assert.equal(readFileSync(path.join(home, 'f'), 'utf8'), 'first-second');
    await h.mgr.shutdown(0);
  });

  test('resume at an offset (REST + STOR) through the write stream; writes below the resume point refused', async () => {
    const home = freshHome();
    writeFileSync(path.join(home, 'f'), 'abcdef');
    const h = await connect(makeUser(home, { quota_size: 1000 }), { upload_mode: 0 });
    const up = await h.conn.openWrite('/f', { ...W, truncate: false, offset: 3 });
    await rejectsKind(up.writeAt(Buffer.from('zz'), 0), 'Generic');
    const ws = up.createWriteStream();
    ws.end(Buffer.from('XY'));
    await once(ws, 'finish');
    // finish means committed: the transfer is closed and accounted
    assert.equal(readFileSync(path.join(home, 'f'), 'utf8'), 'abcXY');
    assert.deepEqual(h.provider.calls.filter((c) => c.fn === 'user'), [{ fn: 'user', name: 'u1', size: -1, files: 0 }]);
    await rejectsKind(h.conn.openWrite('/f', { ...W, truncate: false, offset: 99 }), 'Generic');
    await h.mgr.shutdown(0);
  });

  test('append in atomic mode continues the existing bytes and leaves no temp', async () => {
    const home = freshHome();
    writeFileSync(path.join(home, 'f'), 'abc');
    const h = await connect(makeUser(home), { upload_mode: 1 });
    const up = await h.conn.openWrite('/f', { ...W, truncate: false, append: true });
    const ws = up.createWriteStream();
    ws.end(Buffer.from('def'));
    await once(ws, 'finish');
    assert.deepEqual(readdirSync(home), ['f']);
    assert.equal(readFileSync(path.join(home, 'f'), 'utf8'), 'abcdef');
    await h.mgr.shutdown(0);
  });

  test('destroying the write stream aborts an atomic upload', async () => {
    const home = freshHome();
    const h = await connect(makeUser(home), { upload_mode: 1 });
    const up = await h.conn.openWrite('/f', W);
    const ws = up.createWriteStream();
    ws.on('error', () => undefined);
    ws.write(Buffer.from('data'));
    const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
    ws.destroy(new Error('socket reset'));
    await closed;
    await up.close();
    assert.deepEqual(readdirSync(home), []);
    await h.mgr.shutdown(0);
  });
});

describe('upload rules', () => {
  test('overwrite permission for existing files; upload also for resume', async () => {
    const home = freshHome();
    writeFileSync(path.join(home, 'f'), 'x');
    const h = await connect(makeUser(home, { permissions: { '/': ['list', 'upload'], '/ow': ['list', 'overwrite'] } }));
    await rejectsKind(h.conn.openWrite('/f', W), 'PermissionDenied');
    mkdirSync(path.join(home, 'ow'));
    writeFileSync(path.join(home, 'ow', 'g'), 'x');
    await (await h.conn.openWrite('/ow/g', W)).close();
    await rejectsKind(h.conn.openWrite('/ow/g', { ...W, truncate: false, append: true }), 'PermissionDenied');
    await rejectsKind(h.conn.openWrite('/ow/new', W), 'PermissionDenied');
    await rejectsKind(h.conn.openWrite('/ow', W), 'Unsupported');
    await rejectsKind(h.conn.openWrite('/f2', { ...W, read: true }), 'PermissionDenied');
    await h.mgr.shutdown(0);
  });

  test('quota exceeded mid-write (non atomic): the write is refused, close reports it, the partial file is removed', async () => {
    const home = freshHome();
    const user = makeUser(home, { quota_size: 10, quota_files: 5 });
    const h = await connect(user, { upload_mode: 0 });
    const up = await h.conn.openWrite('/f', W);
    await up.writeAt(Buffer.alloc(8, 1), 0);
    await rejectsKind(up.writeAt(Buffer.alloc(5, 1), 8), 'QuotaExceeded');
    await rejectsKind(up.writeAt(Buffer.alloc(1, 1), 8), 'QuotaExceeded');
    await rejectsKind(up.close(), 'QuotaExceeded');
    // SFTPGo: an upload denied for space removes what it wrote, in every upload mode
    assert.equal(existsSync(path.join(home, 'f')), false);
    assert.equal(h.provider.users.get('u1')?.used_quota_size ?? 0, 0);
    assert.ok(h.logger.lines.some((l) => /upload denied due to space limit/.test(l.message)));
    // nothing is used: a new upload gets the whole budget again, and no more
    const up2 = await h.conn.openWrite('/g', W);
    await up2.writeAt(Buffer.alloc(10), 0);
    await rejectsKind(up2.writeAt(Buffer.alloc(1), 10), 'QuotaExceeded');
    await up2.close(new Error('abort'));
    h.provider.users.set('u1', { ...user, used_quota_size: 10 });
    await rejectsKind(h.conn.openWrite('/h', W), 'QuotaExceeded');
    await h.mgr.shutdown(0);
  });

  test('quota exceeded mid-write (atomic): nothing is left behind', async () => {
    const home = freshHome();
    const h = await connect(makeUser(home, { quota_size: 10 }), { upload_mode: 1 });
    const up = await h.conn.openWrite('/f', W);
    await up.writeAt(Buffer.alloc(6), 0);
    await rejectsKind(up.writeAt(Buffer.alloc(6), 6), 'QuotaExceeded');
    await rejectsKind(up.close(), 'QuotaExceeded');
    assert.deepEqual(readdirSync(home), []);
    await h.mgr.shutdown(0);
  });

  test('max_upload_file_size and the quota of a folder with its own limits', async () => {
    const home = freshHome();
    const folder = `${freshHome()}-folder`;
    const user: User = makeUser(home, {
      filters: { max_upload_file_size: 5 },
      virtual_folders: [{ name: 'f1', mapped_path: folder, virtual_path: '/vf', quota_size: 100, quota_files: 0 }],
    });
    const h = await connect(user);
    const up = await h.conn.openWrite('/big', W);
    await rejectsKind(up.writeAt(Buffer.alloc(6), 0), 'QuotaExceeded');
    await up.close(new Error('abort'));
    await writeFile(h.conn, '/vf/a', 'abc');
    assert.ok(h.provider.calls.some((c) => c.fn === 'folder' && c.name === 'f1' && c.size === 3 && c.files === 1));
    assert.equal(h.provider.calls.some((c) => c.fn === 'user'), false, 'user quota untouched (track_quota 2, no limits)');
    await h.mgr.shutdown(0);
  });

  test('a transfer is visible in the connection info while open; first_upload recorded', async () => {
    const home = freshHome();
    const h = await connect(makeUser(home));
    const up = await h.conn.openWrite('/f', W);
    await up.writeAt(Buffer.from('12345'), 0);
    const info = h.mgr.list()[0];
    assert.equal(info?.transfers.length, 1);
    assert.equal(info?.transfers[0]?.operation_type, 'upload');
    assert.equal(info?.transfers[0]?.size, 5);
    assert.equal(h.mgr.activeTransfers(), 1);
    await up.close();
    assert.equal(h.mgr.list()[0]?.transfers.length, 0);
    assert.equal(h.mgr.activeTransfers(), 0);
    assert.ok(h.provider.calls.some((c) => c.fn === 'first_upload'));
    const log = h.logger.transfers.at(-1);
    assert.equal(log?.virtualPath, '/f');
    assert.equal(log?.filePath, path.join(home, 'f'));
    assert.equal(log?.sizeBytes, 5);
    assert.equal(log?.protocol, 'SFTP');
    await h.mgr.shutdown(0);
  });
});

describe('downloads', () => {
  test('ranged stream, counters, logs', async () => {
    const home = freshHome();
    writeFileSync(path.join(home, 'f'), '0123456789');
    const h = await connect(makeUser(home));
    const d = await h.conn.openRead('/f');
    assert.equal(d.size, 10);
    const chunks: Buffer[] = [];
    for await (const c of d.createReadStream(2, 5)) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), '2345');
    await d.close();
    assert.deepEqual(h.metrics.transfers.at(-1), { kind: 'download', bytes: 4, failed: false });
    assert.equal(h.logger.transfers.at(-1)?.sender, 'Download');
    await h.mgr.shutdown(0);
  });

  test('download permission is checked on the parent dir', async () => {
    const home = freshHome();
    mkdirSync(path.join(home, 'nodl'));
    writeFileSync(path.join(home, 'nodl', 'f'), 'x');
    const h = await connect(makeUser(home, { permissions: { '/': ['*'], '/nodl': ['list'] } }));
    await rejectsKind(h.conn.openRead('/nodl/f'), 'PermissionDenied');
    await h.mgr.shutdown(0);
  });

  test('data transfer quota: refused at open when used up, capped mid-transfer', async () => {
    const home = freshHome();
    writeFileSync(path.join(home, 'f'), Buffer.alloc(3 * 1024 * 1024));
    const user = makeUser(home, { download_data_transfer: 1, used_download_data_transfer: 1024 * 1024 - 10 });
    const prov = new QuotaRecorder([user]);
    const h = await connect(user, {}, prov);
    const d = await h.conn.openRead('/f');
    const buf = Buffer.alloc(64);
    assert.equal(await d.readAt(buf, 0, 64, 0), 10);
    await rejectsKind(d.readAt(buf, 0, 64, 10), 'ReadQuotaExceeded');
    // the failure is the transfer's outcome: close reports it too
    await rejectsKind(d.close(), 'ReadQuotaExceeded');
    assert.ok(prov.calls.some((c) => c.fn === 'transfer' && c.files === 10));
    await rejectsKind(h.conn.openRead('/f'), 'ReadQuotaExceeded');
    await h.mgr.shutdown(0);
  });

  test('data transfer quota: pipelined reads in flight together never pass it', async () => {
    const home = freshHome();
    const data = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 0xff;
    writeFileSync(path.join(home, 'f'), data);
    const user = makeUser(home, { download_data_transfer: 1, used_download_data_transfer: 1024 * 1024 - 250_000 });
    const prov = new QuotaRecorder([user]);
    const h = await connect(user, {}, prov);
    const d = await h.conn.openRead('/f');
    // as OpenSSH's READs: several issued before any completes (each used to see 250_000 left)
    const reads = [0, 100_000, 200_000, 300_000].map(async (pos) => {
      const buf = Buffer.alloc(100_000);
      const n = await d.readAt(buf, 0, 100_000, pos);
      return buf.subarray(0, n);
    });
    const got = await Promise.allSettled(reads);
    const sent = got.map((r) => (r.status === 'fulfilled' ? r.value.length : -1));
    assert.deepEqual(sent, [100_000, 100_000, 50_000, -1]);
    for (const [i, r] of got.entries()) {
      if (r.status === 'fulfilled') assert.ok(r.value.equals(data.subarray(i * 100_000, i * 100_000 + r.value.length)));
    }
    await rejectsKind(d.close(), 'ReadQuotaExceeded');
    assert.ok(prov.calls.some((c) => c.fn === 'transfer' && c.files === 250_000));
    assert.deepEqual(h.metrics.transfers.at(-1), { kind: 'download', bytes: 250_000, failed: true });
    await h.mgr.shutdown(0);
  });

  test('throttled transfers deliver every byte', async () => {
    const home = freshHome();
    const data = Buffer.alloc(96 * 1024, 7);
    writeFileSync(path.join(home, 'f'), data);
    const h = await connect(makeUser(home, { download_bandwidth: 256, upload_bandwidth: 256 }));
    assert.equal((await readAll(h.conn, '/f')).length, data.length);
    await writeFile(h.conn, '/g', data);
    assert.equal(readFileSync(path.join(home, 'g')).length, data.length);
    await h.mgr.shutdown(0);
  });
});

describe('bandwidth selection', () => {
  test('per-source limits override the user values', () => {
    const u = makeUser('/x', {
      upload_bandwidth: 10, download_bandwidth: 20,
      filters: { bandwidth_limits: [{ sources: ['10.0.0.0/8', '::1/128'], upload_bandwidth: 1, download_bandwidth: 2 }] },
    });
    assert.deepEqual(bandwidthFor(u, '10.1.2.3:4444'), { upload: 1, download: 2 });
    assert.deepEqual(bandwidthFor(u, '[::1]:22'), { upload: 1, download: 2 });
    assert.deepEqual(bandwidthFor(u, '192.168.0.1:22'), { upload: 10, download: 20 });
    assert.equal(ipFromAddr('garbage'), '');
  });
  test('FsError kinds stay FsError', () => assert.ok(new FsError('Aborted') instanceof Error));
});
