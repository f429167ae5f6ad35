/**
 * One conformance suite for every storage backend (rclone's fstests is the
 * model): the same create/read/list/rename/remove/stat/partial-read/abort/
 * quota cases, the backend's declared features deciding which apply. A
 * backend test file calls runConformance() with a factory for a fresh, empty
 * backend per case.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { FsError, type ErrorKind } from '../../src/common/errors';
import { OrderedWriteHandle } from '../../src/common/ordered-writes';
import { fsUsage } from '../../src/common/backend-usage';
import type { FileInfo, Fs, WriteHandle } from '../../src/vfs/fs';
import { canResume } from '../../src/common/upload-outcome';

export interface ConformanceTarget {
  fs: Fs;
  /** removes what the case left behind */
  cleanup(): Promise<void>;
}

const NEW_FILE = { create: true, truncate: true, append: false, exclusive: false, read: false } as const;

export async function writeFile(fs: Fs, p: string, data: Buffer, chunk = 64 * 1024): Promise<void> {
  const w = await fs.openWrite(p, NEW_FILE);
  try {
    for (let off = 0; off < data.length; off += chunk) await w.writeAt(data.subarray(off, off + chunk), off);
  } catch (e) {
    await w.abort(e as Error);
    throw e;
  }
  await w.close();
}

export async function readFile(fs: Fs, p: string): Promise<Buffer> {
  const r = await fs.openRead(p);
  try {
    const out = Buffer.alloc(r.size);
    let pos = 0;
    // bounded by the size: each round reads at least one byte or stops
    while (pos < r.size) {
      const n = await r.readAt(out, pos, Math.min(r.size - pos, 1024 * 1024), pos);
      if (n === 0) break;
      pos += n;
    }
    return out.subarray(0, pos);
  } finally {
    await r.close();
  }
}

export async function listNames(fs: Fs, p: string): Promise<Map<string, FileInfo>> {
  const out = new Map<string, FileInfo>();
  for await (const batch of fs.readDir(p, 7)) for (const fi of batch) out.set(fi.name, fi);
  return out;
}

async function rejectsKind(p: Promise<unknown>, ...kinds: ErrorKind[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof FsError, `expected an FsError, got ${String(e)}`);
    assert.ok(kinds.includes(e.kind), `expected ${kinds.join('/')}, got ${e.kind}: ${e.message}`);
    return true;
  });
}

