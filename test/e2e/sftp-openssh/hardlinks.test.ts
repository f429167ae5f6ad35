/**
 * Hard links and directory permissions, through the OpenSSH sftp binary. The
 * rule (README "Hard links"): creating a link needs upload+overwrite on the
 * source's directory (plus download on the source and upload where the link
 * goes), and no upload, overwrite, resume or truncate ever writes through a
 * file with more than one link: an overwrite replaces the directory entry, a
 * resume or truncate is refused. Both directions are tested: links the user
 * tries to make, and links that already exist on disk (planted by the test).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { assertDenied, assertOk, sftpCall, startEnv, type OpensshEnv } from './helpers';

const PERMS: Record<string, string[]> = {
  '/': ['list', 'download'],
  '/ow': ['*'],
  '/rw': ['*'],
  '/vf': ['list', 'download'],
  '/vf/open': ['*'],
};

describe('OpenSSH sftp: hard links never widen write rights', () => {
  let env: OpensshEnv;
  let home: string;
  let vfRoot: string;
  const h = (p: string): string => path.join(home, p);
  const sftp = (...cmds: string[]) => env.sftp('hl', ...cmds);
  const ino = async (p: string): Promise<number> => (await fsp.stat(p)).ino;

  before(async () => {
    env = await startEnv();
    vfRoot = path.join(env.srv.configDir, 'shared');
    await fsp.mkdir(path.join(vfRoot, 'open'), { recursive: true });
    await fsp.writeFile(path.join(vfRoot, 'shared.txt'), 'shared read-only\n');
    await env.srv.createUser({
      username: 'hl', public_keys: [env.key.publicKey], permissions: PERMS,
      virtual_folders: [{ name: 'shared', mapped_path: vfRoot, virtual_path: '/vf', quota_size: -1, quota_files: -1 }],
    });
    home = env.srv.homeOf('hl');
    await fsp.mkdir(h('ow'), { recursive: true });
    await fsp.mkdir(h('rw'), { recursive: true });
    await fsp.writeFile(h('file.txt'), 'root file\n');
    await fsp.writeFile(h('rw/mine.txt'), 'mine\n');
  });
  after(async () => { await env?.stop(); });

  test('the issue: ln from a read-only dir into a writable one is refused, the source is never rewritten', async () => {
    assertDenied(await sftp('ln /file.txt /ow/x'), 'ln /file.txt /ow/x');
    const evil = path.join(env.local, 'evil');
    await fsp.writeFile(evil, 'evil\n');
    assertOk(await sftp(`put ${evil} /ow/x`), 'put to the name that is not a link');
    assert.equal(await fsp.readFile(h('file.txt'), 'utf8'), 'root file\n');
  });

  test('same from a read-only virtual folder into its writable subdir', async () => {
    assertDenied(await sftp('ln /vf/shared.txt /vf/open/x'), 'ln out of the read-only folder');
    assert.equal(await fsp.lstat(path.join(vfRoot, 'open/x')).then(() => true, () => false), false);
    assert.equal(await fsp.readFile(path.join(vfRoot, 'shared.txt'), 'utf8'), 'shared read-only\n');
  });

  test('a link between dirs with write rights is allowed and the other name keeps its content on overwrite', async () => {
    assertOk(await sftp('ln /rw/mine.txt /ow/mine-link'), 'ln between writable dirs');
    assert.equal(await ino(h('ow/mine-link')), await ino(h('rw/mine.txt')));
    const next = path.join(env.local, 'next');
    await fsp.writeFile(next, 'new content\n');
    assertOk(await sftp(`put ${next} /ow/mine-link`), 'overwrite of a linked name');
    assert.equal(await fsp.readFile(h('ow/mine-link'), 'utf8'), 'new content\n');
    assert.equal(await fsp.readFile(h('rw/mine.txt'), 'utf8'), 'mine\n');
    assert.notEqual(await ino(h('ow/mine-link')), await ino(h('rw/mine.txt')));
  });

  test('a link planted on disk: put replaces the entry, reput and truncate are refused', async () => {
    // the other direction: the link exists already (made by an admin or another account)
    await fsp.link(h('file.txt'), h('ow/planted'));
    const evil = path.join(env.local, 'evil2');
    await fsp.writeFile(evil, 'root file\nappended\n');
    assertDenied(await sftp(`reput ${evil} /ow/planted`), 'reput through a link');
    assert.equal(await fsp.readFile(h('file.txt'), 'utf8'), 'root file\n');
    const s = await env.ssh2('hl');
    try {
      const err = await sftpCall((cb) => s.sftp.setstat('/ow/planted', { size: 0 }, cb));
      assert.equal(err?.code, 3, `truncate through a link must be refused: ${String(err)}`);
    } finally {
      s.end();
    }
    assert.equal(await fsp.readFile(h('file.txt'), 'utf8'), 'root file\n');
    assertOk(await sftp(`put ${evil} /ow/planted`), 'put over the planted link');
    assert.equal(await fsp.readFile(h('ow/planted'), 'utf8'), 'root file\nappended\n');
    assert.equal(await fsp.readFile(h('file.txt'), 'utf8'), 'root file\n');
  });
});
