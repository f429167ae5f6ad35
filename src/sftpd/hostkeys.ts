/**
 * Host keys: `sftpd.host_keys` (relative paths are resolved against the config
 * dir). With an empty list SFTPGo uses id_rsa, id_ecdsa and id_ed25519 in the
 * config dir and generates the missing ones on first start (RSA 4096, ECDSA
 * P-256, Ed25519; private key 0600 plus a `.pub` beside it). A configured key
 * with one of those default names is generated too when missing; any other
 * missing key is a startup error.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { utils } from 'ssh2';
import type { ParsedKey } from 'ssh2';
import { generateSshKeyPair } from '../util/sshkeygen';

interface KeyPairReturn { private: string; public: string }

export const DEFAULT_HOST_KEY_NAMES = ['id_rsa', 'id_ecdsa', 'id_ed25519'] as const;

export interface HostKey {
  path: string;
  /** ssh key type: ssh-rsa, ecdsa-sha2-nistp256, ssh-ed25519 ... */
  type: string;
  /** OpenSSH style `SHA256:<base64>` */
  fingerprint: string;
  /** the private key file content as given to ssh2 */
  privateKey: Buffer;
  generated: boolean;
}

export function sshFingerprint(publicBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(publicBlob).digest('base64').replace(/=+$/, '')}`;
}

function generate(name: string): Promise<KeyPairReturn> {
  if (name === 'id_rsa') return generateSshKeyPair('rsa', { bits: 4096 });
  if (name === 'id_ecdsa') return generateSshKeyPair('ecdsa', { bits: 256 });
  return generateSshKeyPair('ed25519');
}

async function writeNew(file: string, data: string): Promise<void> {
  // 'wx': never overwrite a key another process created meanwhile
  await fsp.writeFile(file, data, { mode: 0o600, flag: 'wx' });
}

async function readOrGenerate(file: string): Promise<{ data: Buffer; generated: boolean }> {
  try {
    return { data: await fsp.readFile(file), generated: false };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`unable to read host key "${file}": ${(e as Error).message}`);
  }
  const base = path.basename(file);
  if (!(DEFAULT_HOST_KEY_NAMES as readonly string[]).includes(base)) {
    throw new Error(`host key "${file}" does not exist`);
  }
  await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const kp = await generate(base);
  try {
    await writeNew(file, kp.private);
    await fsp.writeFile(`${file}.pub`, `${kp.public}\n`, { mode: 0o600 });
    return { data: Buffer.from(kp.private), generated: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return { data: await fsp.readFile(file), generated: false };
    throw new Error(`unable to write host key "${file}": ${(e as Error).message}`);
  }
}

export function parsePrivateKey(data: Buffer, file: string): ParsedKey {
  const parsed = utils.parseKey(data);
  if (parsed instanceof Error) throw new Error(`unable to parse host key "${file}": ${parsed.message}`);
  const key = Array.isArray(parsed) ? (parsed as ParsedKey[])[0] : parsed;
  if (!key || !key.isPrivateKey()) throw new Error(`host key "${file}" is not a private key`);
  return key;
}

/** Loads (generating where allowed) the host keys in configuration order. */
export async function loadHostKeys(configDir: string, configured: string[]): Promise<HostKey[]> {
  const list = configured.filter((k) => k.trim() !== '');
  const files = (list.length > 0 ? list : [...DEFAULT_HOST_KEY_NAMES])
    .map((k) => (path.isAbsolute(k) ? k : path.join(configDir, k)));
  const out: HostKey[] = [];
  for (const file of files) {
    const { data, generated } = await readOrGenerate(file);
    const key = parsePrivateKey(data, file);
    out.push({ path: file, type: key.type, fingerprint: sshFingerprint(key.getPublicSSH()), privateKey: data, generated });
  }
  return out;
}

/** True when a host key of `type` can sign with one of the allowed host key algorithms. */
export function hostKeyAllowed(type: string, allowedAlgos: string[]): boolean {
  if (type === 'ssh-rsa') return allowedAlgos.some((a) => a === 'ssh-rsa' || a === 'rsa-sha2-256' || a === 'rsa-sha2-512');
  return allowedAlgos.includes(type);
}
