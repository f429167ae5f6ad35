import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, symlinkSync, existsSync, readFileSync, statSync, readlinkSync } from 'node:fs';
import * as path from 'node:path';
import type { User } from '../../../src/dataprovider/models';
import { tempDir, makeUser } from './support';
import { connect, rejectsKind, writeFile, readAll, listNames, type Harness } from './helpers';

describe('Connection: jail and virtual folders', () => {
  const t = tempDir();
  const home = path.join(t.dir, 'home');
  const outside = path.join(t.dir, 'outside');
  const folder = path.join(t.dir, 'folder');
  let h: Harness;
  let user: User;

  before(async () => {
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'secret.txt'), 'secret');
    mkdirSync(path.join(folder, 'inner'), { recursive: true });
    user = makeUser(home, {
      virtual_folders: [
        { name: 'vf', mapped_path: folder, virtual_path: '/vf', quota_size: 1000, quota_files: 10 },
        { name: 'deep', mapped_path: path.join(t.dir, 'deepf'), virtual_path: '/a/b/deep', quota_size: -1, quota_files: -1 },
      ],
    });
    h = await connect(user, { symlink_mode: 1 });
    mkdirSync(path.join(home, 'dir'));
    symlinkSync('/etc', path.join(home, 'etc-link'));
    symlinkSync('../outside', path.join(home, 'out-link'));
  });
  after(async () => { await h.mgr.shutdown(0); t.cleanup(); });

  test('".." never leaves the virtual root', async () => {
    const p = h.conn.cleanPath('../../outside/secret.txt', '/dir');
    assert.equal(p, '/outside/secret.txt');
    await rejectsKind(h.conn.stat(p), 'NotFound');
  });

  test('absolute and relative escaping symlinks are refused', async () => {
    await rejectsKind(h.conn.openRead('/etc-link/passwd'), 'PermissionDenied');
    await rejectsKind(h.conn.openRead('/out-link/secret.txt'), 'PermissionDenied');
    await rejectsKind(h.conn.openWrite('/out-link/x', { truncate: true, append: false, exclusive: false, read: false, offset: 0 }), 'PermissionDenied');
    await rejectsKind(h.conn.rename('/dir', '/out-link/dir'), 'PermissionDenied');
    await rejectsKind(h.conn.removeFile('/out-link/secret.txt'), 'PermissionDenied');
    await rejectsKind(h.conn.readlink('/etc-link'), 'PermissionDenied');
    assert.equal(readFileSync(path.join(outside, 'secret.txt'), 'utf8'), 'secret');
    assert.equal(existsSync(path.join(outside, 'x')), false);
  });

  test('symlink creation: targets stay inside, relative targets are resolved from the link dir', async () => {
    await writeFile(h.conn, '/dir/target.txt', 'T');
    await h.conn.symlink('target.txt', '/dir/l1');
    assert.equal(readlinkSync(path.join(home, 'dir', 'l1')), 'target.txt');
    assert.equal(await h.conn.readlink('/dir/l1'), '/dir/target.txt');
    // "../../etc/passwd" from /dir is cleaned to /etc/passwd inside the user's root
    await h.conn.symlink('../../../etc/passwd', '/dir/l2');
    assert.equal(path.resolve(path.join(home, 'dir'), readlinkSync(path.join(home, 'dir', 'l2'))), path.join(home, 'etc', 'passwd'));
    await rejectsKind(h.conn.symlink('/dir/target.txt', '/out-link/l3'), 'PermissionDenied');
    assert.equal(existsSync(path.join(outside, 'l3')), false);
    // across virtual folders: refused
    await rejectsKind(h.conn.symlink('/vf/inner', '/dir/l4'), 'PermissionDenied');
    const cmd = h.logger.commands.find((c) => c.sender === 'Symlink' && c.virtualTargetPath === '/dir/l1');
    assert.ok(cmd);
    assert.equal(cmd.virtualPath, '/dir/target.txt');
  });

  test('a relative link moved to a shallower dir that now points outside is refused', async () => {
    mkdirSync(path.join(home, 'm', 'n'), { recursive: true });
    await writeFile(h.conn, '/x.txt', 'x');
    await h.conn.symlink('/x.txt', '/m/n/l');
    assert.equal(readlinkSync(path.join(home, 'm', 'n', 'l')), '../../x.txt');
    await h.conn.rename('/m/n/l', '/l');
    // "../../x.txt" from the home dir resolves outside it now
    await rejectsKind(h.conn.stat('/l'), 'PermissionDenied');
    await rejectsKind(h.conn.openRead('/l'), 'PermissionDenied');
    await rejectsKind(h.conn.readlink('/l'), 'PermissionDenied');
  });

  test('a link inside a virtual folder cannot reach the home dir or the folder\'s parent', async () => {
    symlinkSync('../home', path.join(folder, 'to-home'));
    await rejectsKind(h.conn.stat('/vf/to-home'), 'PermissionDenied');
    await rejectsKind(h.conn.openRead('/vf/to-home/dir/target.txt'), 'PermissionDenied');
  });

  test('virtual folders are listed, resolve to their mapped path and cannot be removed or renamed', async () => {
    const names = await listNames(h.conn, '/');
    for (const n of ['a', 'dir', 'vf']) assert.ok(names.includes(n), `missing ${n} in ${names.join(',')}`);
    assert.deepEqual(await listNames(h.conn, '/a'), ['b']);
    assert.equal((await h.conn.stat('/a/b')).isDirectory, true);
    await writeFile(h.conn, '/vf/inner/f.txt', 'folder data');
    assert.equal(readFileSync(path.join(folder, 'inner', 'f.txt'), 'utf8'), 'folder data');
    await rejectsKind(h.conn.removeDir('/vf'), 'PermissionDenied');
    await rejectsKind(h.conn.rename('/vf', '/vf2'), 'PermissionDenied');
    await rejectsKind(h.conn.rename('/dir', '/vf'), 'PermissionDenied');
    await rejectsKind(h.conn.removeDir('/a'), 'PermissionDenied');
    await rejectsKind(h.conn.mkdir('/vf'), 'PermissionDenied');
    // ".." inside a folder cannot climb into the home's real dir
    await rejectsKind(h.conn.stat(h.conn.cleanPath('/vf/../../folder')), 'NotFound');
  });

  test('a file moved across virtual folders is copied then deleted, with quota moved', async () => {
    await writeFile(h.conn, '/dir/move.txt', '12345');
    h.provider.calls = [];
    await h.conn.rename('/dir/move.txt', '/vf/move.txt');
    assert.equal(existsSync(path.join(home, 'dir', 'move.txt')), false);
    assert.equal(readFileSync(path.join(folder, 'move.txt'), 'utf8'), '12345');
    assert.deepEqual(h.provider.calls.filter((c) => c.fn === 'folder'), [{ fn: 'folder', name: 'vf', size: 5, files: 1 }]);
    await rejectsKind(h.conn.rename('/dir', '/vf/dir'), 'Unsupported');
  });
});

