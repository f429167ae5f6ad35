/**
 * KMS plugins behind the secrets port (SFTPGo kmsPluginSecretProvider): a
 * new secret is encrypted by the plugin serving the scheme of
 * `kms.secrets.url` (stored with the plugin's `encrypted_status`, its key
 * and mode); a stored secret is decrypted by the plugin owning its status,
 * and local/builtin secrets keep the built-in formats. The URL and the
 * master key go to the plugin with every call, as SFTPGo sends them. A
 * plugin down or failing is an error naming it: never a plain fallback.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createKms } from '../kms';
import type { SecretsKms } from '../kms/types';
import type { AppConfig } from '../config/types';

type KmsConfig = AppConfig['kms'];
import type { Secret } from '../dataprovider/models';
import { loadService, unaryCall } from './proto';
import type { PluginProcess } from './process';

export const KMS_MAGIC_COOKIE: [string, string] = ['SFTPGO_PLUGIN_KMS', '223e3571-7ed2-4b96-b4b3-c7eb87d7ca1d'];

export class KmsPlugin {
  private readonly service = loadService('kms.proto', 'proto.KMS');

  constructor(readonly process: PluginProcess, readonly scheme: string, readonly encryptedStatus: string) {}

  async encrypt(plain: string, additionalData: string, url: string, masterKey: string): Promise<Secret> {
    const r = await unaryCall<{ payload: string; key: string; mode: number }>(this.process.client(this.service), this.service, 'Encrypt',
      { payload: plain, additional_data: additionalData, url, master_key: masterKey }, this.process.callTimeoutMs);
    return { status: this.encryptedStatus, payload: r.payload, key: r.key, additional_data: additionalData, mode: r.mode };
  }

  async decrypt(s: Secret, url: string, masterKey: string): Promise<string> {
    const r = await unaryCall<{ payload: string }>(this.process.client(this.service), this.service, 'Decrypt',
      { payload: s.payload ?? '', key: s.key ?? '', additional_data: s.additional_data ?? '', mode: s.mode ?? 0, url, master_key: masterKey },
      this.process.callTimeoutMs);
    return r.payload;
  }
}

function masterKeyOf(config: KmsConfig, configDir: string): string {
  const s = config.secrets;
  if (s.master_key !== '') return s.master_key;
  if (s.master_key_path === '') return '';
  return readFileSync(path.resolve(configDir, s.master_key_path), 'utf8').trim();
}

/** ctx.kms: the built-in port, with the KMS plugins for their scheme (encrypt) and status (decrypt). */
export function createKmsWithPlugins(config: KmsConfig, configDir: string, plugins: KmsPlugin[]): SecretsKms {
  if (plugins.length === 0) return createKms(config, configDir);
  const url = config.secrets.url.trim();
  const scheme = url.split('://')[0];
  const encrypter = plugins.find((p) => p.scheme === scheme);
  // the built-in formats stay readable; new secrets go to the plugin when the URL names its scheme
  const builtin = createKms(encrypter ? { ...config, secrets: { ...config.secrets, url: 'local://' } } : config, configDir);
  const masterKey = masterKeyOf(config, configDir);
  const byStatus = (s: Secret): KmsPlugin | undefined => plugins.find((p) => p.encryptedStatus === s.status);
  const named = (p: KmsPlugin, e: unknown): Error => new Error(`kms: ${p.process.name}: ${(e as Error).message}`);
  return {
    async encrypt(plain, additionalData = '') {
      if (!encrypter) return builtin.encrypt(plain, additionalData);
      if (plain === '') throw new Error('kms: cannot encrypt an empty secret');
      return encrypter.encrypt(plain, additionalData, url, masterKey).catch((e: unknown) => { throw named(encrypter, e); });
    },
    async decrypt(secret) {
      const p = byStatus(secret);
      if (!p) return builtin.decrypt(secret);
      return p.decrypt(secret, url, masterKey).catch((e: unknown) => { throw named(p, e); });
    },
    isEncrypted: (secret) => byStatus(secret) !== undefined || builtin.isEncrypted(secret),
  };
}
