/**
 * The SFTP layer driven by the ssh2 client API (extensions included) and by
 * hand-built packets (check-file, malformed input, abandoned uploads).
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Client, SFTPWrapper } from 'ssh2';
import { PFLAG, PKT, VERSION_EXTENSIONS } from '../../../src/sftpd/sftp/constants';
import { SFTP_STATUS } from '../../../src/sftpd/status';
import { PacketReader } from '../../../src/sftpd/sftp/packet';
import { connectClient, openSftp, startHarness, type Harness } from './harness';
import { RawSftp } from './rawclient';

let h: Harness;
let client: Client;
/** ssh2 1.17 methods its @types package does not declare yet */
type SftpExt = SFTPWrapper & {
  ext_home_dir(username: string, cb: (err: Error | undefined, home: string) => void): void;
};
let sftp: SftpExt;

before(async () => {
  h = await startHarness();
  client = await connectClient(h);
  sftp = (await openSftp(client)) as SftpExt;
});

after(async () => {
  client.end();
  await h.close();
});

function call<T>(fn: (cb: (err: Error | null | undefined, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
}

test('VERSION advertises exactly the documented extensions', async () => {
  const raw = await RawSftp.open(client);
  const ext = await raw.init();
  assert.deepEqual([...ext.entries()], VERSION_EXTENSIONS.map(([n, v]) => [n, v]));
  raw.channel.end();
  await raw.closed;
});

test('realpath, home-directory and users-groups-by-id', async () => {
  assert.equal(await call<string>((cb) => sftp.realpath('.', cb)), '/');
  assert.equal(await call<string>((cb) => sftp.realpath('a/../b/./c', cb)), '/b/c');
  assert.equal(await call<string>((cb) => sftp.ext_home_dir('', cb)), '/');
  // users-groups-by-id by hand: ssh2 1.17's client misreads the reply's packed
  // name lists (OpenSSH's sftp, which reads them right, shows "me" in openssh.test.ts)
  const me = process.getuid?.() ?? 0;
  const raw = await RawSftp.open(client);
  await raw.init();
  const ids = (list: number[]): Buffer => Buffer.concat(list.map((n) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255])));
  const ug = await raw.request(PKT.EXTENDED, (w) =>
    w.string('users-groups-by-id@openssh.com').string(ids([me, 4242])).string(ids([7])));
  assert.equal(ug.type, PKT.EXTENDED_REPLY);
  const users = new PacketReader(ug.body.bytes());
  const groups = new PacketReader(ug.body.bytes());
  assert.deepEqual([users.string(), users.string(), users.remaining], ['me', '', 0]);
  assert.deepEqual([groups.string(), groups.remaining], ['', 0]);
  raw.channel.end();
  await raw.closed;
});

test('fastPut/fastGet of a multi-MiB file round-trip with equal checksums', async () => {
  const data = randomBytes(5 * 1024 * 1024 + 99);
  const local = path.join(path.dirname(h.keyPath), 'fp.bin');
  fs.writeFileSync(local, data);
  await call<void>((cb) => sftp.fastPut(local, '/fp.bin', (err) => cb(err, undefined)));
  const back = `${local}.back`;
  await call<void>((cb) => sftp.fastGet('/fp.bin', back, (err) => cb(err, undefined)));
  const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  assert.equal(digest(fs.readFileSync(path.join(h.root, 'fp.bin'))), digest(data));
  assert.equal(digest(fs.readFileSync(back)), digest(data));
});

test('readdir returns every entry in batches with ls-style longnames, then EOF', async () => {
  fs.mkdirSync(path.join(h.root, 'many'));
  for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(h.root, 'many', `f${i}`), 'x'.repeat(i));
  const list = await call<{ filename: string; longname: string }[]>((cb) => sftp.readdir('/many', cb));
  const names = list.map((e) => e.filename).filter((n) => n !== '.' && n !== '..');
  assert.equal(names.length, 300);
  const f42 = list.find((e) => e.filename === 'f42')!;
  assert.match(f42.longname, /^-rw-r--r-- +1 me +\S+ +42 [A-Z][a-z]{2} [ \d]\d [\d:]{4,5} +f42$/);
  await assert.rejects(call((cb) => sftp.readdir('/no-such-dir', cb)), { code: SFTP_STATUS.NO_SUCH_FILE });
});