describe('Connection: permissions and SFTPGo rename rules', () => {
  const t = tempDir();
  const home = path.join(t.dir, 'home');
  let h: Harness;

  before(async () => {
    h = await connect(makeUser(home, {
      permissions: {
        '/': ['list', 'download', 'upload', 'create_dirs', 'rename', 'delete'],
        '/ow': ['*'],
        '/ro': ['list', 'download'],
        '/rf': ['list', 'upload', 'rename_files'],
      },
      quota_size: 0, quota_files: 100,
    }));
    for (const d of ['ow', 'ro', 'rf', 'x']) mkdirSync(path.join(home, d));
  });
  after(async () => { await h.mgr.shutdown(0); t.cleanup(); });

  test('same source and target → Unsupported', async () => {
    await writeFile(h.conn, '/a.txt', 'a');
    await rejectsKind(h.conn.rename('/a.txt', '/a.txt'), 'Unsupported');
  });

  test('overwriting an existing file needs overwrite on the target dir', async () => {
    await writeFile(h.conn, '/b.txt', 'b');
    await rejectsKind(h.conn.rename('/a.txt', '/b.txt'), 'PermissionDenied');
    await writeFile(h.conn, '/ow/b.txt', 'old');
    await writeFile(h.conn, '/ow/a.txt', 'new');
    await h.conn.rename('/ow/a.txt', '/ow/b.txt');
    assert.equal(readFileSync(path.join(home, 'ow', 'b.txt'), 'utf8'), 'new');
  });

  test('renaming onto an existing directory → Unsupported', async () => {
    await rejectsKind(h.conn.rename('/ow/b.txt', '/x'), 'Unsupported');
  });

  test('rename_files allows files but not directories; read-only dirs refuse', async () => {
    await writeFile(h.conn, '/rf/f', 'f');
    await h.conn.rename('/rf/f', '/rf/g');
    await h.conn.mkdir('/rf/sub').catch(() => undefined);
    mkdirSync(path.join(home, 'rf', 'd'));
    await rejectsKind(h.conn.rename('/rf/d', '/rf/e'), 'PermissionDenied');
    await rejectsKind(h.conn.rename('/a.txt', '/ro/a.txt'), 'PermissionDenied');
    await rejectsKind(h.conn.mkdir('/ro/new'), 'PermissionDenied');
    await rejectsKind(h.conn.openWrite('/ro/new', { truncate: true, append: false, exclusive: false, read: false, offset: 0 }), 'PermissionDenied');
    await rejectsKind(h.conn.removeFile('/ro/whatever'), 'PermissionDenied');
    const rename = h.logger.commands.find((c) => c.sender === 'Rename' && c.virtualPath === '/rf/f');
    assert.ok(rename);
    assert.equal(rename.virtualTargetPath, '/rf/g');
    assert.equal(rename.error, undefined);
  });

  test('a dir whose subtree has stricter permissions cannot be renamed wholesale', async () => {
    mkdirSync(path.join(home, 'tree', 'ro'), { recursive: true });
    writeFileSync(path.join(home, 'tree', 'ro', 'f'), 'x');
    await h.conn.rename('/tree', '/tree2');
    assert.equal(existsSync(path.join(home, 'tree2', 'ro', 'f')), true);
    // /ro has list+download only: moving a dir out of it is not allowed
    mkdirSync(path.join(home, 'ro', 'inner'));
    await rejectsKind(h.conn.rename('/ro/inner', '/inner'), 'PermissionDenied');
  });

  test('removing a file decrements the used quota', async () => {
    await writeFile(h.conn, '/q.txt', '1234567');
    h.provider.calls = [];
    await h.conn.removeFile('/q.txt');
    assert.deepEqual(h.provider.calls, [{ fn: 'user', name: 'u1', size: -7, files: -1 }]);
    const cmd = h.logger.commands.at(-1);
    assert.equal(cmd?.sender, 'Remove');
    assert.equal(cmd?.filePath, path.join(home, 'q.txt'));
  });

  test('symlink creation is disabled by default (symlink_mode 0)', async () => {
    await rejectsKind(h.conn.symlink('/a.txt', '/l'), 'PermissionDenied');
  });

  test('hard links: upload on the new name\'s dir, download+upload+overwrite on the source\'s, counted in the quota', async () => {
    // "/" grants upload but not overwrite: its files cannot get a second name
    await rejectsKind(h.conn.link('/a.txt', '/ow/hl'), 'PermissionDenied');
    await writeFile(h.conn, '/ow/a.txt', 'a');
    h.provider.calls = [];
    await h.conn.link('/ow/a.txt', '/hl');
    assert.equal(statSync(path.join(home, 'hl')).ino, statSync(path.join(home, 'ow/a.txt')).ino);
    assert.deepEqual(h.provider.calls, [{ fn: 'user', name: 'u1', size: 1, files: 1 }]);
    assert.equal(h.logger.commands.at(-1)?.sender, 'Link');
    // /ro has no upload: no new name there; a directory cannot be linked; the target must not exist
    await rejectsKind(h.conn.link('/ow/a.txt', '/ro/hl'), 'PermissionDenied');
    mkdirSync(path.join(home, 'ow', 'dir'));
    await rejectsKind(h.conn.link('/ow/dir', '/xl'), 'PermissionDenied');
    await rejectsKind(h.conn.link('/ow/a.txt', '/hl'), 'AlreadyExists');
    await rejectsKind(h.conn.link('/ow/missing', '/hl2'), 'NotFound');
  });
});

