/** Password reset codes: valid for ten minutes (injected clock), for their own kind of account, until consumed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RESET_CODE_TTL_MS, ResetCodes } from '../../../src/httpd/pwreset';

test('a code lives RESET_CODE_TTL_MS, for its kind only, until consumed', () => {
  let now = 1_000_000;
  const codes = new ResetCodes(() => now);
  const code = codes.add('alice', 'user');
  assert.match(code, /^[A-Za-z0-9_-]{20}$/);
  assert.equal(codes.peek(code, 'admin'), undefined, 'a user code is not an admin code');
  assert.equal(codes.peek(code, 'user'), 'alice');
  now += RESET_CODE_TTL_MS - 1;
  assert.equal(codes.peek(code, 'user'), 'alice', 'still valid just before the end');
  now += 1;
  assert.equal(codes.peek(code, 'user'), undefined, 'expired');
  const second = codes.add('alice', 'user');
  assert.notEqual(second, code);
  codes.consume(second);
  assert.equal(codes.peek(second, 'user'), undefined, 'used once');
});