test('statvfs, fstatvfs, fsync, hardlink, posix-rename and copy-data', async () => {
  fs.writeFileSync(path.join(h.root, 'src.bin'), randomBytes(700_000));
  const vfs = await call<{ f_bsize: number; f_blocks: number; f_namemax: number }>((cb) => sftp.ext_openssh_statvfs('/', cb));
  assert.ok(vfs.f_bsize > 0 && vfs.f_blocks > 0 && vfs.f_namemax === 255);
  const src = await call<Buffer>((cb) => sftp.open('/src.bin', 'r', cb));
  const dst = await call<Buffer>((cb) => sftp.open('/dst.bin', 'w', cb));
  const fvfs = await call<{ f_bsize: number }>((cb) => sftp.ext_openssh_fstatvfs(src, cb));
  assert.equal(fvfs.f_bsize, vfs.f_bsize);
  // copy 600000 bytes from offset 100000 of src to offset 10 of dst
  await call<void>((cb) => sftp.ext_copy_data(src, 100_000, 600_000, dst, 10, (err) => cb(err, undefined)));
  await call<void>((cb) => sftp.ext_openssh_fsync(dst, (err) => cb(err, undefined)));
  await call<void>((cb) => sftp.close(src, (err) => cb(err, undefined)));
  await call<void>((cb) => sftp.close(dst, (err) => cb(err, undefined)));
  const srcData = fs.readFileSync(path.join(h.root, 'src.bin'));
  const dstData = fs.readFileSync(path.join(h.root, 'dst.bin'));
  assert.equal(dstData.length, 600_010);
  assert.ok(dstData.subarray(10).equals(srcData.subarray(100_000)));

  await call<void>((cb) => sftp.ext_openssh_hardlink('/src.bin', '/src.link', (err) => cb(err, undefined)));
  assert.equal(fs.statSync(path.join(h.root, 'src.link')).nlink, 2);
  await call<void>((cb) => sftp.ext_openssh_rename('/src.link', '/dst.bin', (err) => cb(err, undefined)));
  assert.ok(fs.readFileSync(path.join(h.root, 'dst.bin')).equals(srcData));
});

test('check-file-name and check-file-handle hash ranges and blocks', async () => {
  const data = randomBytes(3000);
  fs.writeFileSync(path.join(h.root, 'ck.bin'), data);
  const raw = await RawSftp.open(client);
  await raw.init();
  const hash = (algo: string, b: Buffer): Buffer => createHash(algo).update(b).digest();

  const whole = await raw.request(PKT.EXTENDED, (w) =>
    w.string('check-file-name').string('/ck.bin').string('foo,sha256,md5').u64(0).u64(0).u32(0));
  assert.equal(whole.type, PKT.EXTENDED_REPLY);
  assert.equal(whole.body.string(), 'check-file');
  assert.equal(whole.body.string(), 'sha256');
  assert.ok(whole.body.rest().equals(hash('sha256', data)));

  const open = await raw.request(PKT.OPEN, (w) => w.string('/ck.bin').u32(PFLAG.READ).u32(0));
  assert.equal(open.type, PKT.HANDLE);
  const handle = open.body.bytes();
  const blocks = await raw.request(PKT.EXTENDED, (w) =>
    w.string('check-file-handle').string(handle).string('md5').u64(100).u64(0).u32(1024));
  assert.equal(blocks.body.string(), 'check-file');
  assert.equal(blocks.body.string(), 'md5');
  const expected = Buffer.concat([
    hash('md5', data.subarray(100, 1124)), hash('md5', data.subarray(1124, 2148)), hash('md5', data.subarray(2148)),
  ]);
  assert.ok(blocks.body.rest().equals(expected));

  const bad = await raw.request(PKT.EXTENDED, (w) =>
    w.string('check-file-name').string('/ck.bin').string('crc32').u64(0).u64(0).u32(0));
  assert.equal(bad.type, PKT.STATUS);
  assert.equal(bad.body.u32(), SFTP_STATUS.OP_UNSUPPORTED);
  const unknown = await raw.request(PKT.EXTENDED, (w) => w.string('no-such@example.com'));
  assert.equal(unknown.body.u32(), SFTP_STATUS.OP_UNSUPPORTED);
  // expand-path by hand: ssh2 1.17's client encodes this request wrongly
  for (const [input, out] of [['~/docs', '/docs'], ['~', '/'], ['~tester/x/../y', '/y'], ['rel', '/rel']]) {
    const ex = await raw.request(PKT.EXTENDED, (w) => w.string('expand-path@openssh.com').string(input!));
    assert.equal(ex.type, PKT.NAME);
    assert.equal(ex.body.u32(), 1);
    assert.equal(ex.body.string(), out);
  }
  // SYMLINK in OpenSSH's argument order (target first, then the link), then READLINK
  const sl = await raw.request(PKT.SYMLINK, (w) => w.string('/ck.bin').string('/ck.lnk'));
  assert.equal(sl.body.u32(), SFTP_STATUS.OK);
  assert.ok(fs.lstatSync(path.join(h.root, 'ck.lnk')).isSymbolicLink());
  const rl = await raw.request(PKT.READLINK, (w) => w.string('/ck.lnk'));
  assert.deepEqual([rl.type, rl.body.u32(), rl.body.string()], [PKT.NAME, 1, '/ck.bin']);
  const other = await raw.request(PKT.EXTENDED, (w) => w.string('expand-path@openssh.com').string('~root'));
  assert.equal(other.body.u32(), SFTP_STATUS.NO_SUCH_FILE);
  const limits = await raw.request(PKT.EXTENDED, (w) => w.string('limits@openssh.com'));
  assert.deepEqual([limits.body.u64(), limits.body.u64(), limits.body.u64(), limits.body.u64()],
    [256 * 1024 + 1024, 255 * 1024, 255 * 1024, 1024]);
  raw.channel.end();
  await raw.closed;
});

