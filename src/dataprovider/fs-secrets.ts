/**
 * Storage secrets (S3 access secret and SSE-C key, crypt passphrase...) as
 * SFTPGo keeps them: sealed with the kms on save (additional data: the
 * username, or "folder_<name>"), kept as stored when an update sends back an
 * already encrypted or hidden value, and hidden on output (key and
 * additional data removed, so what leaves the server cannot be decrypted).
 */
import type { SecretsKms } from '../kms/types';
import type { FilesystemConfig, Secret } from './models';
import { ValidationError } from './validation-core';

type Section = 's3config' | 'gcsconfig' | 'azblobconfig' | 'cryptconfig' | 'sftpconfig' | 'httpconfig';

/** The secret fields of each provider's section. */
const SECRET_FIELDS: Readonly<Record<number, readonly [Section, string][]>> = {
  1: [['s3config', 'access_secret'], ['s3config', 'sse_customer_key']],
  2: [['gcsconfig', 'credentials']],
  3: [['azblobconfig', 'account_key'], ['azblobconfig', 'sas_url']],
  4: [['cryptconfig', 'passphrase']],
  5: [['sftpconfig', 'password'], ['sftpconfig', 'private_key'], ['sftpconfig', 'key_passphrase']],
  6: [['httpconfig', 'password'], ['httpconfig', 'api_key']],
};

function secretAt(fs: FilesystemConfig | undefined, section: Section, key: string): Secret | undefined {
  const v = fs?.[section]?.[key];
  return typeof v === 'object' && v !== null && typeof (v as Secret).status === 'string' ? (v as Secret) : undefined;
}

function withSecret(fs: FilesystemConfig, section: Section, key: string, s: Secret | undefined): void {
  const sec = { ...(fs[section] ?? {}) };
  if (s) sec[key] = s; else delete sec[key];
  fs[section] = sec;
}

/**
 * Seals the plain secrets of a validated filesystem config. `existing` is the
 * stored config on update: a secret sent back in encrypted or hidden form is
 * replaced by the stored one (SFTPGo updateEncryptedSecrets).
 */
export async function sealFilesystemSecrets(
  fs: FilesystemConfig, existing: FilesystemConfig | undefined, kms: SecretsKms | undefined, additionalData: string, field: string,
): Promise<FilesystemConfig> {
  const out: FilesystemConfig = structuredClone(fs);
  for (const [section, key] of SECRET_FIELDS[fs.provider] ?? []) {
    const s = secretAt(out, section, key);
    if (!s) continue;
    if (s.status !== 'Plain') {
      const stored = existing?.provider === fs.provider ? secretAt(existing, section, key) : undefined;
      if (existing !== undefined) withSecret(out, section, key, stored ?? s);
      continue;
    }
    if (!kms) throw new ValidationError(`${field}.${section}.${key}: secrets cannot be stored: no kms is configured`);
    try {
      withSecret(out, section, key, await kms.encrypt(s.payload ?? '', additionalData));
    } catch (e) {
      throw new ValidationError(`${field}.${section}.${key}: cannot encrypt the secret: ${(e as Error).message}`);
    }
  }
  return out;
}

/** SFTPGo Secret.Hide on every secret of the config: status and sealed payload only. */
export function hideFilesystemSecrets(fs: FilesystemConfig | undefined): FilesystemConfig | undefined {
  if (!fs) return fs;
  const fields = SECRET_FIELDS[fs.provider] ?? [];
  if (fields.every(([section, key]) => secretAt(fs, section, key) === undefined)) return fs;
  const out: FilesystemConfig = structuredClone(fs);
  for (const [section, key] of fields) {
    const s = secretAt(out, section, key);
    if (!s) continue;
    // a plain secret never leaves the server, even if one was stored by an old version
    withSecret(out, section, key, s.status === 'Plain' ? { status: 'Redacted' } : { status: s.status, payload: s.payload, ...(s.mode ? { mode: s.mode } : {}) });
  }
  return out;
}
