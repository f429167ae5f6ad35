/**
 * Quota exceeded through FTP (STOR with basic-ftp), SFTP (WRITE with ssh2),
 * WebDAV (PUT with a Content-Length and chunked, with curl) and the user API
 * (raw POST /user/files/upload, sized and chunked, with fetch): FTP 552, SFTP
 * failure, WebDAV 507, HTTP 413, and no partial or temp file left (no object
 * in the bucket, container or HTTPFs directory), in atomic (upload_mode 1) and standard (0) mode,
 * for every storage profile (local home, home on S3, GCS or HTTPFs, virtual folder on Azure Blob).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { startCross, type CrossEnv } from './env';
import { addProfileUser, PROFILES, startPeers, type Peers, type TableStorage } from './profiles';
import { driverFor } from './drivers';

/**
 * SFTPGo removes what an upload wrote when it fails on quota, in every upload
 * mode ("upload denied due to space limit"): the rule lives in
 * common/transfer.ts, checked here through FTP, SFTP, WebDAV and HTTP in modes 1 and 0.
 */
const VARIANTS = [
  { proto: 'FTP', name: 'STOR', chunked: false },
  { proto: 'DAV', name: 'PUT with Content-Length', chunked: false },
  { proto: 'DAV', name: 'PUT chunked', chunked: true },
  { proto: 'SFTP', name: 'WRITE', chunked: false },
  { proto: 'HTTP', name: 'POST files/upload with Content-Length', chunked: false },
  { proto: 'HTTP', name: 'POST files/upload chunked', chunked: true },
] as const;

describe('FTP, SFTP, WebDAV and HTTP: quota exceeded', () => {
  let peers: Peers;
  before(async () => { peers = await startPeers(); });
  after(async () => { await peers?.stop(); });

  for (const mode of [1, 0] as const) {
    describe(`upload_mode ${mode}`, () => {
      let env: CrossEnv;
      before(async () => { env = await startCross((c) => { c.common.upload_mode = mode; }); });
      after(async () => { await env?.close(); });

      for (const profile of PROFILES) {
        describe(`profile ${profile}`, () => {
          let table: TableStorage;
          const user = `small-${mode}-${profile}`;
          before(async () => {
            table = await addProfileUser(env, peers, profile, { username: user, password: 'small-pass', quota_size: 1000, quota_files: 0 });
          });
          after(async () => { await table?.close(); });

          /** what the upload left: in the table's location (bucket/container keys or files) and, for a folder, in the local home */
          const leftovers = async (): Promise<string[]> => [
            ...await table.names(), ...(table.root ? fs.readdirSync(table.home).map((n) => `home:${n}`) : []),
          ];

          for (const v of VARIANTS) {
            const code = { FTP: 552, DAV: 507, SFTP: 4, HTTP: 413 }[v.proto];
            test(`${v.proto} ${v.name}: ${code}, nothing stored, quota unchanged`, async () => {
              await table.reset([], {});
              await env.ctx.provider.updateUserQuota(user, 0, 0, true);
              const d = driverFor(v.proto, env, user, 'small-pass');
              const r = await d.upload(`${table.root}/big.bin`, Buffer.alloc(300_000, 7), { chunked: v.chunked });
              assert.deepEqual(r.ok ? 'success' : r.code, d.quota, r.body.slice(0, 300));
              assert.deepEqual(await leftovers(), [], 'no partial or temp file or object');
              const u = await env.ctx.provider.getUser(user);
              assert.equal(u?.used_quota_size, 0);
              assert.equal(u?.used_quota_files, 0);
            });
            /**
             * over an existing file: where the old content survives a failed upload (the storage commits only at
             * close, or the upload is atomic) it is kept and still counted; else (local disk, upload_mode 0, the
             * file was truncated) the file is removed and no longer counted
             */
            test(`${v.proto} ${v.name} over an existing file: ${code}, old file and quota as the storage allows`, async () => {
              const old = 'x'.repeat(100);
              await table.reset([], { 'old.bin': old });
              await env.ctx.provider.updateUserQuota(user, 100, 1, true);
              const d = driverFor(v.proto, env, user, 'small-pass');
              const r = await d.upload(`${table.root}/old.bin`, Buffer.alloc(300_000, 7), { chunked: v.chunked });
              assert.deepEqual(r.ok ? 'success' : r.code, d.quota, r.body.slice(0, 300));
              const kept = table.features.commitOnClose || (mode === 1 && table.features.atomicRename);
              assert.deepEqual(await leftovers(), kept ? ['old.bin'] : [], 'nothing but the old file where it survives');
              if (kept) assert.equal(await table.read('old.bin'), old);
              const u = await env.ctx.provider.getUser(user);
              assert.deepEqual([u?.used_quota_size, u?.used_quota_files], kept ? [100, 1] : [0, 0], 'used quota');
            });
          }
        });
      }
    });
  }
});