async function streamToBuffer(fs: Fs, p: string, start: number, end: number): Promise<Buffer> {
  const r = await fs.openRead(p);
  try {
    const chunks: Buffer[] = [];
    for await (const c of r.createReadStream(start, end)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  } finally {
    await r.close();
  }
}

/** `big` should span several upload parts of the backend (multipart paths). */
export function runConformance(name: string, make: () => Promise<ConformanceTarget>, opts: { big?: number } = {}): void {
  const big = opts.big ?? 3 * 1024 * 1024 + 12345;
  const withFs = (title: string, body: (fs: Fs) => Promise<void>): void => {
    test(`${name} conformance: ${title}`, async () => {
      const t = await make();
      try {
        await t.fs.ensureRoot();
        await body(t.fs);
      } finally {
        await t.fs.close();
        await t.cleanup();
      }
    });
  };

  withFs('the root is an empty directory; missing paths are NotFound', async (fs) => {
    assert.equal((await fs.stat('/')).isDirectory, true);
    assert.equal((await listNames(fs, '/')).size, 0);
    await rejectsKind(fs.stat('/missing'), 'NotFound');
    await rejectsKind(fs.openRead('/missing'), 'NotFound');
    await rejectsKind(fs.remove('/missing'), 'NotFound');
  });

  withFs('create, stat and read back (small, empty and multi-part files)', async (fs) => {
    const small = Buffer.from('hello conformance');
    const large = randomBytes(big);
    await writeFile(fs, '/small.txt', small);
    await writeFile(fs, '/empty', Buffer.alloc(0));
    await writeFile(fs, '/large.bin', large, 256 * 1024 + 3);
    const st = await fs.stat('/small.txt');
    assert.equal(st.isFile, true);
    assert.equal(st.size, small.length);
    assert.equal(st.name, 'small.txt');
    assert.equal((await fs.stat('/empty')).size, 0);
    assert.equal((await fs.stat('/large.bin')).size, large.length);
    assert.deepEqual(await readFile(fs, '/small.txt'), small);
    assert.equal((await readFile(fs, '/empty')).length, 0);
    assert.ok((await readFile(fs, '/large.bin')).equals(large), 'large file round trip');
  });

  withFs('partial reads: positional reads and ranged streams', async (fs) => {
    const data = randomBytes(big);
    await writeFile(fs, '/f.bin', data, 1024 * 1024);
    const r = await fs.openRead('/f.bin');
    try {
      assert.equal(r.size, data.length);
      const buf = Buffer.alloc(1000);
      const mid = Math.floor(data.length / 2) + 17;
      assert.equal(await r.readAt(buf, 0, 1000, mid), 1000);
      assert.ok(buf.equals(data.subarray(mid, mid + 1000)));
      // reads at the end are short, past the end empty
      assert.equal(await r.readAt(buf, 0, 1000, data.length - 10), 10);
      assert.ok(buf.subarray(0, 10).equals(data.subarray(data.length - 10)));
      assert.equal(await r.readAt(buf, 0, 1000, data.length), 0);
      // out of order reads (SFTP clients pipeline them)
      const back = Buffer.alloc(500);
      assert.equal(await r.readAt(back, 0, 500, 100), 500);
      assert.ok(back.equals(data.subarray(100, 600)));
    } finally {
      await r.close();
    }
    assert.ok((await streamToBuffer(fs, '/f.bin', 5, 4096)).equals(data.subarray(5, 4097)));
    assert.ok((await streamToBuffer(fs, '/f.bin', data.length - 3, data.length - 1)).equals(data.subarray(data.length - 3)));
  });

  withFs('directories: mkdir, list in batches, rmdir (empty only)', async (fs) => {
    await fs.mkdir('/d');
    await rejectsKind(fs.mkdir('/d'), 'AlreadyExists');
    await fs.mkdir('/d/sub');
    for (let i = 0; i < 15; i++) await writeFile(fs, `/d/f${i}`, Buffer.from(`file ${i}`));
    const names = await listNames(fs, '/d');
    assert.equal(names.size, 16);
    assert.equal(names.get('sub')?.isDirectory, true);
    assert.equal(names.get('f3')?.isFile, true);
    assert.equal(names.get('f3')?.size, 6);
    assert.equal((await fs.stat('/d')).isDirectory, true);
    await rejectsKind(fs.rmdir('/d'), 'NotEmpty', 'Generic');
    await fs.rmdir('/d/sub');
    await rejectsKind(fs.stat('/d/sub'), 'NotFound');
    for (let i = 0; i < 15; i++) await fs.remove(`/d/f${i}`);
    await fs.rmdir('/d');
    await rejectsKind(fs.stat('/d'), 'NotFound');
    assert.equal((await listNames(fs, '/')).size, 0);
  });

  withFs('rename files (also over an existing file) and directories', async (fs) => {
    await writeFile(fs, '/a', Buffer.from('aaa'));
    await writeFile(fs, '/b', Buffer.from('bbbbb'));
    await fs.rename('/a', '/c');
    await rejectsKind(fs.stat('/a'), 'NotFound');
    assert.equal((await readFile(fs, '/c')).toString(), 'aaa');
    await fs.rename('/c', '/b');
    assert.equal((await readFile(fs, '/b')).toString(), 'aaa');
    await fs.mkdir('/dir');
    await fs.mkdir('/dir/in');
    await writeFile(fs, '/dir/in/x', Buffer.from('x'));
    await fs.rename('/dir', '/moved');
    await rejectsKind(fs.stat('/dir'), 'NotFound');
    assert.equal((await readFile(fs, '/moved/in/x')).toString(), 'x');
  });

  withFs('remove files; a directory is not removed as a file', async (fs) => {
    await writeFile(fs, '/gone', Buffer.from('1'));
    await fs.remove('/gone');
    await rejectsKind(fs.stat('/gone'), 'NotFound');
    await fs.mkdir('/dir');
    await rejectsKind(fs.remove('/dir'), 'IsDirectory', 'Unsupported', 'Generic');
    await rejectsKind(fs.remove('/'), 'PermissionDenied');
  });

  withFs('abort: a failed upload never replaces the old content where the backend commits at close', async (fs) => {
    await writeFile(fs, '/keep', Buffer.from('old content'));
    const w = await fs.openWrite('/keep', NEW_FILE);
    await w.writeAt(Buffer.from('partial'), 0);
    await w.abort(new FsError('Aborted'));
    if (fs.features.commitOnClose) {
      assert.equal((await readFile(fs, '/keep')).toString(), 'old content');
      const n = await fs.openWrite('/new', NEW_FILE);
      await n.writeAt(Buffer.from('x'.repeat(1000)), 0);
      await n.abort(new FsError('QuotaExceeded'));
      await rejectsKind(fs.stat('/new'), 'NotFound');
    } else {
      // written in place: what reached the disk stays, the upload mode decides (common)
      assert.equal((await fs.stat('/keep')).isFile, true);
    }
  });

  withFs('writes: sequential always; random writes only where declared', async (fs) => {
    const w: WriteHandle = await fs.openWrite('/seq', NEW_FILE);
    await w.writeAt(Buffer.from('0123'), 0);
    if (fs.features.randomWrite) {
      await w.writeAt(Buffer.from('ab'), 1);
      await w.close();
      assert.equal((await readFile(fs, '/seq')).toString(), '0ab3');
      return;
    }
    await rejectsKind(w.writeAt(Buffer.from('ab'), 1), 'Unsupported');
    await w.abort(new FsError('Aborted'));
    // through common's ordered writer, out of order chunks land in order
    const o = new OrderedWriteHandle(await fs.openWrite('/ordered', NEW_FILE), 0);
    const parts = [Buffer.from('cc'), Buffer.from('aa'), Buffer.from('bb')];
    await Promise.all([o.writeAt(parts[0], 4), o.writeAt(parts[1], 0), o.writeAt(parts[2], 2)]);
    await o.close();
    assert.equal((await readFile(fs, '/ordered')).toString(), 'aabbcc');
  });

  withFs('quota: reported sizes match what was written, a backend walk (or its own count) counts them', async (fs) => {
    await fs.mkdir('/q');
    await writeFile(fs, '/q/one', randomBytes(1000));
    await writeFile(fs, '/two', randomBytes(70_000));
    await writeFile(fs, '/q/zero', Buffer.alloc(0));
    assert.deepEqual(await fsUsage(fs), { size: 71_000, files: 3 });
    assert.deepEqual(await fsUsage(fs, ['/q']), { size: 70_000, files: 1 });
    // a backend that counts by itself (optional Fs.dirSize) agrees with the walk, below the root too
    if (fs.dirSize) {
      assert.deepEqual(await fs.dirSize('/'), { size: 71_000, files: 3 });
      assert.deepEqual(await fs.dirSize('/q'), { size: 1000, files: 2 });
      await assert.rejects(fs.dirSize('/missing'), (e: unknown) => e instanceof FsError && e.kind === 'NotFound');
    }
  });

  withFs('features decide: unsupported operations fail as Unsupported, supported ones work', async (fs) => {
    await writeFile(fs, '/f', Buffer.from('content'));
    const when = new Date('2024-01-02T03:04:05Z');
    if (fs.features.chtimes) {
      await fs.setStat('/f', { mtime: when, atime: when });
      assert.equal((await fs.stat('/f')).mtime.getTime(), when.getTime());
    } else {
      await rejectsKind(fs.setStat('/f', { mtime: when, atime: when }), 'Unsupported');
    }
    if (!fs.features.chmod) await rejectsKind(fs.setStat('/f', { mode: 0o600 }), 'Unsupported');
    if (!fs.features.symlinks) await rejectsKind(fs.symlink('/f', '/l'), 'Unsupported');
    if (!fs.features.hardlinks) await rejectsKind(fs.link('/f', '/h'), 'Unsupported');
    if (!fs.features.statvfs) await rejectsKind(fs.statvfs('/'), 'Unsupported');
    if (fs.features.serverSideCopy) {
      await fs.copy('/f', '/copy');
      assert.equal((await readFile(fs, '/copy')).toString(), 'content');
    }
    if (!fs.features.resume && !canResume(fs.features, 'content'.length)) {
      // an upload resume cannot be honoured: open without truncate is refused
      await rejectsKind(fs.openWrite('/f', { ...NEW_FILE, truncate: false }), 'Unsupported');
    } else if (!fs.features.resume) {
      // resumed by rebuilding the object (resumeMaxSize): the old bytes come first
      const h = await fs.openWrite('/f', { ...NEW_FILE, truncate: false });
      await h.writeAt(Buffer.from('+more'), 'content'.length);
      await h.close();
      assert.equal((await readFile(fs, '/f')).toString(), 'content+more');
    }
  });
}
