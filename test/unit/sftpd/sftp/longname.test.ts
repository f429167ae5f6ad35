import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { formatLongname, lsTime, modeString } from '../../../../src/sftpd/sftp/longname';
import type { FileInfo } from '../../../../src/vfs/fs';

const now = Date.UTC(2026, 0, 10, 12, 0, 0);
const base: FileInfo = {
  name: 'name', size: 1234, mode: 0o100644, mtime: new Date(Date.UTC(2026, 0, 2, 15, 4)), atime: new Date(0),
  uid: 1000, gid: 1000, isDirectory: false, isFile: true, isSymlink: false, nlink: 1,
};

test('longname looks like ls -l (OpenSSH layout)', () => {
  assert.equal(formatLongname(base, 'name', 'uid', 'gid', now), '-rw-r--r--    1 uid      gid          1234 Jan  2 15:04 name');
  // unknown names fall back to the numbers
  assert.equal(formatLongname(base, 'name', '', '', now), '-rw-r--r--    1 1000     1000         1234 Jan  2 15:04 name');
  const dir = { ...base, mode: 0o040755, nlink: 12, size: 4096 };
  assert.equal(formatLongname(dir, 'd', 'verylongusername', 'g', now), 'drwxr-xr-x   12 verylongusername g            4096 Jan  2 15:04 d');
});

test('old and future files show the year instead of the time', () => {
  assert.equal(lsTime(new Date(Date.UTC(2024, 6, 14, 1, 2)), now), 'Jul 14  2024');
  assert.equal(lsTime(new Date(Date.UTC(2027, 6, 4)), now), 'Jul  4  2027');
  assert.equal(lsTime(new Date(NaN), now), 'Jan  1  1970');
});

test('mode strings cover types and special bits', () => {
  assert.equal(modeString(0o120777), 'lrwxrwxrwx');
  assert.equal(modeString(0o104755), '-rwsr-xr-x');
  assert.equal(modeString(0o102644), '-rw-r-Sr--');
  assert.equal(modeString(0o041777), 'drwxrwxrwt');
  assert.equal(modeString(0o041776), 'drwxrwxrwT');
  assert.equal(modeString(0o010600), 'prw-------');
});
