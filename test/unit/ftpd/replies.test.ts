import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_KINDS, FsError } from '../../../src/common/errors';
import { ERROR_REPLIES, errorReply, unmappedKinds } from '../../../src/ftpd/replies';
import { parseEprt, parsePort, inNetwork, normalizeIp } from '../../../src/ftpd/addr';
import { ftpTime, parseFtpTime, lsLine, mlsxLine } from '../../../src/ftpd/format';

test('every ErrorKind has an FTP reply with a valid code', () => {
  assert.deepEqual(unmappedKinds(), []);
  for (const k of ERROR_KINDS) {
    const r = ERROR_REPLIES[k];
    assert.ok(r, `kind ${k} unmapped`);
    assert.ok(r.code >= 400 && r.code < 600, `${k}: ${r.code}`);
    assert.ok(r.message.length > 0);
  }
});

test('key kinds map to the codes clients act on', () => {
  assert.equal(errorReply(new FsError('NotFound')).code, 550);
  assert.equal(errorReply(new FsError('PermissionDenied')).message, 'permission denied');
  assert.equal(errorReply(new FsError('QuotaExceeded')).code, 552);
  assert.equal(errorReply(new FsError('Unsupported')).code, 504);
  assert.equal(errorReply(new FsError('InvalidPath')).code, 553);
  assert.equal(errorReply(new FsError('Aborted')).code, 426);
  // a non-FsError is a local error, and its message (maybe a real path) is not echoed
  const r = errorReply(new Error('/srv/secret/path exploded'), 'Could not delete file');
  assert.equal(r.code, 451);
  assert.equal(r.message, 'Could not delete file: local error in processing');
  // an FsError's own message is not echoed either
  assert.equal(errorReply(new FsError('NotFound', '/real/backend/path: missing')).message, 'no such file or directory');
});

test('PORT/EPRT parsing rejects malformed input', () => {
  assert.deepEqual(parsePort('127,0,0,1,4,1'), { host: '127.0.0.1', port: 1025 });
  assert.equal(parsePort('127,0,0,1,4'), undefined);
  assert.equal(parsePort('300,0,0,1,4,1'), undefined);
  assert.equal(parsePort('a,b,c,d,e,f'), undefined);
  assert.deepEqual(parseEprt('|1|10.0.0.1|2000|'), { host: '10.0.0.1', port: 2000 });
  assert.deepEqual(parseEprt('|2|::1|2000|'), { host: '::1', port: 2000 });
  assert.equal(parseEprt('|1|::1|2000|'), undefined);
  assert.equal(parseEprt('|3|10.0.0.1|2000|'), undefined);
  assert.equal(parseEprt('|1|10.0.0.1|70000|'), undefined);
  assert.equal(parseEprt(''), undefined);
});

test('address helpers', () => {
  assert.equal(normalizeIp('::ffff:127.0.0.1'), '127.0.0.1');
  assert.ok(inNetwork('::ffff:192.168.1.7', '192.168.1.0/24'));
  assert.ok(!inNetwork('192.168.2.7', '192.168.1.0/24'));
  assert.ok(inNetwork('fd00::5', 'fd00::/8'));
  assert.ok(!inNetwork('10.0.0.1', 'garbage'));
});

test('time and listing formats', () => {
  const d = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));
  assert.equal(ftpTime(d), '20240102030405');
  assert.equal(parseFtpTime('20240102030405')?.getTime(), d.getTime());
  assert.equal(parseFtpTime('20241302030405'), undefined);
  assert.equal(parseFtpTime('2024'), undefined);
  const fi = { name: 'a b.txt', size: 12, mode: 0o100644, mtime: d, atime: d, uid: 1000, gid: 1000, isDirectory: false, isFile: true, isSymlink: false };
  const line = lsLine(fi, d.getTime());
  assert.match(line, /^-rw-r--r-- +1 1000 +1000 +12 Jan 02 03:04 a b\.txt$/);
  assert.equal(mlsxLine(fi, fi.name), 'type=file;size=12;modify=20240102030405;unix.mode=0644;unix.uid=1000;unix.gid=1000; a b.txt');
});
