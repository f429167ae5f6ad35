/**
 * The SFTP layer driven by the real OpenSSH `sftp` client in batch mode.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAX_READ_LENGTH, MAX_WRITE_LENGTH } from '../../../src/sftpd/sftp/constants';
import { runSftp, startHarness, type Harness } from './harness';

let h: Harness;
let local: string;

before(async () => {
  h = await startHarness();
  local = path.join(path.dirname(h.keyPath), 'local');
  fs.mkdirSync(local);
});

after(async () => {
  await h.close();
});

const sha256 = (p: string): string => createHash('sha256').update(fs.readFileSync(p)).digest('hex');

test('put and get a multi-MiB file with 255 KiB requests (limits@openssh.com honoured)', async () => {
  const src = path.join(local, 'big.bin');
  fs.writeFileSync(src, randomBytes(9 * 1024 * 1024 + 12345));
  const before = h.sessions.length;
  const ended = h.endedCount();
  const res = await runSftp(h, ['put big.bin /big.bin', 'get /big.bin back.bin'], local);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(sha256(path.join(h.root, 'big.bin')), sha256(src));
  assert.equal(sha256(path.join(local, 'back.bin')), sha256(src));
  await h.sessionsEnded(ended + 1);
  const st = h.sessions[before]!;
  assert.equal(st.maxWriteLength, MAX_WRITE_LENGTH);
  assert.equal(st.maxReadLength, MAX_READ_LENGTH);
  // 9 MiB in 255 KiB writes: about 37 requests, far fewer than with 32 KiB
  assert.ok(st.writeRequests <= 40, `writes: ${st.writeRequests}`);
  // no temp upload file left behind
  assert.deepEqual(fs.readdirSync(h.root).filter((n) => n.startsWith('.sftpgo-upload')), []);
});

test('ls -l shows ls-style longnames; mkdir, rename, chmod, rm, rmdir', async () => {
  fs.writeFileSync(path.join(h.root, 'a.txt'), 'hello world');
  const res = await runSftp(h, [
    'mkdir /d1', 'rename /a.txt /d1/b.txt', 'chmod 600 /d1/b.txt', 'ls -l /d1', 'rm /d1/b.txt', 'rmdir /d1', 'ls -1 /',
  ]);
  assert.equal(res.code, 0, res.stderr);
  const line = res.stdout.split('\n').find((l) => !l.startsWith('sftp>') && l.endsWith('b.txt'));
  assert.ok(line, res.stdout);
  // OpenSSH formats the line itself with names from users-groups-by-id@openssh.com
  // (the harness names only its own uid "me"; v3 attrs carry no link count: "?")
  assert.match(line, /^-rw------- +\? +me +\S+ +11 [A-Z][a-z]{2} [ \d]\d [\d:]{4,5} +.*b\.txt$/);
  assert.equal(fs.existsSync(path.join(h.root, 'd1')), false);
});

test('rename onto an existing file overwrites it (posix-rename@openssh.com)', async () => {
  fs.writeFileSync(path.join(h.root, 'r1'), 'new');
  fs.writeFileSync(path.join(h.root, 'r2'), 'old');
  const res = await runSftp(h, ['rename /r1 /r2']);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(fs.readFileSync(path.join(h.root, 'r2'), 'utf8'), 'new');
  assert.equal(fs.existsSync(path.join(h.root, 'r1')), false);
});

test('symlink, hardlink, readlink and df (statvfs)', async () => {
  fs.writeFileSync(path.join(h.root, 't.txt'), 'target');
  const res = await runSftp(h, ['ln -s /t.txt /sym', 'ln /t.txt /hard', 'df /', 'ls -l /']);
  assert.equal(res.code, 0, res.stderr);
  const st = fs.lstatSync(path.join(h.root, 'sym'));
  assert.ok(st.isSymbolicLink());
  assert.equal(fs.readFileSync(path.join(h.root, 'sym'), 'utf8'), 'target');
  assert.equal(fs.statSync(path.join(h.root, 'hard')).ino, fs.statSync(path.join(h.root, 't.txt')).ino);
  // df prints a header and one line of numbers
  assert.match(res.stdout, /Size\s+Used\s+Avail/);
  // OpenSSH lists with LSTAT semantics: the link itself
  assert.match(res.stdout, /^lrwx.* \/sym$/m);
});

test('reput and reget resume partial transfers', async () => {
  const data = randomBytes(3 * 1024 * 1024 + 7);
  fs.writeFileSync(path.join(local, 'resume.bin'), data);
  fs.writeFileSync(path.join(h.root, 'resume.bin'), data.subarray(0, 1024 * 1024));
  fs.writeFileSync(path.join(local, 'down.bin'), data.subarray(0, 777_777));
  fs.writeFileSync(path.join(h.root, 'down.bin'), data);
  const res = await runSftp(h, ['reput resume.bin /resume.bin', 'reget /down.bin down.bin'], local);
  assert.equal(res.code, 0, res.stderr);
  assert.ok(fs.readFileSync(path.join(h.root, 'resume.bin')).equals(data));
  assert.ok(fs.readFileSync(path.join(local, 'down.bin')).equals(data));
});

test('errors reach the client: missing files, non-empty rmdir', async () => {
  fs.mkdirSync(path.join(h.root, 'full'));
  fs.writeFileSync(path.join(h.root, 'full', 'x'), 'x');
  const res = await runSftp(h, ['-get /nope.bin', '-rmdir /full', '-ls /missing-dir']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /nope\.bin.*(not found|No such file)/i);
  assert.match(res.stderr, /rmdir.*full.*Failure|directory not empty/i);
  assert.match(res.stderr, /missing-dir.*(not found|No such file)/i);
});
