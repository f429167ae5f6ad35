import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, readFileSync, existsSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { tempDir, makeUser } from './support';
import { connect, rejectsKind, type Harness } from './helpers';

describe('server-side copy', () => {
  const t = tempDir();
  const home = path.join(t.dir, 'home');
  const folder = path.join(t.dir, 'folder');
  let h: Harness;

  before(async () => {
    h = await connect(makeUser(home, {
      quota_files: 100,
      permissions: { '/': ['*'], '/nocopy': ['list', 'download', 'upload', 'create_dirs'] },
      virtual_folders: [{ name: 'vf', mapped_path: folder, virtual_path: '/vf', quota_size: 0, quota_files: 0 }],
    }));
    mkdirSync(path.join(home, 'src', 'sub'), { recursive: true });
    writeFileSync(path.join(home, 'src', 'a.txt'), 'aaa');
    writeFileSync(path.join(home, 'src', 'sub', 'b.txt'), 'bb');
    mkdirSync(path.join(home, 'nocopy'));
    mkdirSync(path.join(home, 'existing'));
  });
  after(async () => { await h.mgr.shutdown(0); t.cleanup(); });

  test('a file, with quota and a Copy log line', async () => {
    h.provider.calls = [];
    await h.conn.copy('/src/a.txt', '/a-copy.txt');
    assert.equal(readFileSync(path.join(home, 'a-copy.txt'), 'utf8'), 'aaa');
    assert.deepEqual(h.provider.calls, [{ fn: 'user', name: 'u1', size: 3, files: 1 }]);
    const log = h.logger.commands.at(-1);
    assert.equal(log?.sender, 'Copy');
    assert.equal(log?.virtualTargetPath, '/a-copy.txt');
  });

  test('a directory recursively, and into an existing directory', async () => {
    await h.conn.copy('/src', '/dst');
    assert.equal(readFileSync(path.join(home, 'dst', 'sub', 'b.txt'), 'utf8'), 'bb');
    await h.conn.copy('/src', '/existing');
    assert.equal(readFileSync(path.join(home, 'existing', 'src', 'a.txt'), 'utf8'), 'aaa');
  });

  test('across a virtual folder', async () => {
    await h.conn.copy('/src/a.txt', '/vf/a.txt');
    assert.equal(readFileSync(path.join(folder, 'a.txt'), 'utf8'), 'aaa');
  });

  test('refusals: no copy permission, into itself, symlinks, same path', async () => {
    await rejectsKind(h.conn.copy('/src/a.txt', '/nocopy/a.txt'), 'PermissionDenied');
    assert.equal(existsSync(path.join(home, 'nocopy', 'a.txt')), false);
    await rejectsKind(h.conn.copy('/src', '/src/sub/inner'), 'Unsupported');
    symlinkSync('a.txt', path.join(home, 'src', 'link'));
    await rejectsKind(h.conn.copy('/src/link', '/link2'), 'Unsupported');
    await rejectsKind(h.conn.copy('/src/a.txt', '/src/a.txt'), 'Unsupported');
    await rejectsKind(h.conn.copy('/', '/x'), 'Unsupported');
  });
});

describe('recursive removal (removeAll)', () => {
  const t = tempDir();
  const home = path.join(t.dir, 'home');
  const folder = path.join(t.dir, 'folder');
  let h: Harness;

  before(async () => {
    h = await connect(makeUser(home, {
      quota_files: 100,
      permissions: { '/': ['*'], '/keep': ['list', 'download', 'upload', 'create_dirs'] },
      virtual_folders: [{ name: 'vf', mapped_path: folder, virtual_path: '/vf', quota_size: 0, quota_files: 0 }],
    }));
    mkdirSync(path.join(home, 'tree', 'sub'), { recursive: true });
    writeFileSync(path.join(home, 'tree', 'a.txt'), 'aaa');
    writeFileSync(path.join(home, 'tree', 'sub', 'b.txt'), 'bb');
    symlinkSync(t.dir, path.join(home, 'tree', 'link-out'));
    mkdirSync(path.join(home, 'keep', 'inner'), { recursive: true });
    writeFileSync(path.join(folder, 'f.txt'), 'f');
  });
  after(async () => { await h.mgr.shutdown(0); t.cleanup(); });

  test('removes a tree item by item (quota and logs per file); a symlink is removed, not followed', async () => {
    h.provider.calls = [];
    await h.conn.removeAll('/tree');
    assert.equal(existsSync(path.join(home, 'tree')), false);
    assert.equal(existsSync(path.join(folder, 'f.txt')), true, 'the link target is untouched');
    const removed = h.logger.commands.filter((c) => c.sender === 'Remove' || c.sender === 'Rmdir').map((c) => c.virtualPath).sort();
    assert.deepEqual(removed, ['/tree', '/tree/a.txt', '/tree/link-out', '/tree/sub', '/tree/sub/b.txt']);
    assert.deepEqual(h.provider.calls.map((c) => c.size).sort((a, b) => a - b), [-3, -2]);
  });

  test('the root and virtual folders are refused; per-item permissions apply', async () => {
    await rejectsKind(h.conn.removeAll('/'), 'PermissionDenied');
    await rejectsKind(h.conn.removeAll('/vf'), 'PermissionDenied');
    await rejectsKind(h.conn.removeAll('/keep'), 'PermissionDenied');
    assert.equal(existsSync(path.join(home, 'keep', 'inner')), true);
  });
});
