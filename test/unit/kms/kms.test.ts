import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import { createKms } from '../../../src/kms';

const cfg = (url = '', master = '') => ({ secrets: { url, master_key: master, master_key_path: '' } });

test('local secretbox: round trip with and without a master key, additional data bound', async () => {
  for (const master of ['', 'a-master-key-for-tests']) {
    const kms = createKms(cfg('', master));
    const s = await kms.encrypt('s3cr3t value', 'user1');
    assert.equal(s.status, 'Secretbox');
    assert.equal(s.mode, master === '' ? 0 : 1);
    assert.equal(s.additional_data, 'user1');
    assert.ok(kms.isEncrypted(s));
    assert.equal(await kms.decrypt(s), 's3cr3t value');
    await assert.rejects(kms.decrypt({ ...s, additional_data: 'user2' }), /cannot decrypt/);
  }
});

test('local secretbox: a secret sealed with a master key needs that key', async () => {
  const s = await createKms(cfg('local://', 'key-one')).encrypt('x', '');
  await assert.rejects(createKms(cfg('local://', 'key-two')).decrypt(s), /cannot decrypt/);
  await assert.rejects(createKms(cfg('local://', '')).decrypt(s), /master key/);
});

test('local secretbox: reads a secret laid out as SFTPGo writes it (HKDF salt = key, info = additional data, nonce first)', async () => {
  const key = randomBytes(32);
  const master = 'mk';
  const boxKey = new Uint8Array(hkdfSync('sha256', Buffer.from(master), key, Buffer.from('ad'), 32));
  const nonce = randomBytes(24);
  const box = nacl.secretbox(Buffer.from('from sftpgo'), nonce, boxKey);
  const payload = Buffer.concat([nonce, Buffer.from(box)]).toString('base64');
  const kms = createKms(cfg('', master));
  assert.equal(await kms.decrypt({ status: 'Secretbox', payload, key: key.toString('hex'), additional_data: 'ad', mode: 1 }), 'from sftpgo');
});

test('builtin AES-256-GCM: round trip and SFTPGo layout', async () => {
  const kms = createKms(cfg('builtin://'));
  const s = await kms.encrypt('pw', 'folder');
  assert.equal(s.status, 'AES-256-GCM');
  assert.equal(await kms.decrypt(s), 'pw');
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const aes = createHash('sha256').update(key).update('').update(key).digest();
  const c = createCipheriv('aes-256-gcm', aes, nonce);
  const body = Buffer.concat([c.update('legacy'), c.final(), c.getAuthTag()]);
  assert.equal(await kms.decrypt({ status: 'AES-256-GCM', payload: Buffer.concat([nonce, body]).toString('hex'), key: key.toString('hex') }), 'legacy');
});

test('plain, redacted, cloud and malformed secrets', async () => {
  const kms = createKms(cfg());
  assert.equal(await kms.decrypt({ status: 'Plain', payload: 'p' }), 'p');
  assert.equal(kms.isEncrypted({ status: 'Plain', payload: 'p' }), false);
  await assert.rejects(kms.decrypt({ status: 'Redacted' }), /redacted/);
  await assert.rejects(kms.decrypt({ status: 'AWS', payload: 'x' }), /plugin/);
  await assert.rejects(kms.decrypt({ status: 'Secretbox', payload: 'AAAA', key: 'zz' }), /malformed/);
  await assert.rejects(kms.decrypt({ status: 'Bogus' }), /unknown/);
  await assert.rejects(kms.encrypt(''), /empty/);
});

test('a URL scheme that needs a plugin stops start-up', () => {
  assert.throws(() => createKms(cfg('awskms:///alias/x')), /kms\.secrets\.url.*plugin/);
});
