/**
 * Per-directory permissions through the OpenSSH sftp binary: every command is
 * run once where the permission is granted and once where it is not, one
 * sftp invocation per case, and the effect on disk is checked both ways.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { assertDenied, assertOk, sftpCall, startEnv, type OpensshEnv } from './helpers';

const PERMS: Record<string, string[]> = {
  '/': ['list', 'download'],
  '/up': ['list', 'upload'],
  '/ow': ['list', 'upload', 'overwrite'],
  '/del': ['list', 'delete_files'],
  '/deldirs': ['list', 'delete_dirs'],
  '/mk': ['list', 'create_dirs'],
  '/rn': ['list', 'rename_files'],
  '/rnd': ['list', 'rename_dirs'],
  '/ch': ['list', 'chmod'],
  '/own': ['list', 'chown'],
  '/times': ['list', 'chtimes'],
  '/sym': ['list', 'create_symlinks'],
  '/nolist': ['download'],
};

const exists = (p: string): Promise<boolean> => fsp.lstat(p).then(() => true, () => false);

describe('OpenSSH sftp: per-directory permissions', () => {
  let env: OpensshEnv;
  let home: string;
  const h = (p: string): string => path.join(home, p);
  const sftp = (...cmds: string[]) => env.sftp('perm', ...cmds);

  before(async () => {
    env = await startEnv((c) => { c.common.symlink_mode = 1; });
    await env.srv.createUser({ username: 'perm', public_keys: [env.key.publicKey], permissions: PERMS });
    home = env.srv.homeOf('perm');
    const files: Record<string, string> = {
      'file.txt': 'root file\n', 'up/existing.txt': 'up original\n', 'ow/existing.txt': 'ow original\n',
      'del/f.txt': 'x', 'del/keep.txt': 'x', 'deldirs/f.txt': 'x', 'rn/a.txt': 'a', 'rnd/f.txt': 'f',
      'ch/f.txt': 'c', 'own/f.txt': 'o', 'times/f.txt': 't', 'sym/f.txt': 's', 'nolist/f.txt': 'hidden dir file\n',
    };
    for (const d of ['up', 'ow', 'del/sub', 'deldirs/d', 'mk', 'rn/dir', 'rnd/dir', 'ch', 'own', 'times', 'sym', 'nolist']) {
      await fsp.mkdir(h(d), { recursive: true });
    }
    for (const [f, c] of Object.entries(files)) await fsp.writeFile(h(f), c);
  });
  after(async () => { await env?.stop(); });

  test('ls: allowed with list, refused without', async () => {
    const r = await sftp('ls /');
    assertOk(r, 'ls /');
    assert.match(r.stdout, /file\.txt/);
    assertOk(await sftp('ls /up'), 'ls /up');
    assertDenied(await sftp('ls /nolist'), 'ls /nolist');
  });

  test('get: needs download', async () => {
    const dst = path.join(env.local, 'got.txt');
    assertOk(await sftp(`get /file.txt ${dst}`), 'get /file.txt');
    assert.equal(await fsp.readFile(dst, 'utf8'), 'root file\n');
    const no = path.join(env.local, 'not-got.txt');
    assertDenied(await sftp(`get /up/existing.txt ${no}`), 'get without download');
    assert.equal(await exists(no), false);
    // OpenSSH globs (stats) the remote path first, which needs list on its
    // directory; the client reports the refused stat as "not found"
    const nl = await sftp(`get /nolist/f.txt ${no}`);
    assert.notEqual(nl.status, 0);
    assert.match(nl.stderr, /"\/nolist\/f\.txt" not found/);
    assert.equal(await exists(no), false);
  });

  test('put of a new file: needs upload', async () => {
    const src = path.join(env.local, 'new.txt');
    await fsp.writeFile(src, 'new file\n');
    assertOk(await sftp(`put ${src} /up/new.txt`), 'put into /up');
    assert.equal(await fsp.readFile(h('up/new.txt'), 'utf8'), 'new file\n');
    assertDenied(await sftp(`put ${src} /new.txt`), 'put into / (download only)');
    assertDenied(await sftp(`put ${src} /del/new.txt`), 'put into /del');
    assert.equal(await exists(h('new.txt')), false);
    assert.equal(await exists(h('del/new.txt')), false);
  });

  test('put over an existing file: needs overwrite', async () => {
    const src = path.join(env.local, 'replace.txt');
    await fsp.writeFile(src, 'replaced\n');
    assertDenied(await sftp(`put ${src} /up/existing.txt`), 'overwrite without permission');
    assert.equal(await fsp.readFile(h('up/existing.txt'), 'utf8'), 'up original\n');
    assertOk(await sftp(`put ${src} /ow/existing.txt`), 'overwrite in /ow');
    assert.equal(await fsp.readFile(h('ow/existing.txt'), 'utf8'), 'replaced\n');
  });

  test('rm: needs delete_files', async () => {
    assertOk(await sftp('rm /del/f.txt'), 'rm in /del');
    assert.equal(await exists(h('del/f.txt')), false);
    assertDenied(await sftp('rm /up/existing.txt'), 'rm in /up');
    assertDenied(await sftp('rm /deldirs/f.txt'), 'rm with delete_dirs only');
    assert.equal(await exists(h('deldirs/f.txt')), true);
  });

  test('rmdir: needs delete_dirs', async () => {
    assertOk(await sftp('rmdir /deldirs/d'), 'rmdir in /deldirs');
    assert.equal(await exists(h('deldirs/d')), false);
    assertDenied(await sftp('rmdir /del/sub'), 'rmdir with delete_files only');
    assert.equal(await exists(h('del/sub')), true);
  });

  test('mkdir: needs create_dirs', async () => {
    assertOk(await sftp('mkdir /mk/newdir'), 'mkdir in /mk');
    assert.ok((await fsp.stat(h('mk/newdir'))).isDirectory());
    assertDenied(await sftp('mkdir /up/newdir'), 'mkdir in /up');
    assert.equal(await exists(h('up/newdir')), false);
  });

  test('rename: rename_files for files, rename_dirs for directories', async () => {
    assertOk(await sftp('rename /rn/a.txt /rn/b.txt'), 'file rename in /rn');
    assert.equal(await fsp.readFile(h('rn/b.txt'), 'utf8'), 'a');
    assertDenied(await sftp('rename /rn/dir /rn/dir2'), 'dir rename with rename_files only');
    assert.equal(await exists(h('rn/dir')), true);
    assertOk(await sftp('rename /rnd/dir /rnd/dir2'), 'dir rename in /rnd');
    assert.ok((await fsp.stat(h('rnd/dir2'))).isDirectory());
    assertDenied(await sftp('rename /rnd/f.txt /rnd/g.txt'), 'file rename with rename_dirs only');
    assertDenied(await sftp('rename /up/existing.txt /up/moved.txt'), 'rename in /up');
    assertDenied(await sftp('rename /rn/b.txt /up/b.txt'), 'rename into a dir without rename permission');
    assert.equal(await exists(h('rn/b.txt')), true);
  });

  test('chmod: needs chmod', async () => {
    assertOk(await sftp('chmod 600 /ch/f.txt'), 'chmod in /ch');
    assert.equal((await fsp.stat(h('ch/f.txt'))).mode & 0o777, 0o600);
    const before = (await fsp.stat(h('up/existing.txt'))).mode & 0o777;
    assertDenied(await sftp('chmod 600 /up/existing.txt'), 'chmod in /up');
    assert.equal((await fsp.stat(h('up/existing.txt'))).mode & 0o777, before);
  });

  test('symlink: needs create_symlinks on link and target', async () => {
    assertOk(await sftp('symlink /sym/f.txt /sym/l'), 'symlink in /sym');
    // the backend stores the target relative to the link: resolve it on disk
    assert.equal(path.resolve(h('sym'), await fsp.readlink(h('sym/l'))), h('sym/f.txt'));
    assertDenied(await sftp('symlink /file.txt /up/l'), 'symlink in /up');
    assertDenied(await sftp('symlink /file.txt /sym/l2'), 'symlink to a target without create_symlinks');
    assert.equal(await exists(h('up/l')), false);
    assert.equal(await exists(h('sym/l2')), false);
  });

  test('ln (hard link): download on the source, upload+overwrite on its dir, upload where the link goes', async () => {
    // the allowed case (all three rights present) is in hardlinks.test.ts
    assertDenied(await sftp('ln /file.txt /ow/hl.txt'), 'hard link of a file in a dir without upload+overwrite');
    assertDenied(await sftp('ln /ow/existing.txt /ow/hl.txt'), 'hard link of a file without download');
    assert.equal(await exists(h('ow/hl.txt')), false);
    assertDenied(await sftp('ln /up/existing.txt /up/hl.txt'), 'hard link of a file without download');
    assertDenied(await sftp('ln /file.txt /del/hl.txt'), 'hard link into a dir without upload');
    assert.equal(await exists(h('up/hl.txt')), false);
    assert.equal(await exists(h('del/hl.txt')), false);
  });

  test('df: statvfs works', async () => {
    const r = await sftp('df /');
    assertOk(r, 'df');
    assert.match(r.stdout, /Size\s+Used\s+Avail/);
  });

  test('reget: needs download; reput: needs upload and overwrite', async () => {
    const part = path.join(env.local, 'part.txt');
    await fsp.writeFile(part, 'root ');
    assertOk(await sftp(`reget /file.txt ${part}`), 'reget /file.txt');
    assert.equal(await fsp.readFile(part, 'utf8'), 'root file\n');
    const part2 = path.join(env.local, 'part2.txt');
    await fsp.writeFile(part2, 'up ');
    assertDenied(await sftp(`reget /up/existing.txt ${part2}`), 'reget without download');
    assert.equal(await fsp.readFile(part2, 'utf8'), 'up ');

    await fsp.writeFile(h('ow/resume.txt'), 'first half ');
    await fsp.writeFile(h('up/resume.txt'), 'first half ');
    const full = path.join(env.local, 'full.txt');
    await fsp.writeFile(full, 'first half second half\n');
    assertOk(await sftp(`reput ${full} /ow/resume.txt`), 'reput in /ow');
    assert.equal(await fsp.readFile(h('ow/resume.txt'), 'utf8'), 'first half second half\n');
    assertDenied(await sftp(`reput ${full} /up/resume.txt`), 'reput without overwrite');
    assert.equal(await fsp.readFile(h('up/resume.txt'), 'utf8'), 'first half ');
  });

  test('ssh2: chown needs chown, chtimes needs chtimes', async () => {
    const c = await env.ssh2('perm');
    try {
      const uid = process.getuid?.() ?? 0;
      const gid = process.getgid?.() ?? 0;
      assert.equal(await sftpCall((cb) => c.sftp.setstat('/own/f.txt', { uid, gid }, cb)), undefined, 'chown in /own');
      const denied = await sftpCall((cb) => c.sftp.setstat('/ch/f.txt', { uid, gid }, cb));
      assert.match(String(denied?.message), /Permission denied/i, 'chown in /ch');
      const t = new Date('2005-06-07T08:09:10Z');
      assert.equal(await sftpCall((cb) => c.sftp.utimes('/times/f.txt', t, t, cb)), undefined, 'chtimes in /times');
      assert.equal((await fsp.stat(h('times/f.txt'))).mtime.getTime(), t.getTime());
      const before = (await fsp.stat(h('ch/f.txt'))).mtime.getTime();
      const noTimes = await sftpCall((cb) => c.sftp.utimes('/ch/f.txt', t, t, cb));
      assert.match(String(noTimes?.message), /Permission denied/i, 'chtimes in /ch');
      assert.equal((await fsp.stat(h('ch/f.txt'))).mtime.getTime(), before);
      // a file in a dir without list: a direct open+read works when download is granted
      const data = await new Promise<Buffer>((resolve, reject) => {
        c.sftp.open('/nolist/f.txt', 'r', (err, handle) => {
          if (err) { reject(err); return; }
          c.sftp.read(handle, Buffer.alloc(64), 0, 64, 0, (rerr, n, buf) => {
            c.sftp.close(handle, () => (rerr ? reject(rerr) : resolve(buf.subarray(0, n))));
          });
        });
      });
      assert.equal(data.toString(), 'hidden dir file\n');
    } finally {
      c.end();
    }
  });
});
