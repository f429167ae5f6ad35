/**
 * SSH transport algorithm lists: SFTPGo's config keys (`sftpd.kex_algorithms`,
 * `ciphers`, `macs`, `host_key_algorithms`, `public_key_algorithms`) mapped onto
 * what ssh2 can actually negotiate. An explicit list is validated name by name
 * (a typo must fail the start, not silently weaken the server); an empty list
 * means SFTPGo's defaults intersected with ssh2's support.
 */
import type { Algorithms, CipherAlgorithm, KexAlgorithm, MacAlgorithm, ServerHostKeyAlgorithm } from 'ssh2';
import type { SftpdConfig } from '../config/types';

interface Ssh2Constants {
  SUPPORTED_KEX: string[];
  SUPPORTED_SERVER_HOST_KEY: string[];
  SUPPORTED_CIPHER: string[];
  SUPPORTED_MAC: string[];
}
interface Ssh2Crypto { bindingAvailable: boolean }

// ssh2 does not export these from its entry point; the paths are stable in 1.x.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const constants = require('ssh2/lib/protocol/constants.js') as Ssh2Constants;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sshCrypto = require('ssh2/lib/protocol/crypto.js') as Ssh2Crypto;

/** True when ssh2's native crypto binding (fast AES-GCM/chacha20-poly1305) loaded. */
export const nativeCryptoAvailable: boolean = sshCrypto.bindingAvailable;

export const SFTPGO_DEFAULT_KEX = [
  'mlkem768x25519-sha256', 'curve25519-sha256', 'ecdh-sha2-nistp256', 'ecdh-sha2-nistp384',
  'ecdh-sha2-nistp521', 'diffie-hellman-group14-sha256', 'diffie-hellman-group-exchange-sha256',
];
export const SFTPGO_DEFAULT_CIPHERS = [
  'aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com',
  'aes128-ctr', 'aes192-ctr', 'aes256-ctr',
];
export const SFTPGO_DEFAULT_MACS = ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-256'];
export const SFTPGO_DEFAULT_HOST_KEY_ALGOS = [
  'rsa-sha2-256', 'rsa-sha2-512', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521', 'ssh-ed25519',
];
/**
 * Client public key signature algorithms accepted by default (no SHA-1 `ssh-rsa`).
 * SFTPGo also accepts the FIDO security-key types (sk-ssh-ed25519@openssh.com,
 * sk-ecdsa-sha2-nistp256@openssh.com); ssh2 cannot parse or verify them, so they
 * are neither offered nor advertised, and naming them in public_key_algorithms
 * stops start-up (README "Not supported yet").
 */
export const SFTPGO_DEFAULT_PUBKEY_ALGOS = [...SFTPGO_DEFAULT_HOST_KEY_ALGOS];
/** Signature algorithms ssh2 can verify for client public key auth. */
const SUPPORTED_PUBKEY_ALGOS = [
  'ssh-rsa', 'rsa-sha2-256', 'rsa-sha2-512', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521', 'ssh-ed25519',
];

export interface ResolvedAlgorithms {
  /** what ssh2's Server accepts */
  ssh2: Algorithms;
  /** host key algorithms allowed (used to pick which host keys to offer) */
  hostKey: string[];
  /** client public key signature algorithms allowed */
  publicKey: string[];
}

function pick(configKey: string, configured: string[], defaults: string[], supported: string[]): string[] {
  const list = configured.map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) return defaults.filter((a) => supported.includes(a));
  for (const a of list) {
    if (!supported.includes(a)) throw new Error(`sftpd.${configKey}: unsupported algorithm "${a}"`);
  }
  return [...new Set(list)];
}

/** Throws an Error naming the offending config key and value. */
export function resolveAlgorithms(cfg: SftpdConfig): ResolvedAlgorithms {
  const kex = pick('kex_algorithms', cfg.kex_algorithms ?? [], SFTPGO_DEFAULT_KEX, constants.SUPPORTED_KEX);
  const cipher = pick('ciphers', cfg.ciphers ?? [], SFTPGO_DEFAULT_CIPHERS, constants.SUPPORTED_CIPHER);
  const hmac = pick('macs', cfg.macs ?? [], SFTPGO_DEFAULT_MACS, constants.SUPPORTED_MAC);
  const hostKey = pick('host_key_algorithms', cfg.host_key_algorithms ?? [], SFTPGO_DEFAULT_HOST_KEY_ALGOS,
    constants.SUPPORTED_SERVER_HOST_KEY);
  const publicKey = pick('public_key_algorithms', cfg.public_key_algorithms ?? [], SFTPGO_DEFAULT_PUBKEY_ALGOS,
    SUPPORTED_PUBKEY_ALGOS);
  if (kex.length === 0 || cipher.length === 0 || hmac.length === 0 || hostKey.length === 0) {
    throw new Error('sftpd: no usable algorithm left in kex/ciphers/macs/host key lists');
  }
  return {
    // Go's x/crypto (SFTPGo) offers no compression; neither do we.
    // the casts are sound: every name was checked against ssh2's own lists above
    ssh2: {
      kex: kex as KexAlgorithm[],
      cipher: cipher as CipherAlgorithm[],
      hmac: hmac as MacAlgorithm[],
      serverHostKey: hostKey as ServerHostKeyAlgorithm[],
      compress: ['none'],
    },
    hostKey,
    publicKey,
  };
}

/**
 * The signature algorithm name a publickey request used: ssh2 reports RSA
 * keys as `ssh-rsa` plus a hash, so rebuild the rsa-sha2-* name from the hash.
 */
export function publicKeyAlgoName(keyType: string, hashAlgo: string | undefined): string {
  if (keyType !== 'ssh-rsa') return keyType;
  if (hashAlgo === 'sha256') return 'rsa-sha2-256';
  if (hashAlgo === 'sha512') return 'rsa-sha2-512';
  return 'ssh-rsa';
}
