/**
 * Jail escapes through the OpenSSH sftp binary: "..", absolute paths,
 * symlinks planted in the home (absolute and relative, as the last component
 * and in the middle of a path), renames, client-made symlinks and hard links,
 * and a virtual folder mapped outside the home. Every attempt must fail (or
 * stay inside) and nothing outside the home may be read or written: the
 * files outside carry known content and a fixed mtime that are checked after
 * every case, and no new name may appear there.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ProcResult } from '../sftpd/openssh';
import { assertOk, sftpCall, startEnv, type OpensshEnv } from './helpers';

const CANARY = 'canary: must never leave the server\n';
const SECRET = 'secret outside the home\n';
const FIXED = new Date('2000-01-01T00:00:00Z');

const exists = (p: string): Promise<boolean> => fsp.lstat(p).then(() => true, () => false);

/** Failed, with one of the messages OpenSSH prints for a refused or missing path. */
function assertRefused(r: ProcResult, what: string): void {
  assert.notEqual(r.status, 0, `${what} should fail; stdout: ${r.stdout}`);
  assert.match(r.stderr, /Permission denied|not found|No such file|Failure/, `${what}: ${r.stderr}`);
  assert.doesNotMatch(r.stdout + r.stderr, /canary: must never|secret outside|root:x:0:0/, `${what} leaked content`);
}

