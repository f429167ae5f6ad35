/**
 * TLS material for one FTP binding: the binding's certificate or the global
 * one, paths relative to the config dir. `reload()` (SIGHUP) re-reads the
 * files; sessions pick the current context each time they start TLS, so new
 * handshakes use the new certificate while running ones are untouched.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as tls from 'node:tls';
import type { FtpdBinding, FtpdConfig } from '../config/types';

export interface TlsMaterial {
  /** undefined when the binding has no certificate (TLS not offered) */
  context(): tls.SecureContext | undefined;
  /** options for wrapping a control socket now (implicit or AUTH TLS); undefined without a certificate */
  controlSocketOptions(): tls.TLSSocketOptions | undefined;
  reload(): Promise<void>;
}

function tlsVersion(v: number): tls.SecureVersion {
  // SFTPGo: 12 = TLS 1.2, 13 = TLS 1.3 (anything else falls back to 1.2)
  return v === 13 ? 'TLSv1.3' : 'TLSv1.2';
}

export async function loadTlsMaterial(cfg: FtpdConfig, b: FtpdBinding, configDir: string): Promise<TlsMaterial> {
  const certFile = b.certificate_file || cfg.certificate_file;
  const keyFile = b.certificate_key_file || cfg.certificate_key_file;
  const abs = (p: string): string => (path.isAbsolute(p) ? p : path.join(configDir, p));
  let opts: tls.TlsOptions | undefined;
  let ctx: tls.SecureContext | undefined;

  const load = async (): Promise<void> => {
    if (!certFile || !keyFile) return;
    const [cert, key] = await Promise.all([readFile(abs(certFile)), readFile(abs(keyFile))]);
    const next: tls.TlsOptions = { cert, key, minVersion: tlsVersion(b.min_tls_version) };
    if (b.tls_cipher_suites.length > 0) next.ciphers = b.tls_cipher_suites.join(':');
    if (b.client_auth_type > 0 && cfg.ca_certificates.length > 0) {
      next.ca = await Promise.all(cfg.ca_certificates.map((c) => readFile(abs(c))));
      // 1 = require and verify a client certificate (SFTPGo's client_auth_type)
      next.requestCert = true;
      next.rejectUnauthorized = true;
    }
    ctx = tls.createSecureContext(next);
    opts = next;
  };
  await load();
  return {
    context: () => ctx,
    controlSocketOptions: () => (ctx && opts
      ? { isServer: true, secureContext: ctx, requestCert: opts.requestCert ?? false, rejectUnauthorized: opts.rejectUnauthorized ?? false }
      : undefined),
    reload: load,
  };
}
