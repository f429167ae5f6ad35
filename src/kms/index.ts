/**
 * Interim secrets provider: only SFTPGo's "Plain" status is understood.
 * Encrypted forms (Secretbox, AES-256-GCM, plugin schemes) are refused with a
 * clear error rather than guessed at; the real local provider replaces this.
 */
import type { Secret } from '../dataprovider/models';
import type { SecretsKms } from './types';

export type { SecretsKms } from './types';

export interface KmsConfig { secrets: { url: string; master_key: string; master_key_path: string } }

export function createKms(_config: KmsConfig): SecretsKms {
  return {
    encrypt(): Promise<Secret> {
      return Promise.reject(new Error('kms: encrypting secrets is not supported yet'));
    },
    decrypt(secret: Secret): Promise<string> {
      if (secret.status === 'Plain') return Promise.resolve(secret.payload ?? '');
      return Promise.reject(new Error(`kms: secrets with status "${secret.status}" cannot be decrypted yet`));
    },
    isEncrypted(secret: Secret): boolean {
      return secret.status !== 'Plain' && secret.status !== '';
    },
  };
}
