/**
 * TLS settings of the telemetry listener (SFTPGo `telemetry.certificate_file`,
 * `certificate_key_file`, `min_tls_version`, `tls_cipher_suites`,
 * `tls_protocols`); cipher suite names are mapped by util/tls-suites.ts.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { SecureVersion } from 'node:tls';
import type { TelemetryConfig } from '../config/types';
import { goSuitesToOpenssl } from '../util/tls-suites';

/** The OpenSSL cipher list for `telemetry.tls_cipher_suites` (shared table: util/tls-suites.ts). */
export function opensslCiphers(names: string[]): string | undefined {
  return goSuitesToOpenssl(names, 'telemetry.tls_cipher_suites');
}

/** ALPN protocols in preference order; SFTPGo's default (empty list) is http/1.1 then h2 (telemetry serves both). */
export function alpnProtocols(protocols: string[]): string[] {
  for (const p of protocols) {
    if (p !== 'http/1.1' && p !== 'h2') throw new Error(`telemetry.tls_protocols: unsupported protocol "${p}" (http/1.1 and h2 are)`);
  }
  return protocols.length > 0 ? [...new Set(protocols)] : ['http/1.1', 'h2'];
}

/** Relative paths are relative to the config dir, as in SFTPGo. */
export function configPath(name: string, configDir: string): string {
  return name === '' || isAbsolute(name) ? name : join(configDir, name);
}

export interface TelemetryTls { cert: Buffer; key: Buffer; minVersion: SecureVersion; ciphers: string | undefined; ALPNProtocols: string[] }

/**
 * The TLS options, or undefined for plain HTTP. SFTPGo serves HTTPS only when
 * both files are set; one without the other is refused here rather than
 * silently serving metrics in clear text.
 */
export async function loadTelemetryTls(cfg: TelemetryConfig, configDir: string): Promise<TelemetryTls | undefined> {
  if (cfg.certificate_file === '' && cfg.certificate_key_file === '') return undefined;
  if (cfg.certificate_file === '' || cfg.certificate_key_file === '') {
    throw new Error('telemetry.certificate_file and telemetry.certificate_key_file must be set together');
  }
  const read = async (key: string, file: string): Promise<Buffer> => {
    try {
      return await readFile(configPath(file, configDir));
    } catch (e) {
      throw new Error(`telemetry.${key}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const [cert, key] = await Promise.all([read('certificate_file', cfg.certificate_file), read('certificate_key_file', cfg.certificate_key_file)]);
  return {
    cert, key,
    // SFTPGo: 13 = TLS 1.3, anything else TLS 1.2
    minVersion: cfg.min_tls_version === 13 ? 'TLSv1.3' : 'TLSv1.2',
    ciphers: opensslCiphers(cfg.tls_cipher_suites),
    ALPNProtocols: alpnProtocols(cfg.tls_protocols),
  };
}
