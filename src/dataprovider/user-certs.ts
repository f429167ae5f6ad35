/**
 * TLS client certificates as user credentials, in SFTPGo's terms: a user has
 * "TLS verification" when it lists certificates (filters.tls_certs) or names
 * tls_username "CommonName"; a certificate then matches when it is one of
 * tls_certs (same DER) or its subject CN is the username.
 */
import { X509Certificate } from 'node:crypto';
import type { User } from './models';

/** SFTPGo's IsTLSVerificationEnabled. */
export function isTlsVerificationEnabled(user: User): boolean {
  if ((user.filters?.tls_certs ?? []).length > 0) return true;
  const t = user.filters?.tls_username ?? '';
  return t !== '' && t !== 'None';
}

/** The subject's CommonName ("" when absent); the last CN wins as in Go's pkix.Name. */
export function commonName(cert: X509Certificate): string {
  let cn = '';
  for (const line of cert.subject.split('\n')) {
    if (line.startsWith('CN=')) cn = line.slice(3);
  }
  return cn;
}

export function certificateMatches(user: User, cert: X509Certificate): boolean {
  for (const pem of user.filters?.tls_certs ?? []) {
    try {
      if (new X509Certificate(pem).raw.equals(cert.raw)) return true;
    } catch {
      // validated on save; a stored one that no longer parses matches nothing
    }
  }
  return user.filters?.tls_username === 'CommonName' && commonName(cert) === user.username;
}

export function certificateMismatch(user: User, cert: X509Certificate): string {
  if (user.filters?.tls_username === 'CommonName') return `CN "${commonName(cert)}" does not match username "${user.username}"`;
  return 'TLS certificate is not valid';
}

/** For validation: a PEM certificate that parses, or an error message. */
export function parseCertificate(pem: string): string | undefined {
  try {
    new X509Certificate(pem);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
