import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, symlinkSync, readFileSync, existsSync, readlinkSync, statSync, lstatSync } from 'node:fs';
import * as path from 'node:path';
import { OsFs } from '../../../src/vfs/osfs';
import { isFsError } from '../../../src/common/errors';
import type { FileInfo } from '../../../src/vfs/fs';
import { tempDir } from '../common/support';

async function rejectsKind(p: Promise<unknown>, kind: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isFsError(e), `expected FsError, got ${String(e)}`);
    assert.equal(e.kind, kind, `expected ${kind}, got ${e.kind}: ${e.message}`);
    return true;
  });
}

describe('OsFs jail', () => {
  const t = tempDir();
  const root = path.join(t.dir, 'root');
  const outside = path.join(t.dir, 'outside');
  let fs: OsFs;

  before(() => {
    mkdirSync(path.join(root, 'sub', 'deep'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'secret.txt'), 'secret');
    writeFileSync(path.join(root, 'sub', 'file.txt'), 'hello');
    symlinkSync('/etc', path.join(root, 'abs-etc'));
    symlinkSync(outside, path.join(root, 'abs-out'));
    symlinkSync('../outside', path.join(root, 'rel-out'));
    symlinkSync('../../outside/secret.txt', path.join(root, 'sub', 'rel-secret'));
    symlinkSync('sub/file.txt', path.join(root, 'inside-link'));
    symlinkSync(path.join(outside, 'newfile'), path.join(root, 'dangling-out'));
    symlinkSync('sub/not-yet', path.join(root, 'dangling-in'));
    fs = new OsFs({ root });
  });
  after(() => t.cleanup());

  test('rejects unclean and relative backend paths', async () => {
    await rejectsKind(fs.stat('/../outside'), 'InvalidPath');
    await rejectsKind(fs.stat('sub'), 'InvalidPath');
    await rejectsKind(fs.stat('/sub/./file.txt'), 'InvalidPath');
    await rejectsKind(fs.stat('/a\0b'), 'InvalidPath');
  });

  test('absolute symlink to /etc cannot be followed', async () => {
    await rejectsKind(fs.stat('/abs-etc'), 'PermissionDenied');
    await rejectsKind(fs.stat('/abs-etc/passwd'), 'PermissionDenied');
    await rejectsKind(fs.openRead('/abs-etc/passwd'), 'PermissionDenied');
    await rejectsKind((async () => { for await (const _ of fs.readDir('/abs-etc')) { /* drain */ } })(), 'PermissionDenied');
    await rejectsKind(fs.readlink('/abs-etc'), 'PermissionDenied');
  });

  test('lstat of an escaping link itself is fine (it is an entry inside the root)', async () => {
    const st = await fs.lstat('/abs-etc');
    assert.equal(st.isSymlink, true);
  });

  test('relative symlinks climbing out are refused for read, write, list and setstat', async () => {
    await rejectsKind(fs.openRead('/rel-out/secret.txt'), 'PermissionDenied');
    await rejectsKind(fs.openRead('/sub/rel-secret'), 'PermissionDenied');
    await rejectsKind(fs.openWrite('/rel-out/new.txt', { create: true, truncate: true, append: false, exclusive: false, read: false }), 'PermissionDenied');
    await rejectsKind(fs.setStat('/sub/rel-secret', { mode: 0o777 }), 'PermissionDenied');
    await rejectsKind(fs.mkdir('/rel-out/newdir'), 'PermissionDenied');
    await rejectsKind(fs.statvfs('/abs-out'), 'PermissionDenied');
    assert.equal(existsSync(path.join(outside, 'new.txt')), false);
    assert.equal(existsSync(path.join(outside, 'newdir')), false);
    assert.equal((statSync(path.join(outside, 'secret.txt')).mode & 0o777) !== 0o777, true);
  });

  test('a dangling link pointing outside cannot be used to create a file outside', async () => {
    await rejectsKind(fs.openWrite('/dangling-out', { create: true, truncate: true, append: false, exclusive: false, read: false }), 'PermissionDenied');
    assert.equal(existsSync(path.join(outside, 'newfile')), false);
  });

  test('a dangling link pointing inside creates the file inside', async () => {
    const h = await fs.openWrite('/dangling-in', { create: true, truncate: true, append: false, exclusive: false, read: false });
    await h.writeAt(Buffer.from('x'), 0);
    await h.close();
    assert.equal(readFileSync(path.join(root, 'sub', 'not-yet'), 'utf8'), 'x');
  });

  test('directory symlink in the middle of a path → PermissionDenied for remove/rename/symlink', async () => {
    await rejectsKind(fs.remove('/abs-out/secret.txt'), 'PermissionDenied');
    await rejectsKind(fs.rename('/sub/file.txt', '/rel-out/stolen.txt'), 'PermissionDenied');
    await rejectsKind(fs.rename('/rel-out/secret.txt', '/sub/stolen.txt'), 'PermissionDenied');
    await rejectsKind(fs.symlink('/sub/file.txt', '/rel-out/link'), 'PermissionDenied');
    await rejectsKind(fs.lstat('/rel-out/secret.txt'), 'PermissionDenied');
    assert.equal(existsSync(path.join(outside, 'secret.txt')), true);
    assert.equal(existsSync(path.join(outside, 'stolen.txt')), false);
  });

  test('removing an escaping link removes the link, not the target', async () => {
    symlinkSync(outside, path.join(root, 'to-remove'));
    await fs.remove('/to-remove');
    assert.equal(existsSync(path.join(root, 'to-remove')), false);
    assert.equal(existsSync(path.join(outside, 'secret.txt')), true);
  });

  test('readlink returns root-relative targets only inside the root', async () => {
    assert.equal(await fs.readlink('/inside-link'), '/sub/file.txt');
    await rejectsKind(fs.readlink('/rel-out'), 'PermissionDenied');
    await rejectsKind(fs.readlink('/sub/rel-secret'), 'PermissionDenied');
  });

  test('symlink stores a relative target and stays resolvable', async () => {
    await fs.symlink('/sub/file.txt', '/sub/deep/l1');
    assert.equal(readlinkSync(path.join(root, 'sub', 'deep', 'l1')), '../file.txt');
    assert.equal(await fs.readlink('/sub/deep/l1'), '/sub/file.txt');
    assert.equal((await fs.stat('/sub/deep/l1')).size, 5);
    assert.equal(lstatSync(path.join(root, 'sub', 'deep', 'l1')).isSymbolicLink(), true);
  });

  test('root itself: stat works, remove/rename refused', async () => {
    const st = await fs.stat('/');
    assert.equal(st.isDirectory, true);
    assert.equal(st.name, '/');
    await rejectsKind(fs.remove('/'), 'PermissionDenied');
    await rejectsKind(fs.rename('/', '/x'), 'PermissionDenied');
  });
});

