/**
 * Quota exceeded through FTP (STOR with basic-ftp), SFTP (WRITE with ssh2),
 * WebDAV (PUT with a Content-Length and chunked, with curl) and the user API
 * (raw POST /user/files/upload, sized and chunked, with fetch): FTP 552, SFTP
 * failure, WebDAV 507, HTTP 413, and no partial or temp file left, in atomic
 * (upload_mode 1) and standard (0) mode.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { startCross, type CrossEnv } from './env';
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

for (const mode of [1, 0] as const) {
  describe(`FTP, SFTP, WebDAV and HTTP: quota exceeded, upload_mode ${mode}`, () => {
    let env: CrossEnv;
    before(async () => {
      env = await startCross((c) => { c.common.upload_mode = mode; });
      await env.addUser({ username: 'small', password: 'small-pass', quota_size: 1000, quota_files: 0 });
    });
    after(async () => { await env?.close(); });

    for (const v of VARIANTS) {
      const code = { FTP: 552, DAV: 507, SFTP: 4, HTTP: 413 }[v.proto];
      test(`${v.proto} ${v.name}: ${code}`, async () => {
        const d = driverFor(v.proto, env, 'small', 'small-pass');
        const r = await d.upload('/big.bin', Buffer.alloc(300_000, 7), { chunked: v.chunked });
        assert.deepEqual(r.ok ? 'success' : r.code, d.quota);
        // the next case starts from an empty home whatever this one left
        fs.rmSync(env.homeOf('small'), { recursive: true, force: true });
        fs.mkdirSync(env.homeOf('small'));
        await env.ctx.provider.updateUserQuota('small', 0, 0, true);
      });
      test(`${v.proto} ${v.name}: no partial file, quota unchanged`, async () => {
        const d = driverFor(v.proto, env, 'small', 'small-pass');
        const r = await d.upload('/big.bin', Buffer.alloc(300_000, 7), { chunked: v.chunked });
        assert.equal(r.ok, false);
        const left = fs.readdirSync(env.homeOf('small'));
        fs.rmSync(env.homeOf('small'), { recursive: true, force: true });
        fs.mkdirSync(env.homeOf('small'));
        assert.deepEqual(left, [], 'no partial or temp file');
        const u = await env.ctx.provider.getUser('small');
        await env.ctx.provider.updateUserQuota('small', 0, 0, true);
        assert.equal(u?.used_quota_size, 0);
        assert.equal(u?.used_quota_files, 0);
      });
    }
  });
}
