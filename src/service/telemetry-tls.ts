/**
 * TLS settings of the telemetry listener (SFTPGo `telemetry.certificate_file`,
 * `certificate_key_file`, `min_tls_version`, `tls_cipher_suites`,
 * `tls_protocols`). SFTPGo names cipher suites as Go does (the IANA names);
 * OpenSSL wants its own names, so they are mapped here. SFTPGo drops unknown
 * names silently; here an unknown name stops start-up, naming the key, since
 * a cipher list the server does not apply is a setting it cannot honour.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { SecureVersion } from 'node:tls';
import type { TelemetryConfig } from '../config/types';

/** Go's TLS 1.2 suite names (crypto/tls) → OpenSSL names. RC4 and 3DES are absent: OpenSSL 3 has none. */
const TLS12_SUITES: Record<string, string> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA256: 'AES128-SHA256',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
};

/** TLS 1.3 suites: SFTPGo (Go) does not let them be configured, so listing them changes nothing. */
const TLS13_SUITES = new Set(['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']);

/** The OpenSSL cipher list for `tls_cipher_suites`, undefined for OpenSSL's defaults (empty list). */
export function opensslCiphers(names: string[]): string | undefined {
  const out: string[] = [];
  for (const raw of names) {
    const name = raw.trim();
    if (TLS13_SUITES.has(name)) continue;
    const mapped = TLS12_SUITES[name];
    if (mapped === undefined) throw new Error(`telemetry.tls_cipher_suites: unsupported cipher suite "${name}"`);
    if (!out.includes(mapped)) out.push(mapped);
  }
  return out.length > 0 ? out.join(':') : undefined;
}

/** ALPN protocols in preference order; SFTPGo's default (empty list) is http/1.1 then h2. */
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