test('an upload left open when the session ends is aborted: no partial file', async () => {
  const ended = h.endedCount();
  const c2 = await connectClient(h);
  const raw = await RawSftp.open(c2);
  await raw.init();
  const open = await raw.request(PKT.OPEN, (w) =>
    w.string('/partial.bin').u32(PFLAG.WRITE | PFLAG.CREAT | PFLAG.TRUNC).u32(0));
  const handle = open.body.bytes();
  const wr = await raw.request(PKT.WRITE, (w) => w.string(handle).u64(0).string(randomBytes(10_000)));
  assert.equal(wr.body.u32(), SFTP_STATUS.OK);
  c2.end();
  await h.sessionsEnded(ended + 1);
  assert.equal(fs.existsSync(path.join(h.root, 'partial.bin')), false);
  assert.deepEqual(fs.readdirSync(h.root).filter((n) => n.startsWith('.sftpgo-upload')), []);
});

test('malformed packets close only that session; the server keeps serving', async () => {
  const cases: Array<(raw: RawSftp) => Promise<void>> = [
    async (raw) => {
      await raw.init();
      raw.writeRaw(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    },
    async (raw) => {
      await raw.init();
      // OPEN whose path string claims more bytes than the packet holds
      const reply = await raw.request(PKT.OPEN, (w) => w.u32(5000).raw(Buffer.from('abc')));
      assert.equal(reply.body.u32(), SFTP_STATUS.BAD_MESSAGE);
    },
    async (raw) => {
      raw.writeRaw(Buffer.from([0, 0, 0, 5, PKT.OPEN, 0, 0, 0, 1]));
    },
    async (raw) => {
      await raw.init();
      raw.writeRaw(Buffer.from([0, 0, 0, 0]));
    },
  ];
  for (const run of cases) {
    const ended = h.endedCount();
    const c = await connectClient(h);
    const raw = await RawSftp.open(c);
    await run(raw);
    await raw.closed;
    await h.sessionsEnded(ended + 1);
    c.end();
  }
  assert.ok(h.logs.some((l) => l.sender === 'sftpd' && l.level === 'warn' && /closing SFTP session/.test(l.message)));
  // a fresh client still works
  const c = await connectClient(h);
  const s2 = await openSftp(c);
  assert.equal(await call<string>((cb) => s2.realpath('.', cb)), '/');
  c.end();
});