describe('OpenSSH sftp: the user cannot leave the jail', () => {
  let env: OpensshEnv;
  let home: string;
  let outside: string;
  let vfRoot: string;
  const h = (p: string): string => path.join(home, p);
  const sftp = (...cmds: string[]) => env.sftp('jailed', ...cmds);
  const local = (n: string): string => path.join(env.local, n);

  /**
   * `ls link` in OpenSSH prints just the name when the server refuses to stat
   * it (exit 0), so the check is: no entry of the target shows up, a glob
   * inside it fails, and the server refuses OPENDIR (seen through ssh2).
   */
  async function assertNotListable(p: string): Promise<void> {
    const plain = await sftp(`ls -la ${p}`);
    assert.doesNotMatch(plain.stdout, /passwd|canary\.txt|secret\.txt|inside\.txt|v\.txt/, `ls ${p} listed the target`);
    assertRefused(await sftp(`ls ${p}/*`), `ls ${p}/*`);
    const c = await env.ssh2('jailed');
    try {
      const err = await sftpCall((cb) => c.sftp.opendir(p, (e, handle) => {
        if (e) { cb(e); return; }
        c.sftp.close(handle, () => cb(undefined));
      }));
      assert.ok(err, `OPENDIR ${p} should be refused`);
      assert.match(err.message, /permission denied|no such file/i);
    } finally {
      c.end();
    }
  }

  /** Files outside the home: name → content; each also has mtime FIXED. */
  const guarded = (): Record<string, string> => ({
    [path.join(outside, 'canary.txt')]: CANARY,
    [path.join(outside, 'secret.txt')]: SECRET,
    [path.join(env.srv.configDir, 'vfesc.txt')]: CANARY,
  });

  before(async () => {
    env = await startEnv((c) => { c.common.symlink_mode = 1; });
    outside = path.join(env.srv.configDir, 'outside');
    vfRoot = path.join(env.srv.configDir, 'vfroot');
    await fsp.mkdir(outside, { recursive: true });
    await fsp.mkdir(vfRoot, { recursive: true });
    for (const [f, c] of Object.entries(guarded())) {
      await fsp.writeFile(f, c);
      await fsp.utimes(f, FIXED, FIXED);
    }
    await env.srv.createUser({
      username: 'jailed', public_keys: [env.key.publicKey],
      virtual_folders: [{ name: 'vf', mapped_path: vfRoot, virtual_path: '/vf', quota_size: -1, quota_files: -1 }],
    });
    home = env.srv.homeOf('jailed');
    await fsp.mkdir(h('sub'), { recursive: true });
    await fsp.writeFile(h('inside.txt'), 'inside\n');
    await fsp.writeFile(h('sub/f.txt'), 'sub file\n');
    await fsp.writeFile(h('r.txt'), 'rename me\n');
    await fsp.writeFile(path.join(vfRoot, 'v.txt'), 'in the folder\n');
    // planted by the test (not by the user): absolute and relative links leading out
    await fsp.symlink('/etc', h('etclink'));
    await fsp.symlink(outside, h('absout'));
    await fsp.symlink('../../outside', h('outlink'));
    await fsp.symlink(path.join(outside, 'canary.txt'), h('canarylink'));
    await fsp.symlink('../../../outside', h('sub/linkdir'));
    await fsp.symlink(home, path.join(vfRoot, 'tohome'));
    await fsp.symlink('../outside', path.join(vfRoot, 'toout'));
  });

  afterEach(async () => {
    for (const [f, c] of Object.entries(guarded())) {
      assert.equal(await fsp.readFile(f, 'utf8'), c, `${f} content changed`);
      assert.equal((await fsp.stat(f)).mtime.getTime(), FIXED.getTime(), `${f} was written`);
    }
    assert.deepEqual((await fsp.readdir(outside)).sort(), ['canary.txt', 'secret.txt'], 'nothing new outside');
    assert.deepEqual((await fsp.readdir(vfRoot)).sort(), ['toout', 'tohome', 'v.txt'].sort(), 'nothing new in the folder root');
  });
  after(async () => { await env?.stop(); });

  test('cd .. and ls .. stay at /', async () => {
    const r = await sftp('cd ..', 'pwd', 'cd ../../..', 'pwd', 'ls ..', 'ls -a /..');
    assertOk(r, 'cd/ls ..');
    assert.doesNotMatch(r.stdout, /Remote working directory: \/\S/);
    assert.match(r.stdout, /Remote working directory: \/\n/);
    assert.match(r.stdout, /inside\.txt/);
    assert.doesNotMatch(r.stdout, /homes|sftpgo\.log|vfroot/, 'the listing is the home, not its parent');
  });

  test('get ../../etc/passwd and get /../../../etc/passwd', async () => {
    for (const p of ['../../etc/passwd', '/../../../etc/passwd', '../../outside/canary.txt', '/sub/../../../outside/secret.txt']) {
      const dst = local('escaped');
      assertRefused(await sftp(`get ${p} ${dst}`), `get ${p}`);
      assert.equal(await exists(dst), false);
    }
  });

  test('symlinks planted in the home (absolute and relative) cannot be followed out', async () => {
    const dst = local('via-link');
    for (const p of ['/etclink/passwd', '/absout/canary.txt', '/outlink/canary.txt', '/canarylink', '/sub/linkdir/secret.txt']) {
      assertRefused(await sftp(`get ${p} ${dst}`), `get ${p}`);
      assert.equal(await exists(dst), false);
    }
    for (const p of ['/etclink', '/absout', '/outlink', '/sub/linkdir']) await assertNotListable(p);
    const src = local('up.txt');
    await fsp.writeFile(src, 'upload attempt\n');
    for (const p of ['/absout/new.txt', '/outlink/new.txt', '/sub/linkdir/new.txt', '/outlink/canary.txt']) {
      assertRefused(await sftp(`put ${src} ${p}`), `put ${p}`);
    }
  });

  test('a rename to ../x lands at /x; a rename into a link leading out is refused', async () => {
    assertOk(await sftp('cd /sub', 'rename f.txt ../../../x'), 'rename to ../x');
    assert.equal(await fsp.readFile(h('x'), 'utf8'), 'sub file\n');
    assert.equal(await exists(path.join(env.srv.configDir, 'x')), false);
    for (const p of ['/outlink/r.txt', '/absout/r.txt', '/sub/linkdir/r.txt']) {
      assertRefused(await sftp(`rename /r.txt ${p}`), `rename into ${p}`);
    }
    assert.equal(await fsp.readFile(h('r.txt'), 'utf8'), 'rename me\n');
  });

  test('client-made symlinks: an absolute target is a path in the home; one to the root is refused', async () => {
    const r = await sftp('symlink /etc/passwd p');
    assertOk(r, 'symlink /etc/passwd p');
    // the link points at <home>/etc/passwd, which does not exist
    assert.equal(path.resolve(home, await fsp.readlink(h('p'))), h('etc/passwd'));
    const dst = local('p-got');
    assertRefused(await sftp(`get p ${dst}`), 'get p');
    assert.equal(await exists(dst), false);
    assertRefused(await sftp('ln -s ../../.. up'), 'ln -s ../../.. up');
    await assertNotListable('/up');
    assert.equal(await exists(h('up')), false);
  });

  test('hard links to paths outside are refused', async () => {
    for (const [src, dst] of [['/../../outside/canary.txt', '/hl1'], ['/outlink/canary.txt', '/hl2'], ['/canarylink', '/hl3'], ['/etclink/passwd', '/hl4']] as const) {
      assertRefused(await sftp(`ln ${src} ${dst}`), `ln ${src}`);
      assert.equal(await exists(h(dst.slice(1))), false, `${dst} was created`);
    }
  });

  test('a virtual folder mapped outside the home cannot be escaped', async () => {
    const dst = local('vf-got');
    assertOk(await sftp(`get /vf/v.txt ${dst}`), 'get /vf/v.txt');
    assert.equal(await fsp.readFile(dst, 'utf8'), 'in the folder\n');
    await fsp.rm(dst);
    for (const p of ['/vf/../vfesc.txt', '/vf/../../vfesc.txt', '/vf/../../x', '/vf/tohome/inside.txt', '/vf/toout/canary.txt']) {
      const r = await sftp(`get ${p} ${dst}`);
      if (p === '/vf/../../x') {
        // cleans to /x, the file the rename test may have placed in the home: never the parent of the folder
        if (r.status === 0) assert.equal(await fsp.readFile(dst, 'utf8'), 'sub file\n');
        await fsp.rm(dst, { force: true });
        continue;
      }
      assertRefused(r, `get ${p}`);
      assert.equal(await exists(dst), false);
    }
    const cdUp = await sftp('cd /vf', 'cd ../..', 'pwd');
    assertOk(cdUp, 'cd out of the folder');
    assert.match(cdUp.stdout, /Remote working directory: \/\n/);
    for (const p of ['/vf/tohome', '/vf/toout']) await assertNotListable(p);
    const src = local('vf-up.txt');
    await fsp.writeFile(src, 'x');
    assertRefused(await sftp(`put ${src} /vf/toout/new.txt`), 'put through a folder link');
    assertRefused(await sftp(`put ${src} /vf/tohome/new.txt`), 'put through a folder link to the home');
    assert.equal(await exists(h('new.txt')), false);
  });
});
