/**
 * Settings SFTPGo has that this server accepts in the file (so an existing
 * sftpgo.json loads) but does not implement yet. Leaving them at their
 * defaults is fine; asking for the feature stops start-up with one clear
 * line, because silently ignoring e.g. a pre-login hook or the defender would
 * be a security surprise. The README lists the same features as not supported.
 */
import type { AppConfig } from './types';
import { ConfigError } from './errors';
import { pluginConfigProblem } from '../plugins/config-check';

interface Check { key: string; active: (c: AppConfig) => boolean; what: string }

const nonEmpty = (s: string): boolean => s.trim() !== '';

const CHECKS: Check[] = [
  { key: 'sftpd.host_certificates', active: (c) => c.sftpd.host_certificates.length > 0, what: 'SSH host certificates' },
  { key: 'sftpd.trusted_user_ca_keys', active: (c) => c.sftpd.trusted_user_ca_keys.length > 0, what: 'SSH user certificates' },
  { key: 'sftpd.revoked_user_certs_file', active: (c) => nonEmpty(c.sftpd.revoked_user_certs_file), what: 'SSH user certificates' },
  { key: 'sftpd.opkssh_path', active: (c) => nonEmpty(c.sftpd.opkssh_path), what: 'OpenPubkey SSH' },
  { key: 'ftpd.combine_support', active: (c) => c.ftpd.combine_support !== 0, what: 'the FTP COMB command' },
  { key: 'data_provider.password_validation', active: (c) => c.data_provider.password_validation.admins.min_entropy > 0 || c.data_provider.password_validation.users.min_entropy > 0, what: 'password strength validation' },
  // Go's net/http/pprof: no Node equivalent is served (use --cpu-prof / --heapsnapshot-signal on node instead)
  { key: 'telemetry.enable_profiler', active: (c) => c.telemetry.enable_profiler, what: "Go's pprof profiler endpoints" },
  { key: 'httpd.ca_revocation_lists', active: (c) => c.httpd.ca_revocation_lists.length > 0, what: 'certificate revocation lists' },
];

/**
 * Per-binding and whole-section checks that need the key path of what is set
 * (`httpd.bindings[1].oidc.client_id`), so the refusal names it exactly.
 */
function firstActiveSection(c: AppConfig): string | undefined {
  if (c.acme.domains.length > 0 || nonEmpty(c.acme.email)) {
    const key = c.acme.domains.length > 0 ? 'acme.domains' : 'acme.email';
    return `${key}: ACME certificates are not supported by this server; get them with certbot (or any ACME client), point certificate_file/certificate_key_file at them and send SIGHUP after each renewal (see README, "TLS certificates from certbot")`;
  }
  const plugin = pluginConfigProblem(c.plugins);
  if (plugin !== undefined) return plugin;
  if (c.smtp.auth_type === 3) return 'smtp.auth_type: OAuth2 SMTP authentication (3) is not supported yet by this server; use 0 (plain), 1 (login) or 2 (CRAM-MD5)';
  for (const [i, b] of c.httpd.bindings.entries()) {
    const at = `httpd.bindings[${i}]`;
    if (b.security?.enabled) return `${at}.security.enabled: the HTTP security headers middleware is not supported yet by this server; set it to false`;
  }
  return undefined;
}

/** Throws a ConfigError naming the first setting that asks for an unimplemented feature. */
export function checkUnsupported(c: AppConfig): void {
  for (const chk of CHECKS) {
    if (chk.active(c)) {
      throw new ConfigError(`${chk.key}: ${chk.what} ${chk.what.endsWith('s') && !chk.what.startsWith('the') ? 'are' : 'is'} not supported yet by this server; leave it at its default (see README, "Not supported yet")`);
    }
  }
  const section = firstActiveSection(c);
  if (section !== undefined) throw new ConfigError(section);
}
