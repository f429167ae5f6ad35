/**
 * TLS client certificate options shared by FTP and WebDAV bindings
 * (SFTPGo's client_auth_type with ca_certificates and ca_revocation_lists).
 */
import { readFileSync } from 'node:fs';
import type * as net from 'node:net';
import * as tls from 'node:tls';

/**
 * 1: require and verify a client certificate; 2: verify it if given (Node
 * cannot express Go's VerifyClientCertIfGiven: the handshake lets an
 * unverifiable certificate through and the adapter refuses it afterwards).
 * With CRLs OpenSSL checks every certificate of the chain and refuses one whose
 * CA has no CRL: stricter than SFTPGo, which skips CAs without a CRL.
 */
export function clientAuthOptions(cfg: { ca_certificates: string[]; ca_revocation_lists: string[] }, clientAuthType: number,
  abs: (p: string) => string): tls.TlsOptions {
  const ca = cfg.ca_certificates.map((c) => readFileSync(abs(c)));
  const crl = cfg.ca_revocation_lists.map((c) => readFileSync(abs(c)));
  return {
    ...(ca.length > 0 ? { ca } : {}),
    ...(crl.length > 0 ? { crl } : {}),
    requestCert: true,
    rejectUnauthorized: clientAuthType === 1,
  };
}

/** Runs the server side of TLS handshakes on sockets accepted elsewhere. */
export interface TlsAcceptor {
  /** rejects when the handshake fails, the certificate is refused, or the client goes away */
  handshake(raw: net.Socket): Promise<tls.TLSSocket>;
}

/**
 * A TLS acceptor backed by one tls.Server that never listens: each socket is
 * handed to it through its 'connection' event. Only a tls.Server checks the
 * client certificate (`authorized`, `authorizationError`, rejectUnauthorized):
 * a TLSSocket built by hand with requestCert accepts any certificate. Pending
 * handshakes are matched to their socket by the peer address and port.
 * tls.Server's handshake timeout (120 s) bounds each wait.
 */
export function createTlsAcceptor(opts: tls.TlsOptions): TlsAcceptor {
  const server = tls.createServer(opts);
  const pending = new Map<string, { resolve(s: tls.TLSSocket): void; reject(e: Error): void }>();
  const keyOf = (s: net.Socket): string => `${s.remoteAddress ?? ''}|${s.remotePort ?? 0}`;
  const settle = (s: net.Socket): { resolve(s: tls.TLSSocket): void; reject(e: Error): void } | undefined => {
    const key = keyOf(s);
    const p = pending.get(key);
    pending.delete(key);
    return p;
  };
  server.on('secureConnection', (sock: tls.TLSSocket) => settle(sock)?.resolve(sock));
  server.on('tlsClientError', (e: Error, sock: tls.TLSSocket) => {
    sock.destroy();
    settle(sock)?.reject(e);
  });
  return {
    handshake(raw) {
      return new Promise((resolve, reject) => {
        const key = keyOf(raw);
        if (pending.has(key)) { reject(new Error('a handshake is already running for this peer')); return; }
        pending.set(key, { resolve, reject });
        raw.once('close', () => {
          const p = pending.get(key);
          if (!p) return;
          pending.delete(key);
          p.reject(new Error('the client disconnected during the TLS handshake'));
        });
        server.emit('connection', raw);
      });
    },
  };
}