describe('Connection: filters, setstat, statvfs, umask, checksum', () => {
  const t = tempDir();
  const home = path.join(t.dir, 'home');
  let h: Harness;

  before(async () => {
    h = await connect(makeUser(home, {
      quota_size: 40960, quota_files: 10,
      permissions: { '/': ['list', 'download', 'upload', 'overwrite', 'create_dirs', 'delete', 'chtimes'] },
      filters: { file_patterns: [{ path: '/', denied_patterns: ['*.secret', 'hidden*'], deny_policy: 1 }, { path: '/vis', denied_patterns: ['*.exe'] }] },
    }), { umask: '077' });
    mkdirSync(path.join(home, 'vis'));
    writeFileSync(path.join(home, 'a.secret'), 's');
    writeFileSync(path.join(home, 'shown'), 'ok');
    writeFileSync(path.join(home, 'vis', 'v.exe'), 'x');
  });
  after(async () => { await h.mgr.shutdown(0); t.cleanup(); });

  test('deny_policy 1 hides entries and answers NotFound; policy 0 shows but denies', async () => {
    const names = await listNames(h.conn, '/');
    assert.ok(!names.includes('a.secret'));
    assert.ok(names.includes('shown'));
    await rejectsKind(h.conn.stat('/a.secret'), 'NotFound');
    await rejectsKind(h.conn.openRead('/a.secret'), 'NotFound');
    await rejectsKind(h.conn.openWrite('/b.secret', { truncate: true, append: false, exclusive: false, read: false, offset: 0 }), 'PermissionDenied');
    assert.deepEqual(await listNames(h.conn, '/vis'), ['v.exe']);
    await rejectsKind(h.conn.openRead('/vis/v.exe'), 'PermissionDenied');
  });

  test('setstat: chmod needs chmod perm; setstat_mode 1 ignores; chtimes logged', async () => {
    await rejectsKind(h.conn.setStat('/shown', { mode: 0o600 }), 'PermissionDenied');
    const mtime = new Date('2020-01-02T03:04:05Z');
    await h.conn.setStat('/shown', { mtime, atime: mtime });
    assert.equal(statSync(path.join(home, 'shown')).mtime.getTime(), mtime.getTime());
    assert.equal(h.logger.commands.at(-1)?.sender, 'Chtimes');
    const ignoring = await connect(makeUser(home, { permissions: { '/': ['list'] } }), { setstat_mode: 1 });
    await ignoring.conn.setStat('/shown', { mode: 0o600 });
    assert.notEqual(statSync(path.join(home, 'shown')).mode & 0o777, 0o600);
    await ignoring.mgr.shutdown(0);
  });

  test('truncate through setstat needs overwrite and updates the quota', async () => {
    writeFileSync(path.join(home, 'trunc'), '0123456789');
    h.provider.calls = [];
    await h.conn.setStat('/trunc', { size: 4 });
    assert.equal(readFileSync(path.join(home, 'trunc'), 'utf8'), '0123');
    assert.deepEqual(h.provider.calls, [{ fn: 'user', name: 'u1', size: -6, files: 0 }]);
    assert.equal(h.logger.commands.at(-1)?.sender, 'Truncate');
    assert.equal(h.logger.commands.at(-1)?.size, 4);
  });

  test('umask applies to created files and dirs', async () => {
    await h.conn.mkdir('/newdir');
    assert.equal(statSync(path.join(home, 'newdir')).mode & 0o777, 0o700);
    await writeFile(h.conn, '/newdir/f', 'x');
    assert.equal(statSync(path.join(home, 'newdir', 'f')).mode & 0o777, 0o600);
  });

  test('statvfs answers from the quota', async () => {
    const used = h.provider.users.get('u1')?.used_quota_size ?? 0;
    const s = await h.conn.statvfs('/');
    assert.equal(s.bsize, 4096);
    assert.equal(s.blocks, 10);
    assert.equal(s.bfree, Math.floor((40960 - used) / 4096));
    assert.equal(s.files, 10);
  });

  test('checksum of a range and of the whole file', async () => {
    await writeFile(h.conn, '/sum', 'hello world');
    assert.equal((await h.conn.checksum('/sum', 'md5')).toString('hex'), '5eb63bbbe01eeed093cb22bb8f5acdc3');
    assert.equal((await h.conn.checksum('/sum', 'sha256', 0, 5)).toString('hex'), '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    assert.equal(await readAll(h.conn, '/sum'), 'hello world');
  });
});
