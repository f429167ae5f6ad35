/**
 * TLS material for one FTP binding: the binding's certificate or the global
 * one, paths relative to the config dir. `reload()` (SIGHUP) re-reads the
 * files; sessions pick the current context each time they start TLS, so new
 * handshakes use the new certificate while running ones are untouched.
 */
import { goSuitesToOpenssl } from '../util/tls-suites';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type * as net from 'node:net';
import * as tls from 'node:tls';
import type { FtpdBinding, FtpdConfig } from '../config/types';
import { randomBytes } from 'node:crypto';
import { clientAuthOptions, createTlsAcceptor, type TlsAcceptor } from '../util/tls-client-auth';

export interface TlsMaterial {
  /** undefined when the binding has no certificate (TLS not offered) */
  context(): tls.SecureContext | undefined;
  /**
   * The server side of a TLS handshake on a control connection (implicit or
   * AUTH TLS), with the binding's client certificate policy; rejects when the
   * handshake fails or the binding has no certificate.
   */
  handshake(raw: net.Socket): Promise<tls.TLSSocket>;
  /** the same for a protected data connection (no client certificate asked; resumes the control session) */
  dataHandshake(raw: net.Socket): Promise<tls.TLSSocket>;
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
  let ctx: tls.SecureContext | undefined;
  let control: TlsAcceptor | undefined;
  let data: TlsAcceptor | undefined;
  // one set of ticket keys for the control and data acceptors (and across reloads), so a
  // data connection resumes the control connection's session as clients such as lftp
  // (GnuTLS) expect (vsftpd's require_ssl_reuse idea). Measured: with the control session
  // on other keys than the data one, lftp `put` of 3 MiB over hand-built server TLSSockets
  // stored a truncated file (lftp retried after a data error and still exited 0)
  const ticketKeys = randomBytes(48);

  const load = async (): Promise<void> => {
    if (!certFile || !keyFile) return;
    const [cert, key] = await Promise.all([readFile(abs(certFile)), readFile(abs(keyFile))]);
    const base: tls.TlsOptions = { cert, key, minVersion: tlsVersion(b.min_tls_version), ticketKeys };
    // SFTPGo's (Go) suite names, mapped to OpenSSL's; an unknown one stops start-up naming the key
    const ciphers = goSuitesToOpenssl(b.tls_cipher_suites, `ftpd.bindings[${Math.max(0, cfg.bindings.indexOf(b))}].tls_cipher_suites`);
    if (ciphers !== undefined) base.ciphers = ciphers;
    // SFTPGo's client_auth_type: 1 require and verify a client certificate, 2 verify it
    // if given (the session refuses an unverified one after the handshake, session.ts)
    const withClientAuth = b.client_auth_type > 0 ? { ...base, ...clientAuthOptions(cfg, b.client_auth_type, abs) } : base;
    ctx = tls.createSecureContext(base);
    control = createTlsAcceptor(withClientAuth);
    data = createTlsAcceptor(base);
  };
  await load();
  const notConfigured = (): Promise<tls.TLSSocket> => Promise.reject(new Error('TLS not configured'));
  return {
    context: () => ctx,
    handshake: (raw) => (control ? control.handshake(raw) : notConfigured()),
    dataHandshake: (raw) => (data ? data.handshake(raw) : notConfigured()),
    reload: load,
  };
}

