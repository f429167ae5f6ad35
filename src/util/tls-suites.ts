/**
 * `tls_cipher_suites` as SFTPGo writes them: Go's (IANA) suite names. OpenSSL
 * wants its own names, so they are mapped here for every TLS listener
 * (httpd, WebDAV, FTP, telemetry). SFTPGo drops unknown names silently; here
 * an unknown name stops start-up naming the key, since a cipher list the
 * server does not apply is a setting it cannot honour.
 */

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

/**
 * The OpenSSL cipher list for a `tls_cipher_suites` setting (`key` names it in
 * errors), undefined for OpenSSL's defaults (empty list).
 */
export function goSuitesToOpenssl(names: string[], key: string): string | undefined {
  const out: string[] = [];
  for (const raw of names) {
    const name = raw.trim();
    if (TLS13_SUITES.has(name)) continue;
    const mapped = TLS12_SUITES[name];
    if (mapped === undefined) throw new Error(`${key}: unsupported cipher suite "${name}"`);
    if (!out.includes(mapped)) out.push(mapped);
  }
  return out.length > 0 ? out.join(':') : undefined;
}

/**
 * ALPN for the listeners that serve HTTP/1.1 only (httpd, WebDAV): SFTPGo
 * offers http/1.1 and h2 by default. A list that leaves http/1.1 out cannot
 * be honoured (refused, naming `key`); one that also names h2 gets http/1.1,
 * and `h2Dropped` says so for a start-up warning.
 */
export function http11Alpn(protocols: string[], key: string): { ALPNProtocols: string[]; h2Dropped: boolean } {
  for (const p of protocols) {
    if (p !== 'http/1.1' && p !== 'h2') throw new Error(`${key}: unsupported protocol "${p}" (http/1.1 and h2 are)`);
  }
  if (protocols.length > 0 && !protocols.includes('http/1.1')) {
    throw new Error(`${key}: this listener serves HTTP/1.1 only, the list must include "http/1.1"`);
  }
  return { ALPNProtocols: ['http/1.1'], h2Dropped: protocols.includes('h2') };
}
