/** Certificate loading for HTTPS bindings (binding-level files win over the global httpd ones). */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { SecureVersion } from 'node:tls';
import type { HttpdBinding, HttpdConfig } from '../config/types';
import { goSuitesToOpenssl, http11Alpn } from '../util/tls-suites';

export interface TlsMaterial {
  cert: Buffer; key: Buffer; minVersion: SecureVersion;
  /** OpenSSL's names for the binding's tls_cipher_suites; undefined: OpenSSL's defaults */
  ciphers: string | undefined;
  ALPNProtocols: string[];
  /** tls_protocols named h2, which this listener does not serve (a start-up warning) */
  h2Dropped: boolean;
}

export function certPaths(httpd: HttpdConfig, binding: HttpdBinding, configDir: string): { cert: string; key: string } {
  const cert = binding.certificate_file || httpd.certificate_file;
  const key = binding.certificate_key_file || httpd.certificate_key_file;
  if (!cert || !key) throw new Error('HTTPS is enabled but certificate_file/certificate_key_file are not set');
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(configDir, p));
  return { cert: abs(cert), key: abs(key) };
}

export async function loadTls(httpd: HttpdConfig, binding: HttpdBinding, configDir: string): Promise<TlsMaterial> {
  const paths = certPaths(httpd, binding, configDir);
  const [cert, key] = await Promise.all([readFile(paths.cert), readFile(paths.key)]);
  const at = `httpd.bindings[${Math.max(0, httpd.bindings.indexOf(binding))}]`;
  const ciphers = goSuitesToOpenssl(binding.tls_cipher_suites, `${at}.tls_cipher_suites`);
  const alpn = http11Alpn(binding.tls_protocols, `${at}.tls_protocols`);
  return { cert, key, minVersion: binding.min_tls_version === 13 ? 'TLSv1.3' : 'TLSv1.2', ciphers, ...alpn };
}
