/**
 * common.upload_mode (bits 1/2 local atomic modes, 4/8/16 keep interrupted
 * uploads on S3/GCS/Azure) and common.resume_max_size load from sftpgo.json
 * and from SFTPGO_COMMON__UPLOAD_MODE / SFTPGO_COMMON__RESUME_MAX_SIZE;
 * what SFTPGo cannot decode (not an integer) and negative values are
 * refused in one line naming the key.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config';

function tmpDir(t: { after: (fn: () => void) => void }): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sftpgo-cfg-modes-'));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

test('upload_mode 4/8/16 (with 1 or 2) and resume_max_size load from sftpgo.json and from the environment', (t) => {
  const dir = tmpDir(t);
  fs.writeFileSync(path.join(dir, 'sftpgo.json'), JSON.stringify({ common: { upload_mode: 1 | 4 | 8 | 16, resume_max_size: 1048576 } }));
  const c = loadConfig({ configDir: dir, env: {} });
  assert.equal(c.common.upload_mode, 29);
  assert.equal(c.common.resume_max_size, 1048576);
  const e = loadConfig({ configDir: tmpDir(t), env: { SFTPGO_COMMON__UPLOAD_MODE: '22', SFTPGO_COMMON__RESUME_MAX_SIZE: '5242880' } });
  assert.equal(e.common.upload_mode, 2 | 4 | 16);
  assert.equal(e.common.resume_max_size, 5242880);
});

test('values that are not non-negative integers are refused naming the key', (t) => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ SFTPGO_COMMON__UPLOAD_MODE: 'atomic' }, /common\.upload_mode/],
    [{ SFTPGO_COMMON__UPLOAD_MODE: '-4' }, /common\.upload_mode/],
    [{ SFTPGO_COMMON__RESUME_MAX_SIZE: '1MB' }, /common\.resume_max_size/],
    [{ SFTPGO_COMMON__RESUME_MAX_SIZE: '-1' }, /common\.resume_max_size/],
  ];
  for (const [env, re] of cases) {
    assert.throws(() => loadConfig({ configDir: tmpDir(t), env }), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, re);
      assert.ok(!err.message.includes('\n'), 'one line');
      return true;
    }, JSON.stringify(env));
  }
  const dir = tmpDir(t);
  fs.writeFileSync(path.join(dir, 'sftpgo.json'), '{"common": {"resume_max_size": 1.5}}');
  assert.throws(() => loadConfig({ configDir: dir, env: {} }), /common\.resume_max_size/);
});
