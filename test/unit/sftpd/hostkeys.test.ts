import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { utils } from 'ssh2';
import { hostKeyAllowed, loadHostKeys } from '../../../src/sftpd/hostkeys';
import { verifyPublicKeySignature } from '../../../src/sftpd/auth';
import { generateSshKeyPairSync } from '../../../src/util/sshkeygen';

test('host keys: generated once with 0600, reused afterwards, fingerprints match ssh-keygen style', async () => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'sftpd-hk-'));
  try {
    const first = await loadHostKeys(dir, []);
    assert.deepEqual(first.map((k) => k.type), ['ssh-rsa', 'ecdsa-sha2-nistp256', 'ssh-ed25519']);
    assert.ok(first.every((k) => k.generated));
    for (const n of ['id_rsa', 'id_ecdsa', 'id_ed25519']) {
      const st = await fsp.stat(path.join(dir, n));
      assert.equal(st.mode & 0o777, 0o600, n);
      assert.ok((await fsp.readFile(path.join(dir, `${n}.pub`), 'utf8')).length > 0);
    }
    const rsa = utils.parseKey(first[0]!.privateKey);
    assert.ok(!(rsa instanceof Error));
    // RSA 4096 as SFTPGo: the modulus is 512 bytes (+1 sign byte) inside the wire blob
    const blob = (rsa as { getPublicSSH(): Buffer }).getPublicSSH();
    assert.ok(blob.length > 512 && blob.length < 540, `blob length ${blob.length}`);
    const second = await loadHostKeys(dir, []);
    assert.ok(second.every((k) => !k.generated));
    assert.deepEqual(second.map((k) => k.fingerprint), first.map((k) => k.fingerprint));
    assert.equal(first[2]!.fingerprint, `SHA256:${createHash('sha256').update(
      (utils.parseKey(first[2]!.privateKey) as { getPublicSSH(): Buffer }).getPublicSSH()).digest('base64').replace(/=+$/, '')}`);
    // a configured relative path with a default name is generated in the config dir; another name must exist
    const sub = await loadHostKeys(dir, ['keys/id_ed25519']);
    assert.equal(sub[0]!.path, path.join(dir, 'keys/id_ed25519'));
    await assert.rejects(loadHostKeys(dir, ['missing_key']), /does not exist/);
    await fsp.writeFile(path.join(dir, 'garbage'), 'not a key');
    await assert.rejects(loadHostKeys(dir, ['garbage']), /unable to parse/);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
});

test('hostKeyAllowed maps RSA keys to rsa-sha2-*', () => {
  assert.equal(hostKeyAllowed('ssh-rsa', ['rsa-sha2-512']), true);
  assert.equal(hostKeyAllowed('ssh-rsa', ['ssh-ed25519']), false);
  assert.equal(hostKeyAllowed('ssh-ed25519', ['ssh-ed25519']), true);
});

test('verifyPublicKeySignature accepts only a real signature by the offered key', () => {
  const data = Buffer.from('session id + userauth request');
  for (const type of ['ed25519', 'ecdsa', 'rsa'] as const) {
    const kp = type === 'rsa' ? generateSshKeyPairSync('rsa', { bits: 2048 })
      : type === 'ecdsa' ? generateSshKeyPairSync('ecdsa', { bits: 256 }) : generateSshKeyPairSync('ed25519');
    const other = generateSshKeyPairSync('ed25519');
    const priv = utils.parseKey(kp.private) as { sign(d: Buffer, algo?: string): Buffer; getPublicSSH(): Buffer };
    const otherPriv = utils.parseKey(other.private) as { sign(d: Buffer): Buffer };
    const blob = priv.getPublicSSH();
    const hash = type === 'rsa' ? 'sha512' : undefined;
    const sig = priv.sign(data, hash);
    assert.equal(verifyPublicKeySignature(blob, data, sig, hash), true, type);
    assert.equal(verifyPublicKeySignature(blob, Buffer.from('other data'), sig, hash), false, `${type} other data`);
    assert.equal(verifyPublicKeySignature(blob, data, otherPriv.sign(data), hash), false, `${type} wrong key`);
    assert.equal(verifyPublicKeySignature(blob, data, Buffer.alloc(sig.length, 7), hash), false, `${type} garbage`);
    assert.equal(verifyPublicKeySignature(Buffer.from('junk'), data, sig, hash), false, `${type} junk blob`);
  }
});
