import { test } from 'node:test';
import assert from 'node:assert/strict';
import { base32Decode, base32Encode, checkTotpConfigs, generateTotpSecret, otpauthUrl, totpCode, TotpValidator, validateTotpSecret } from '../../../src/mfa/totp';

const b32 = (ascii: string): string => base32Encode(Buffer.from(ascii, 'ascii'));

test('RFC 6238 test vectors (last 6 digits) for SHA1, SHA256, SHA512', () => {
  const k1 = b32('12345678901234567890');
  const k256 = b32('12345678901234567890123456789012');
  const k512 = b32('1234567890123456789012345678901234567890123456789012345678901234');
  assert.equal(totpCode(k1, 'sha1', 59_000), '287082');
  assert.equal(totpCode(k256, 'sha256', 59_000), '119246');
  assert.equal(totpCode(k512, 'sha512', 59_000), '693936');
  assert.equal(totpCode(k1, 'sha1', 1111111109_000), '081804');
  assert.equal(totpCode(k256, 'sha256', 20000000000_000), '737706');
});

test('base32 round trip and malformed input', () => {
  const buf = Buffer.from([0, 1, 2, 250, 251, 252, 253]);
  assert.deepEqual(base32Decode(base32Encode(buf)), buf);
  assert.equal(base32Decode('1!'), undefined);
  const s = generateTotpSecret();
  assert.equal(base32Decode(s)?.length, 20);
  validateTotpSecret(s);
  assert.throws(() => validateTotpSecret(b32('short')), /at least 20/);
});

test('validator: skew of one step, replay refused, unknown config throws', () => {
  let now = 1_700_000_000_000;
  const v = new TotpValidator([{ name: 'Default', issuer: 'SFTPGo', algo: 'sha1' }], () => now);
  const secret = generateTotpSecret();
  const prev = totpCode(secret, 'sha1', now - 30_000);
  assert.equal(v.check('Default', prev, secret), 'ok');
  assert.equal(v.check('Default', prev, secret), 'replayed');
  assert.equal(v.check('Default', totpCode(secret, 'sha1', now - 90_000), secret), 'invalid');
  assert.equal(v.check('Default', 'abcdef', secret), 'invalid');
  assert.throws(() => v.check('Other', '123456', secret), /no configuration/);
  now += 3 * 60_000;
  // the replay record expires with the code's validity
  assert.equal(v.check('Default', totpCode(secret, 'sha1', now), secret), 'ok');
});

test('config checks and otpauth URL', () => {
  assert.throws(() => checkTotpConfigs([{ name: 'a', issuer: 'i', algo: 'md5' }]), /unsupported algo/);
  assert.throws(() => checkTotpConfigs([{ name: 'a', issuer: 'i', algo: 'sha1' }, { name: 'a', issuer: 'i', algo: 'sha1' }]), /duplicate/);
  const url = otpauthUrl({ name: 'Default', issuer: 'SFTPGo', algo: 'sha1' }, 'alice', 'ABC');
  assert.match(url, /^otpauth:\/\/totp\/SFTPGo:alice\?algorithm=SHA1&digits=6&issuer=SFTPGo&period=30&secret=ABC$/);
});
