import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ERROR_KINDS, FsError } from '../../../../src/common/errors';
import { SFTP_STATUS, SFTP_STATUS_BY_KIND, sftpStatusFor } from '../../../../src/sftpd/status';

test('every ErrorKind maps to an SFTP status with a non-empty message', () => {
  for (const kind of ERROR_KINDS) {
    const st = SFTP_STATUS_BY_KIND[kind];
    assert.ok(st, `unmapped kind ${kind}`);
    assert.ok(st.message.length > 0);
    assert.ok(Object.values(SFTP_STATUS).includes(st.code));
  }
  assert.deepEqual(Object.keys(SFTP_STATUS_BY_KIND).sort(), [...ERROR_KINDS].sort());
});

test('kinds map to the SFTP codes SFTPGo uses', () => {
  assert.equal(sftpStatusFor(new FsError('NotFound')).code, SFTP_STATUS.NO_SUCH_FILE);
  assert.equal(sftpStatusFor(new FsError('PermissionDenied')).code, SFTP_STATUS.PERMISSION_DENIED);
  assert.equal(sftpStatusFor(new FsError('Unsupported')).code, SFTP_STATUS.OP_UNSUPPORTED);
  assert.deepEqual(sftpStatusFor(new FsError('QuotaExceeded')), {
    code: SFTP_STATUS.FAILURE, message: 'failure: denying write due to space limit',
  });
  assert.equal(sftpStatusFor(new FsError('NotEmpty')).code, SFTP_STATUS.FAILURE);
});

test('non-FsErrors are generic failures that reveal nothing', () => {
  assert.deepEqual(sftpStatusFor(new Error('/srv/secret/path: EIO')), { code: SFTP_STATUS.FAILURE, message: 'failure' });
  assert.deepEqual(sftpStatusFor('x'), { code: SFTP_STATUS.FAILURE, message: 'failure' });
  // the FsError's own text (may hold a real path) is never the client message
  assert.equal(sftpStatusFor(new FsError('NotFound', '/srv/data/u1/x: no such file')).message, 'no such file');
});
