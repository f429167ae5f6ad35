/**
 * GET /api/v2/status in SFTPGo's ServicesStatus shape (ssh, ftp, webdav,
 * defender, mfa, allow_list, rate_limiters; httpd adds data_provider).
 * is_active is the live state: a protocol is active while its service has
 * bound listeners. A stopped service reports is_active false and no
 * bindings, as SFTPGo's zero-valued status does.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Service, ServerContext } from '../common/context';
import { resolveAlgorithms } from '../sftpd/algorithms';
import { DEFAULT_HOST_KEY_NAMES, parsePrivateKey, sshFingerprint } from '../sftpd/hostkeys';
import { enabledSshCommands } from '../sftpd/sshcmd';

export interface HostKeyStatus { path: string; fingerprint: string; algorithms: string[] }

/** The host keys the SSH server loaded (sftpd generated missing defaults before it started listening). */
function hostKeys(ctx: ServerContext): HostKeyStatus[] {
  const cfg = ctx.config.sftpd;
  const configured = cfg.host_keys.filter((k) => k.trim() !== '');
  const dir = ctx.runtime.configDir || '.';
  const files = (configured.length > 0 ? configured : [...DEFAULT_HOST_KEY_NAMES]).map((k) => (isAbsolute(k) ? k : join(dir, k)));
  const out: HostKeyStatus[] = [];
  for (const path of files) {
    try {
      const key = parsePrivateKey(readFileSync(path), path);
      // RSA keys sign with the SHA-2 variants; the others with their own type
      const algorithms = key.type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256'] : [key.type];
      out.push({ path, fingerprint: sshFingerprint(key.getPublicSSH()), algorithms });
    } catch {
      // unreadable now: it was readable at start (or sftpd would not run); report what we can read
    }
  }
  return out;
}

function sshStatus(ctx: ServerContext, active: boolean): Record<string, unknown> {
  const cfg = ctx.config.sftpd;
  if (!active) return { is_active: false, bindings: null, host_keys: null, ssh_commands: [], authentications: [] };
  // exactly the methods sftpd/auth.ts offers in its "none" reply
  const auths = ['publickey'];
  if (cfg.password_authentication) auths.push('password');
  if (cfg.keyboard_interactive_authentication) auths.push('keyboard-interactive');
  let algos: ReturnType<typeof resolveAlgorithms> | undefined;
  try {
    algos = resolveAlgorithms(cfg);
  } catch {
    algos = undefined;
  }
  return {
    is_active: true,
    bindings: cfg.bindings.filter((b) => b.port > 0).map((b) => ({ address: b.address, port: b.port, apply_proxy_config: b.apply_proxy_config })),
    host_keys: hostKeys(ctx),
    ssh_commands: [...enabledSshCommands(cfg.enabled_ssh_commands ?? []).enabled],
    authentications: auths,
    public_key_algorithms: algos?.publicKey ?? [],
    macs: algos?.ssh2.hmac ?? [],
    kex_algorithms: algos?.ssh2.kex ?? [],
    ciphers: algos?.ssh2.cipher ?? [],
  };
}

export function buildServicesStatus(ctx: ServerContext, services: readonly Service[]): Record<string, unknown> {
  const c = ctx.config;
  const running = (name: string): boolean => services.some((s) => s.name === name && s.addresses().length > 0);
  const ftpActive = running('ftpd');
  const davActive = running('webdavd');
  const limiters = c.common.rate_limiters.filter((r) => r.average > 0);
  return {
    ssh: sshStatus(ctx, running('sftpd')),
    ftp: ftpActive
      ? { is_active: true, bindings: c.ftpd.bindings.filter((b) => b.port > 0), passive_port_range: { ...c.ftpd.passive_port_range } }
      : { is_active: false, bindings: null, passive_port_range: { start: 0, end: 0 } },
    webdav: davActive
      ? { is_active: true, bindings: c.webdavd.bindings.filter((b) => b.port > 0) }
      : { is_active: false, bindings: null },
    defender: { is_active: c.common.defender.enabled },
    // no login path checks TOTP codes yet: reporting MFA as active would be a lie
    mfa: { is_active: false, totp_configs: c.mfa.totp.map((t) => ({ name: t.name, issuer: t.issuer, algo: t.algo })) },
    allow_list: { is_active: c.common.allowlist_status === 1 },
    rate_limiters: {
      is_active: limiters.length > 0,
      protocols: [...new Set(limiters.flatMap((r) => r.protocols))],
    },
  };
}
