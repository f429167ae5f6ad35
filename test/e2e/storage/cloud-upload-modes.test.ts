/**
 * common.upload_mode 4/8/16 and common.resume_max_size on the object stores,
 * each against its real test service (s3rver, azurite, the GCS JSON-API test
 * server), through SFTP with real clients, checking what the bucket holds:
 * - OpenSSH `reput`: the object becomes the old bytes followed by the new
 *   ones (S3/Azure read back and rewritten, GCS composed) and the quota
 *   counts the file once at its final size;
 * - an object over resume_max_size: S3/Azure refuse the resume and keep the
 *   object; GCS composes at any size, as SFTPGo;
 * - an upload interrupted by the client (ssh2 session destroyed after its
 *   writes were acknowledged) is stored with the bytes received;
 * - an upload refused for quota still stores nothing, whatever the mode.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { EventSink, FsEventInput } from '../../../src/common/events';
import { azblobconfig, startAzurite } from '../../support/azurite';
import { until } from '../../support/daemon';
import { gcsconfig, startGcsServer } from '../../support/gcs-server';
import { s3config, startS3rver } from '../../support/s3rver';
import { startSftpServer, type TestSftpServer } from '../../support/server';
import { writeKeyPair, type TestKeyPair } from '../../support/sshkeys';
import { sftpSession } from './ssh2-session';
import { keyOpts, run } from '../sftpd/openssh';
import { azBlobOptions } from '../../../src/vfs/azblob/config';
import { AzBlobFs } from '../../../src/vfs/azblob/azblobfs';
import { s3Options } from '../../../src/vfs/s3/config';
import { S3Fs } from '../../../src/vfs/s3/s3fs';
import { directDeps, readerThrough } from '../../support/object-read';

const KB = 1024;
const RESUME_MAX = 512 * KB;

interface Row { name: string; provider: number; configKey: string; partSize: number; composes: boolean }

const ROWS: Row[] = [
  { name: 'S3', provider: 1, configKey: 's3config', partSize: 5, composes: false },
  { name: 'Azure Blob', provider: 3, configKey: 'azblobconfig', partSize: 1, composes: false },
  { name: 'GCS', provider: 2, configKey: 'gcsconfig', partSize: 1, composes: true },
];

/** An object's bytes at a key from the bucket root, undefined when there is none. */
type StoreReader = (key: string) => Promise<Buffer | undefined>;

/** `upload` actions as they happen: a test waits for the one of its path. */
function uploadEvents(): { sink: EventSink; next(vpath: string): Promise<FsEventInput> } {
  const seen: FsEventInput[] = [];
  const waiters: { vpath: string; resolve: (e: FsEventInput) => void }[] = [];
  return {
    sink: {
      wants: (a) => a === 'upload',
      pre: () => Promise.resolve(),
      notify: async (e) => {
        const i = waiters.findIndex((w) => w.vpath === e.virtualPath);
        if (i >= 0) waiters.splice(i, 1)[0].resolve(e); else seen.push(e);
      },
      drain: () => Promise.resolve(),
    },
    next: (vpath) => {
      const i = seen.findIndex((e) => e.virtualPath === vpath);
      if (i >= 0) return Promise.resolve(seen.splice(i, 1)[0]);
      return new Promise((resolve) => waiters.push({ vpath, resolve }));
    },
  };
}