describe('OsFs operations', () => {
  const t = tempDir();
  const fs = new OsFs({ root: path.join(t.dir, 'home'), umask: 0o027 });
  after(() => t.cleanup());

  test('ensureRoot creates the root; umask applies to new files and dirs', async () => {
    await fs.ensureRoot();
    await fs.mkdir('/d');
    assert.equal(statSync(path.join(t.dir, 'home', 'd')).mode & 0o777, 0o750);
    const h = await fs.openWrite('/d/f', { create: true, truncate: true, append: false, exclusive: false, read: false });
    await h.close();
    assert.equal(statSync(path.join(t.dir, 'home', 'd', 'f')).mode & 0o777, 0o640);
  });

  test('readDir yields batches of at most batchSize and lists every entry', async () => {
    await fs.mkdir('/many');
    for (let i = 0; i < 25; i++) {
      const h = await fs.openWrite(`/many/f${i}`, { create: true, truncate: true, append: false, exclusive: false, read: false });
      await h.close();
    }
    const names: string[] = [];
    let batches = 0;
    for await (const b of fs.readDir('/many', 10)) {
      assert.ok(b.length <= 10);
      batches++;
      names.push(...b.map((f: FileInfo) => f.name));
    }
    assert.equal(names.length, 25);
    assert.ok(batches >= 3);
  });

  test('positional writes beyond 4 GiB and ranged read streams', async () => {
    const big = 5 * 1024 * 1024 * 1024 + 3;
    const h = await fs.openWrite('/sparse', { create: true, truncate: true, append: false, exclusive: false, read: true });
    await h.writeAt(Buffer.from('tail'), big);
    assert.equal((await h.stat()).size, big + 4);
    const buf = Buffer.alloc(4);
    assert.ok(h.readAt);
    assert.equal(await h.readAt(buf, 0, 4, big), 4);
    assert.equal(buf.toString(), 'tail');
    await h.close();
    const r = await fs.openRead('/sparse');
    assert.equal(r.size, big + 4);
    const chunks: Buffer[] = [];
    for await (const c of r.createReadStream(big + 1, big + 2)) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'ai');
    await r.close();
    await fs.remove('/sparse');
  });

  test('writeNow writes inline at its position and leaves the handle open', async () => {
    const h = await fs.openWrite('/stream', { create: true, truncate: true, append: false, exclusive: false, read: false });
    assert.ok(h.writeNow);
    assert.equal(h.writeNow(Buffer.from('abc'), 3), true);
    await h.writeAt(Buffer.from('XYZ'), 0);
    await h.close();
    assert.equal(readFileSync(path.join(t.dir, 'home', 'stream'), 'utf8'), 'XYZabc');
  });

  test('errno mapping', async () => {
    await rejectsKind(fs.stat('/nope'), 'NotFound');
    await rejectsKind(fs.mkdir('/d'), 'AlreadyExists');
    await rejectsKind(fs.rmdir('/many'), 'NotEmpty');
    await rejectsKind(fs.openWrite('/d/f', { create: true, truncate: false, append: false, exclusive: true, read: false }), 'AlreadyExists');
    await rejectsKind(fs.openRead('/d'), 'IsDirectory');
    await rejectsKind(fs.remove('/d'), 'IsDirectory');
  });

  test('tempUploadPath is a hidden sibling', () => {
    const p = fs.tempUploadPath('/d/file.bin');
    assert.match(p, /^\/d\/\.sftpgo-upload\.[0-9a-f]+\.file\.bin$/);
    assert.match(fs.tempUploadPath('/x'), /^\/\.sftpgo-upload\.[0-9a-f]+\.x$/);
  });

  test('statvfs answers', async () => {
    const s = await fs.statvfs('/');
    assert.ok(s.bsize > 0 && s.blocks > 0);
  });
});
