/** SSH key helpers for tests: client key pairs written where OpenSSH and ssh2 can use them. */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { generateSshKeyPairSync } from '../../src/util/sshkeygen';

export interface TestKeyPair {
  /** OpenSSH private key file (0600), usable with `ssh -i` */
  privateKeyPath: string;
  privateKey: string;
  /** authorized_keys line */
  publicKey: string;
}

export async function writeKeyPair(dir: string, name: string, type: 'ed25519' | 'ecdsa' | 'rsa' = 'ed25519'): Promise<TestKeyPair> {
  const kp = type === 'rsa'
    ? generateSshKeyPairSync('rsa', { bits: 2048 })
    : type === 'ecdsa' ? generateSshKeyPairSync('ecdsa', { bits: 256 }) : generateSshKeyPairSync('ed25519');
  const privateKeyPath = path.join(dir, name);
  await fsp.writeFile(privateKeyPath, kp.private, { mode: 0o600 });
  await fsp.writeFile(`${privateKeyPath}.pub`, `${kp.public}\n`, { mode: 0o600 });
  return { privateKeyPath, privateKey: kp.private, publicKey: kp.public };
}
