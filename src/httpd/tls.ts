/** Certificate loading for HTTPS bindings (binding-level files win over the global httpd ones). */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { SecureVersion } from 'node:tls';
import type { HttpdBinding, HttpdConfig } from '../config/types';

export interface TlsMaterial { cert: Buffer; key: Buffer; minVersion: SecureVersion }

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
  return { cert, key, minVersion: binding.min_tls_version === 13 ? 'TLSv1.3' : 'TLSv1.2' };
}
