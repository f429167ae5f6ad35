import { test } from 'node:test';
import assert from 'node:assert/strict';
import { v2 } from 'webdav-server';
import { ERROR_KINDS, FsError } from '../../../src/common/errors';
import { DAV_STATUS, httpStatusOf, toDavError } from '../../../src/webdavd/status';
import { parseRange } from '../../../src/webdavd/get';
import { parseIf } from '../../../src/webdavd/ifheader';
import { parseBasicAuth } from '../../../src/webdavd/auth';

test('every ErrorKind is mapped, and the library error has the same status', () => {
  for (const kind of ERROR_KINDS) {
    const m = DAV_STATUS[kind];
    assert.ok(m, `missing ${kind}`);
    if (m.davError) assert.equal(v2.HTTPRequestContext.defaultStatusCode(m.davError), m.status, kind);
    assert.equal(httpStatusOf(new FsError(kind)), m.status);
  }
  assert.equal(DAV_STATUS.PermissionDenied.status, 403);
  assert.equal(DAV_STATUS.QuotaExceeded.status, 507);
  assert.equal(toDavError(new FsError('PermissionDenied')), v2.Errors.Forbidden);
});

test('parseRange', () => {
  assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
  assert.deepEqual(parseRange('bytes=90-', 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=50-500', 100), { start: 50, end: 99 });
  assert.equal(parseRange('bytes=100-', 100), 'unsatisfiable');
  assert.equal(parseRange('bytes=0-1,5-6', 100), undefined);
  assert.equal(parseRange(undefined, 100), undefined);
});

test('parseIf and parseBasicAuth', () => {
  assert.deepEqual(parseIf('(<urn:uuid:a>)'), [{ resource: undefined, conditions: [{ not: false, token: 'urn:uuid:a', etag: undefined }] }]);
  const l = parseIf('<http://h/x> (Not <DAV:no-lock> ["e1"])');
  assert.equal(l?.[0]?.resource, 'http://h/x');
  assert.equal(l?.[0]?.conditions.length, 2);
  assert.equal(parseIf('garbage'), undefined);
  assert.deepEqual(parseBasicAuth(`Basic ${Buffer.from('u:p:q').toString('base64')}`), { username: 'u', password: 'p:q' });
  assert.equal(parseBasicAuth('Bearer x'), undefined);
});
