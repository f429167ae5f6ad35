/**
 * The secrets port (SFTPGo's `kms.secrets` section): every stored secret
 * (TOTP secrets, cloud storage keys, crypt passphrases...) goes through it.
 * Built in service/ from the config and handed down in the ServerContext.
 */
import type { Secret } from '../dataprovider/models';

export interface SecretsKms {
  /** Encrypts a plain value with the configured provider; the result is what is stored and dumped. */
  encrypt(plain: string, additionalData?: string): Promise<Secret>;
  /** The plain value of a stored secret; throws an Error naming why when it cannot be decrypted. */
  decrypt(secret: Secret): Promise<string>;
  /** true when the secret is already in the provider's encrypted form (nothing to do on save). */
  isEncrypted(secret: Secret): boolean;
}
