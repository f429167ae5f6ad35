/**
 * setstat on a file this session is uploading (OpenSSH `put -p` sends FSETSTAT
 * before CLOSE): with atomic uploads the target does not exist yet, so mode
 * goes to the temp file, size truncates it and times are applied after commit.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { freshHomes, makeUser, PLAIN_UPLOAD } from './support';
import { connect, rejectsKind } from './helpers';

const W = PLAIN_UPLOAD;
const freshHome = freshHomes();

describe('setstat on an open upload', () => {
  for (const mode of [0, 1, 2]) {
    test(`upload_mode ${mode}: mode, size and times survive the commit`, async () => {
      const home = freshHome();
      const h = await connect(makeUser(home, { quota_files: 10 }), { upload_mode: mode });
      const up = await h.conn.openWrite('/f.txt', W);
      await up.writeAt(Buffer.from('0123456789'), 0);
      const mtime = new Date('2001-02-03T04:05:06Z');
      await h.conn.setStat('/f.txt', { mode: 0o640, atime: mtime, mtime });
      await h.conn.setStat('/f.txt', { size: 4 });
      if (mode !== 0) {
        assert.equal(existsSync(path.join(home, 'f.txt')), false, 'nothing at the target before close');
        const temp = readdirSync(home).find((f) => f !== 'f.txt');
        assert.ok(temp, 'the temp file exists');
        assert.equal(statSync(path.join(home, temp)).mode & 0o777, 0o640, 'chmod applied to the temp file');
      }
      await up.close();
      const st = statSync(path.join(home, 'f.txt'));
      assert.equal(st.mode & 0o777, 0o640);
      assert.equal(st.mtime.getTime(), mtime.getTime());
      assert.equal(readFileSync(path.join(home, 'f.txt'), 'utf8'), '0123');
      assert.deepEqual(readdirSync(home), ['f.txt'], 'no temp file left');
      const quota = h.provider.calls.filter((c) => c.fn === 'user');
      assert.deepEqual(quota, [{ fn: 'user', name: 'u1', size: 4, files: 1 }], 'quota from the truncated size');
      assert.ok(h.logger.commands.some((c) => c.sender === 'Chmod' && c.virtualPath === '/f.txt' && !c.error));
      await h.mgr.shutdown(0);
    });
  }

  test('permissions still apply to the upload: chmod/chtimes denied', async () => {
    const home = freshHome();
    const h = await connect(makeUser(home, { permissions: { '/': ['list', 'upload'] } }), { upload_mode: 1 });
    const up = await h.conn.openWrite('/g', W);
    await up.writeAt(Buffer.from('x'), 0);
    await rejectsKind(h.conn.setStat('/g', { mode: 0o600 }), 'PermissionDenied');
    await rejectsKind(h.conn.setStat('/g', { mtime: new Date(0), atime: new Date(0) }), 'PermissionDenied');
    await up.close();
    assert.notEqual(statSync(path.join(home, 'g')).mtime.getTime(), 0);
    await h.mgr.shutdown(0);
  });

  test('times are not applied when the upload is aborted (mode 2 keeps the partial file)', async () => {
    const home = freshHome();
    const h = await connect(makeUser(home), { upload_mode: 2 });
    const up = await h.conn.openWrite('/p', W);
    await up.writeAt(Buffer.from('part'), 0);
    await h.conn.setStat('/p', { mtime: new Date(0), atime: new Date(0) });
    await up.close(new Error('gone'));
    assert.equal(readFileSync(path.join(home, 'p'), 'utf8'), 'part');
    assert.notEqual(statSync(path.join(home, 'p')).mtime.getTime(), 0);
    // after close the path is no longer an upload: setstat goes to the file
    await h.conn.setStat('/p', { mtime: new Date(0), atime: new Date(0) });
    assert.equal(statSync(path.join(home, 'p')).mtime.getTime(), 0);
    await h.mgr.shutdown(0);
  });
});