describe('object stores: upload_mode 4/8/16 and resume_max_size over SFTP', () => {
  const stores: { stop(): Promise<void> }[] = [];
  const configs = new Map<string, (extra: Record<string, unknown>) => Record<string, unknown>>();
  const readers = new Map<string, StoreReader>();
  const events = uploadEvents();
  let srv: TestSftpServer;
  let key: TestKeyPair;
  let local: string;
  let previousEmulator: string | undefined;
  let gcsRequests: string[] = [];

  before(async () => {
    const s3 = await startS3rver();
    stores.push(s3);
    configs.set('S3', (extra) => s3config(s3, extra));
    const az = await startAzurite();
    stores.push(az);
    configs.set('Azure Blob', (extra) => azblobconfig(az, extra));
    const gcs = await startGcsServer();
    stores.push(gcs);
    previousEmulator = process.env.STORAGE_EMULATOR_HOST;
    process.env.STORAGE_EMULATOR_HOST = gcs.endpoint;
    gcsRequests = gcs.requests;
    configs.set('GCS', (extra) => gcsconfig(gcs, { acl: 'projectPrivate', ...extra }));
    readers.set('S3', readerThrough(() => new S3Fs(s3Options(s3config(s3)), directDeps)));
    readers.set('Azure Blob', readerThrough(() => new AzBlobFs(azBlobOptions(azblobconfig(az)), directDeps)));
    // the GCS test server's own map: the bytes it stores
    readers.set('GCS', async (k) => gcs.objects.get(k)?.data);
    srv = await startSftpServer({
      events: events.sink,
      // atomic uploads (bit 1) for local storage combined with keeping interrupted cloud uploads (4 + 8 + 16)
      configure: (cfg) => { cfg.common.upload_mode = 1 | 4 | 8 | 16; cfg.common.resume_max_size = RESUME_MAX; },
    });
    key = await writeKeyPair(srv.configDir, 'k', 'ed25519');
    local = path.join(srv.configDir, 'local');
    await fsp.mkdir(local, { recursive: true });
    for (const r of ROWS) {
      const config = configs.get(r.name) as (extra: Record<string, unknown>) => Record<string, unknown>;
      const fs = (prefix: string) => ({ provider: r.provider, [r.configKey]: config({ key_prefix: prefix, upload_part_size: r.partSize, upload_concurrency: 2 }) });
      // quota_size set: track_quota 2 counts users with a quota only
      await srv.createUser({ username: userOf(r), public_keys: [key.publicKey], quota_size: 100 * 1024 * KB, filesystem: fs(`${userOf(r)}/`) });
      await srv.createUser({ username: `tight-${userOf(r)}`, public_keys: [key.publicKey], quota_size: 100 * KB, filesystem: fs(`tight-${userOf(r)}/`) });
    }
  });
  after(async () => {
    await srv?.stop();
    for (const s of stores) await s.stop();
    if (previousEmulator === undefined) delete process.env.STORAGE_EMULATOR_HOST; else process.env.STORAGE_EMULATOR_HOST = previousEmulator;
  });

  function userOf(r: Row): string { return r.name.toLowerCase().replace(/[^a-z0-9]/g, ''); }
  const object = (r: Row, k: string): Promise<Buffer | undefined> => (readers.get(r.name) as StoreReader)(k);
  const sftpBatch = (user: string, batch: string) =>
    run('sftp', ['-P', String(srv.port), ...keyOpts(key.privateKeyPath), '-b', '-', `${user}@127.0.0.1`], { input: batch });
  const quotaOf = async (user: string): Promise<{ size: number; files: number }> => {
    const u = await srv.ctx.provider.getUser(user);
    return { size: u?.used_quota_size ?? -1, files: u?.used_quota_files ?? -1 };
  };

  for (const r of ROWS) {
    test(`${r.name}: OpenSSH reput of an object <= resume_max_size: old bytes then new ones, quota counted once`, async () => {
      const user = userOf(r);
      const full = randomBytes(RESUME_MAX + 300 * KB);
      // a head unlike the local file's: the object proves the stored bytes were read back, not re-sent
      const head = randomBytes(200 * KB);
      const expected = Buffer.concat([head, full.subarray(head.length)]);
      await fsp.writeFile(path.join(local, `${user}-full.bin`), full);
      await fsp.writeFile(path.join(local, `${user}-head.bin`), head);
      const put = await sftpBatch(user, `put ${path.join(local, `${user}-head.bin`)} /resume.bin`);
      assert.equal(put.status, 0, put.stderr);
      assert.ok((await object(r, `${user}/resume.bin`))?.equals(head));
      const reput = await sftpBatch(user, `reput ${path.join(local, `${user}-full.bin`)} /resume.bin`);
      assert.equal(reput.status, 0, reput.stderr);
      const stored = await object(r, `${user}/resume.bin`);
      assert.equal(stored?.length, expected.length);
      assert.ok(stored?.equals(expected), 'the object is the old bytes followed by the new ones');
      // CLOSE answers after the commit and the quota update: the file counts once, at its final size
      assert.deepEqual(await quotaOf(user), { size: expected.length, files: 1 });
      if (r.composes) {
        // the partial object of the compose is gone
        const names = await sftpBatch(user, 'ls -a /');
        assert.doesNotMatch(names.stdout, /sftpgo-partial/);
        // the compose is conditional on the generation read and keeps the configured ACL
        assert.ok(gcsRequests.some((q) => /\/compose\?.*ifGenerationMatch=\d+/.test(q) && q.includes('destinationPredefinedAcl=projectPrivate')), gcsRequests.filter((q) => q.includes('compose')).join('\n'));
      }
      const rm = await sftpBatch(user, 'rm /resume.bin');
      assert.equal(rm.status, 0, rm.stderr);
      assert.deepEqual(await quotaOf(user), { size: 0, files: 0 });
    });

    test(`${r.name}: an object over resume_max_size ${r.composes ? 'is still resumed (server-side compose, as SFTPGo)' : 'is not resumed and stays as it was'}`, async () => {
      const user = userOf(r);
      const big = randomBytes(RESUME_MAX + 1);
      const more = Buffer.concat([big, randomBytes(10 * KB)]);
      await fsp.writeFile(path.join(local, `${user}-big.bin`), big);
      await fsp.writeFile(path.join(local, `${user}-more.bin`), more);
      assert.equal((await sftpBatch(user, `put ${path.join(local, `${user}-big.bin`)} /big.bin`)).status, 0);
      const reput = await sftpBatch(user, `reput ${path.join(local, `${user}-more.bin`)} /big.bin`);
      if (r.composes) {
        assert.equal(reput.status, 0, reput.stderr);
        assert.ok((await object(r, `${user}/big.bin`))?.equals(more));
      } else {
        assert.notEqual(reput.status, 0, 'the resume is refused');
        assert.ok((await object(r, `${user}/big.bin`))?.equals(big), 'the object is unchanged');
      }
      assert.equal((await sftpBatch(user, 'rm /big.bin')).status, 0);
    });

    test(`${r.name}: an upload the client interrupts is stored with the bytes received (upload_mode bit)`, async () => {
      const user = userOf(r);
      const chunks = Array.from({ length: 24 }, () => randomBytes(64 * KB));
      const { conn, sftp } = await sftpSession(srv.port, user, await fsp.readFile(key.privateKeyPath));
      const handle = await new Promise<Buffer>((res, rej) => sftp.open('/partial.bin', 'w', (e, h) => (e ? rej(e) : res(h))));
      let offset = 0;
      for (const c of chunks) {
        // each write answered OK: the server holds these bytes
        await new Promise<void>((res, rej) => sftp.write(handle, c, 0, c.length, offset, (e) => (e ? rej(e) : res())));
        offset += c.length;
      }
      const done = events.next('/partial.bin');
      conn.on('error', () => undefined);
      conn.destroy();
      const ev = await done;
      assert.ok(ev.error, 'the upload is reported as failed (interrupted)');
      const stored = await object(r, `${user}/partial.bin`);
      assert.ok(stored?.equals(Buffer.concat(chunks)), `the ${offset} bytes received are the object (got ${stored?.length})`);
      await until('the quota update after the interrupted upload', async () => (await quotaOf(user)).size === offset);
      assert.deepEqual(await quotaOf(user), { size: offset, files: 1 });
      assert.equal((await sftpBatch(user, 'rm /partial.bin')).status, 0);
    });

    test(`${r.name}: an upload refused for quota stores nothing, even when the client then goes away`, async () => {
      const user = `tight-${userOf(r)}`;
      const { conn, sftp } = await sftpSession(srv.port, user, await fsp.readFile(key.privateKeyPath));
      const handle = await new Promise<Buffer>((res, rej) => sftp.open('/over.bin', 'w', (e, h) => (e ? rej(e) : res(h))));
      const chunk = randomBytes(32 * KB);
      let refused: Error | undefined;
      // bounded: the quota (100 KiB) refuses the fourth write at the latest
      for (let offset = 0; offset < 1024 * KB && !refused; offset += chunk.length) {
        refused = await new Promise<Error | undefined>((res) => sftp.write(handle, chunk, 0, chunk.length, offset, (e) => res(e ?? undefined)));
      }
      assert.ok(refused, 'a write is refused for quota');
      const done = events.next('/over.bin');
      conn.on('error', () => undefined);
      conn.destroy();
      const ev = await done;
      assert.ok(ev.error);
      assert.equal(await object(r, `${user}/over.bin`), undefined, 'nothing committed');
    });
  }
});
