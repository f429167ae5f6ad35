/**
 * `put -p` through the OpenSSH client: it sends FSETSTAT (mode, times) on the
 * open handle before CLOSE. With atomic uploads (upload_mode 1, 2) the target
 * does not exist until close, so the attributes must reach the upload.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { assertOk, startEnv, type OpensshEnv } from './helpers';

for (const mode of [0, 1, 2]) {
  describe(`OpenSSH put -p / get -p with upload_mode ${mode}`, () => {
    let env: OpensshEnv;
    before(async () => {
      env = await startEnv((c) => { c.common.upload_mode = mode; });
      await env.srv.createUser({ username: 'pres', public_keys: [env.key.publicKey] });
    });
    after(async () => { await env?.stop(); });

    test('mode and mtime are kept, no temp file is left', async () => {
      const src = path.join(env.local, 'src.bin');
      const data = randomBytes(300 * 1024 + 7);
      await fsp.writeFile(src, data);
      await fsp.chmod(src, 0o640);
      const mtime = new Date('2003-04-05T06:07:08Z');
      await fsp.utimes(src, mtime, mtime);
      const r = await env.sftp('pres', `put -p ${src} /kept.bin`);
      assertOk(r, 'put -p');
      assert.doesNotMatch(r.stderr, /setstat/i);
      const home = env.srv.homeOf('pres');
      const st = await fsp.stat(path.join(home, 'kept.bin'));
      assert.equal(st.mode & 0o777, 0o640);
      assert.equal(st.mtime.getTime(), mtime.getTime());
      assert.ok((await fsp.readFile(path.join(home, 'kept.bin'))).equals(data));
      assert.deepEqual(await fsp.readdir(home), ['kept.bin']);

      // and back: get -p copies the server's attributes to the local file
      const back = path.join(env.local, 'back.bin');
      assertOk(await env.sftp('pres', `get -p /kept.bin ${back}`), 'get -p');
      const lst = await fsp.stat(back);
      assert.equal(lst.mode & 0o777, 0o640);
      assert.equal(lst.mtime.getTime(), mtime.getTime());
    });

    test('put -p over an existing file replaces content, mode and mtime', async () => {
      const home = env.srv.homeOf('pres');
      await fsp.writeFile(path.join(home, 'over.txt'), 'old content that is longer');
      const src = path.join(env.local, 'over.txt');
      await fsp.writeFile(src, 'new');
      await fsp.chmod(src, 0o600);
      const mtime = new Date('2010-01-01T00:00:00Z');
      await fsp.utimes(src, mtime, mtime);
      assertOk(await env.sftp('pres', `put -p ${src} /over.txt`), 'put -p over');
      const st = await fsp.stat(path.join(home, 'over.txt'));
      assert.equal(await fsp.readFile(path.join(home, 'over.txt'), 'utf8'), 'new');
      assert.equal(st.mode & 0o777, 0o600);
      assert.equal(st.mtime.getTime(), mtime.getTime());
    });
  });
}
