/**
 * SFTPGo's built-in secret providers (kms.secrets.url "" or "local://", and
 * "builtin://"), in SFTPGo's stored format so dumps move both ways:
 *  - local: status "Secretbox". A random 32-byte key (hex in `key`); the box key is
 *    HKDF-SHA256(ikm = master key, or sha256(key || additional_data || key) without one,
 *    salt = key, info = additional_data); payload = base64(nonce(24) || secretbox).
 *    `mode` 1 = sealed with the master key, 0 = without.
 *  - builtin (legacy): status "AES-256-GCM", AES key sha256(key || additional_data || key),
 *    payload = hex(nonce(12) || ciphertext || tag), additional_data as GCM AAD.
 * Any other URL scheme (AWS/GCP/Vault/Azure KMS) needs a plugin: refused at start-up.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import nacl from 'tweetnacl';
import type { Secret } from '../dataprovider/models';
import type { SecretsKms } from './types';

export type { SecretsKms } from './types';

export interface KmsConfig { secrets: { url: string; master_key: string; master_key_path: string } }

export const SECRET_STATUS = { plain: 'Plain', secretbox: 'Secretbox', aes256gcm: 'AES-256-GCM', redacted: 'Redacted' } as const;
const CLOUD_STATUSES = new Set(['GCP', 'AWS', 'VaultTransit', 'AzureKeyVault', 'OracleKeyVault']);

function legacyKey(key: Buffer, additionalData: string): Buffer {
  return createHash('sha256').update(key).update(additionalData, 'utf8').update(key).digest();
}

function secretboxKey(key: Buffer, additionalData: string, masterKey: string, sealedWithMaster: boolean): Uint8Array {
  const ikm = masterKey !== '' && sealedWithMaster ? Buffer.from(masterKey, 'utf8') : legacyKey(key, additionalData);
  return new Uint8Array(hkdfSync('sha256', ikm, key, Buffer.from(additionalData, 'utf8'), 32));
}

function decryptSecretbox(s: Secret, masterKey: string): string {
  const key = Buffer.from(s.key ?? '', 'hex');
  const data = Buffer.from(s.payload ?? '', 'base64');
  if (key.length !== 32 || data.length < nacl.secretbox.nonceLength + nacl.secretbox.overheadLength) throw new Error('kms: malformed Secretbox secret');
  if ((s.mode ?? 0) === 1 && masterKey === '') throw new Error('kms: the secret was sealed with a master key and none is configured');
  const boxKey = secretboxKey(key, s.additional_data ?? '', masterKey, (s.mode ?? 0) === 1);
  const nonce = data.subarray(0, nacl.secretbox.nonceLength);
  const opened = nacl.secretbox.open(data.subarray(nacl.secretbox.nonceLength), nonce, boxKey);
  if (!opened) throw new Error('kms: cannot decrypt the secret (wrong master key or corrupted data)');
  return Buffer.from(opened).toString('utf8');
}

function encryptSecretbox(plain: string, additionalData: string, masterKey: string): Secret {
  const key = randomBytes(32);
  const boxKey = secretboxKey(key, additionalData, masterKey, masterKey !== '');
  const nonce = randomBytes(nacl.secretbox.nonceLength);
  const box = nacl.secretbox(Buffer.from(plain, 'utf8'), nonce, boxKey);
  const out: Secret = {
    status: SECRET_STATUS.secretbox,
    payload: Buffer.concat([nonce, Buffer.from(box)]).toString('base64'),
    key: key.toString('hex'),
    mode: masterKey !== '' ? 1 : 0,
  };
  if (additionalData !== '') out.additional_data = additionalData;
  return out;
}

function decryptAesGcm(s: Secret): string {
  const key = Buffer.from(s.key ?? '', 'hex');
  const data = Buffer.from(s.payload ?? '', 'hex');
  if (key.length !== 32 || data.length < 12 + 16) throw new Error('kms: malformed AES-256-GCM secret');
  const d = createDecipheriv('aes-256-gcm', legacyKey(key, s.additional_data ?? ''), data.subarray(0, 12));
  if (s.additional_data) d.setAAD(Buffer.from(s.additional_data, 'utf8'));
  d.setAuthTag(data.subarray(data.length - 16));
  try {
    return Buffer.concat([d.update(data.subarray(12, data.length - 16)), d.final()]).toString('utf8');
  } catch {
    throw new Error('kms: cannot decrypt the AES-256-GCM secret (corrupted data)');
  }
}

function encryptAesGcm(plain: string, additionalData: string): Secret {
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', legacyKey(key, additionalData), nonce);
  if (additionalData !== '') c.setAAD(Buffer.from(additionalData, 'utf8'));
  const body = Buffer.concat([c.update(plain, 'utf8'), c.final(), c.getAuthTag()]);
  const out: Secret = { status: SECRET_STATUS.aes256gcm, payload: Buffer.concat([nonce, body]).toString('hex'), key: key.toString('hex') };
  if (additionalData !== '') out.additional_data = additionalData;
  return out;
}

/** master_key wins over master_key_path (SFTPGo's ResolveConfigValue); a path is read once at start. */
function resolveMasterKey(cfg: KmsConfig['secrets'], configDir: string): string {
  if (cfg.master_key !== '') return cfg.master_key;
  if (cfg.master_key_path === '') return '';
  const p = cfg.master_key_path.startsWith('/') ? cfg.master_key_path : `${configDir}/${cfg.master_key_path}`;
  try {
    return readFileSync(p, 'utf8').trim();
  } catch (e) {
    throw new Error(`kms.secrets.master_key_path: cannot read "${p}": ${(e as Error).message}`);
  }
}

/** Throws (start-up error) for a URL no built-in provider serves. */
export function createKms(config: KmsConfig, configDir = '.'): SecretsKms {
  const url = config.secrets.url.trim();
  const scheme = url === '' ? 'local' : url.split('://')[0];
  if (scheme !== 'local' && scheme !== 'builtin') {
    throw new Error(`kms.secrets.url: scheme "${scheme}" needs a KMS plugin serving it (the plugins section); none is configured, use "local://" or "builtin://"`);
  }
  const masterKey = resolveMasterKey(config.secrets, configDir);
  return {
    encrypt(plain: string, additionalData = ''): Promise<Secret> {
      if (plain === '') return Promise.reject(new Error('kms: cannot encrypt an empty secret'));
      return Promise.resolve(scheme === 'local' ? encryptSecretbox(plain, additionalData, masterKey) : encryptAesGcm(plain, additionalData));
    },
    decrypt(secret: Secret): Promise<string> {
      try {
        switch (secret.status) {
          case SECRET_STATUS.plain: return Promise.resolve(secret.payload ?? '');
          case SECRET_STATUS.secretbox: return Promise.resolve(decryptSecretbox(secret, masterKey));
          case SECRET_STATUS.aes256gcm: return Promise.resolve(decryptAesGcm(secret));
          case SECRET_STATUS.redacted: throw new Error('kms: a redacted secret has no value');
          default:
            if (CLOUD_STATUSES.has(secret.status)) throw new Error(`kms: secrets with status "${secret.status}" need a KMS plugin serving that scheme, none is configured`);
            throw new Error(`kms: unknown secret status "${secret.status}"`);
        }
      } catch (e) {
        return Promise.reject(e as Error);
      }
    },
    isEncrypted(secret: Secret): boolean {
      return secret.status === SECRET_STATUS.secretbox || secret.status === SECRET_STATUS.aes256gcm || CLOUD_STATUSES.has(secret.status);
    },
  };
}
