/**
 * The backends' error mappers agree on what 'Unavailable' is: the request did
 * not get through (refused, reset, timed out, also when wrapped by the SDK or
 * an AggregateError of each address) or the service answered 5xx; a 4xx stays
 * what it says (NotFound, PermissionDenied, Generic).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromAzError } from '../../../src/vfs/azblob/client';
import { isUnreachable } from '../../../src/vfs/backend-errors';
import { fromGcsError } from '../../../src/vfs/gcs/client';
import { fromS3Error } from '../../../src/vfs/s3/client';
import { fromSftpError } from '../../../src/vfs/sftpfs/remote';

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });

test('unreachable: errno codes, timeouts, wrapped causes, AggregateError', () => {
  assert.equal(isUnreachable(refused), true);
  assert.equal(isUnreachable(new Error('wrapped', { cause: new Error('inner', { cause: refused }) })), true);
  assert.equal(isUnreachable(new AggregateError([refused, refused], 'all failed')), true);
  assert.equal(isUnreachable(Object.assign(new Error('t'), { name: 'TimeoutError' })), true);
  assert.equal(isUnreachable(new Error('NoSuchBucket')), false);
  assert.equal(isUnreachable(undefined), false);
});

test('S3, Azure, GCS and remote SFTP map unreachable and 5xx to Unavailable, 4xx as before', () => {
  const s3 = (status: number): unknown => Object.assign(new Error('x'), { name: 'X', $metadata: { httpStatusCode: status } });
  assert.equal(fromS3Error(s3(503), 'head k').kind, 'Unavailable');
  assert.equal(fromS3Error(s3(500), 'head k').kind, 'Unavailable');
  assert.equal(fromS3Error(s3(404), 'head k').kind, 'NotFound');
  assert.equal(fromS3Error(s3(403), 'head k').kind, 'PermissionDenied');
  assert.equal(fromS3Error(s3(400), 'head k').kind, 'Generic');
  assert.equal(fromS3Error(refused, 'head k').kind, 'Unavailable');
  const az = (statusCode: number): unknown => Object.assign(new Error('x'), { statusCode });
  assert.equal(fromAzError(az(502), 'head b').kind, 'Unavailable');
  assert.equal(fromAzError(az(409), 'head b').kind, 'Generic');
  assert.equal(fromAzError(Object.assign(new Error('send'), { code: 'REQUEST_SEND_ERROR' }), 'head b').kind, 'Unavailable');
  assert.equal(fromGcsError(Object.assign(new Error('x'), { code: 503 }), 'head o').kind, 'Unavailable');
  assert.equal(fromGcsError(Object.assign(new Error('x'), { code: 404 }), 'head o').kind, 'NotFound');
  assert.equal(fromGcsError(refused, 'head o').kind, 'Unavailable');
  assert.equal(fromSftpError(new Error('No response from server'), 'sftpfs stat').kind, 'Unavailable');
  assert.equal(fromSftpError(Object.assign(new Error('Failure'), { code: 4 }), 'sftpfs stat').kind, 'Generic');
});
