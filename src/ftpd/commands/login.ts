/** Session-level commands: login, TLS negotiation, and the simple settings. */
import { loginService, type Credentials, type LoginMethodName, type LoginRequest } from '../../common/login';
import type { FileOps } from '../../common/types';
import { isLoginMethodAllowed } from '../../dataprovider/auth';
import type { User } from '../../dataprovider/models';
import { isTlsVerificationEnabled } from '../../dataprovider/user-certs';
import { isFsError } from '../../common/errors';
import type { FtpSession } from '../session';
import type { X509Certificate } from 'node:crypto';
import { errorReply } from '../replies';
import { MLST_FACTS } from '../format';
import type { CommandTable } from './types';

/** SFTPGo's tls_mode 1: TLS required on the control connection before login. */
const tlsRequired = (s: FtpSession): boolean => s.deps.binding.tls_mode === 1 && !s.secure;

async function user(s: FtpSession, arg: string): Promise<void> {
  if (s.ops) return s.reply(530, 'Already logged in');
  const name = arg.trim();
  if (name === '') return s.reply(501, 'Missing user name');
  if (tlsRequired(s)) return s.reply(534, 'TLS is required: use AUTH TLS first');
  s.pendingCert = undefined;
  // as SFTPGo's PreAuthUser: a user with ftp_security 1 is told before sending a password in clear
  if (!s.secure) {
    const hooks = s.ctx.hooks;
    let u: User | undefined;
    if (hooks?.hasPreLogin && s.deps.binding.tls_mode === 0 && s.deps.tls.context()) {
      // SFTPGo's FTP USER case: the pre-login hook runs with an empty login method, and may create the user
      try {
        u = await hooks.preLogin(name, '', s.remoteIp, 'FTP');
      } catch (e) {
        if (!(isFsError(e) && e.kind === 'NotFound')) {
          s.ctx.logger.warn('pre_login_hook', `unable to get user "${name}" on FTP USER: ${(e as Error).message}`, { ip: s.remoteIp });
          return s.reply(530, 'internal error');
        }
      }
    } else {
      u = await s.ctx.provider.getUser(name).catch(() => undefined);
    }
    // a group may require TLS too (SFTPGo's GetFTPPreAuthUser applies the group settings)
    if (u) u = await s.ctx.provider.groups.withGroupSettings(u).catch(() => u);
    if (u?.filters?.ftp_security === 1) {
      s.ctx.logger.connectionFailed({ clientIp: s.remoteIp, username: name, loginType: 'password', protocol: 'FTP', error: 'TLS is required' });
      return s.reply(534, 'TLS is required for this user: use AUTH TLS first');
    }
  }
  // SFTPGo's VerifyConnection: a verified client certificate of a user with TLS
  // verification logs in now (TLSCertificate), or is kept for PASS (TLSCertificate+password)
  const cert = s.deps.binding.client_auth_type > 0 ? s.clientCertificate() : undefined;
  if (cert) {
    const u = await userBeforeCertificateLogin(s, name, cert);
    if (u && isTlsVerificationEnabled(u)) {
      if (isLoginMethodAllowed(u, 'TLSCertificate', 'FTP')) {
        s.loginTried = true;
        const result = await loginService(s.ctx).login(loginRequest(s, name, 'TLSCertificate', { kind: 'tls-certificate', cert }));
        if (!result.ok) {
          await s.reply(530, 'TLS verification failed');
          return s.close('TLS certificate login refused');
        }
        return loggedIn(s, result.user, result.ops, 'TLS certificate ok, continue');
      }
      s.pendingCert = cert;
    }
  }
  s.pendingUser = name;
  return s.reply(331, `User ${name.slice(0, 64)} OK. Password required`);
}

/**
 * SFTPGo's CheckUserBeforeTLSAuth: with external_auth_scope bit 8 the hook
 * decides (and may create) the account the certificate belongs to before the
 * login; a refusal leaves the login to PASS, where it is refused and counted.
 */
async function userBeforeCertificateLogin(s: FtpSession, name: string, cert: X509Certificate): Promise<User | undefined> {
  const hooks = s.ctx.hooks;
  if (!hooks?.externalAuthApplies('TLSCertificate')) return s.ctx.provider.getUser(name).catch(() => undefined);
  try {
    return await hooks.externalAuth({ username: name, method: 'TLSCertificate', ip: s.remoteIp, protocol: 'FTP', tlsCertPem: cert.toString() });
  } catch (e) {
    s.ctx.logger.warn('external_auth_hook', `certificate of user "${name}" refused on FTP USER: ${(e as Error).message}`, { ip: s.remoteIp });
    return undefined;
  }
}

function loginRequest(s: FtpSession, username: string, method: LoginMethodName, credentials: Credentials): LoginRequest {
  return {
    protocol: 'FTP', method, ip: s.remoteIp, username, credentials,
    connectionId: '', clientVersion: s.clientVersion, encrypted: s.secure,
    register: {
      protocol: 'FTP', remoteAddr: hostPort(s.remoteIp, s.remotePort), localAddr: hostPort(s.localIp, s.localPort),
      clientVersion: s.clientVersion, handle: { disconnect: (reason) => s.close(reason) }, connectedAt: s.connectedAt,
    },
  };
}

function loggedIn(s: FtpSession, user: User, ops: FileOps | undefined, message: string): Promise<void> {
  s.ops = ops;
  s.socket.setTimeout(0);
  const start = user.filters?.start_directory;
  s.cwd = start && ops ? ops.cleanPath(start, '/') : '/';
  return s.reply(230, message);
}

async function pass(s: FtpSession, arg: string): Promise<void> {
  if (s.ops) return s.reply(503, 'Already logged in');
  const username = s.pendingUser;
  if (username === undefined) return s.reply(503, 'Login with USER first');
  s.pendingUser = undefined;
  s.loginTried = true;
  const cert = s.pendingCert;
  s.pendingCert = undefined;
  const result = await loginService(s.ctx).login(cert
    ? loginRequest(s, username, 'TLSCertificate+password', { kind: 'tls-certificate', cert, password: arg })
    : loginRequest(s, username, 'password', { kind: 'password', password: arg }));
  if (!result.ok) {
    if (result.kind === 'limit_exceeded') {
      await s.reply(421, errorReply(result.error).message);
      return s.close('login refused');
    }
    return s.reply(530, 'Authentication failed');
  }
  return loggedIn(s, result.user, result.ops, 'Login successful');
}

const hostPort = (ip: string, port: number): string => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

async function auth(s: FtpSession, arg: string): Promise<void> {
  const mech = arg.trim().toUpperCase();
  if (mech !== 'TLS' && mech !== 'SSL' && mech !== 'TLS-C') return s.reply(504, 'AUTH type not supported');
  if (!s.deps.tls.context()) return s.reply(502, 'TLS not configured');
  if (s.secure) return s.reply(503, 'Already using TLS');
  await s.reply(234, 'AUTH TLS successful');
  await s.upgradeTls();
}

function feat(s: FtpSession): Promise<void> {
  const cfg = s.ctx.config.ftpd;
  const lines = ['Features:'];
  if (s.deps.tls.context()) lines.push('AUTH TLS', 'PBSZ', 'PROT');
  lines.push('EPRT', 'EPSV', 'MDTM', 'MFMT', `MLST ${MLST_FACTS}`, 'REST STREAM', 'SIZE', 'UTF8', 'TVFS', 'AVBL', 'CLNT');
  if (cfg.hash_support > 0) lines.push('HASH SHA-256;SHA-512;SHA-1;MD5');
  if (cfg.enable_site) lines.push('SITE CHMOD', 'SITE SYMLINK');
  lines.push('End');
  return s.reply(211, lines);
}

const HASH_NAMES: Record<string, FtpSessionHash> = { 'SHA-256': 'sha256', 'SHA-512': 'sha512', 'SHA-1': 'sha1', MD5: 'md5' };
type FtpSessionHash = FtpSession['hashAlgo'];

function opts(s: FtpSession, arg: string): Promise<void> {
  const [name = '', value = ''] = arg.trim().split(/\s+/, 2);
  switch (name.toUpperCase()) {
    case 'UTF8': case 'UTF-8':
      return s.reply(200, 'UTF8 mode is always enabled');
    case 'HASH': {
      if (value === '') return s.reply(200, Object.entries(HASH_NAMES).find(([, v]) => v === s.hashAlgo)?.[0] ?? 'SHA-256');
      const algo = HASH_NAMES[value.toUpperCase()];
      if (!algo) return s.reply(501, 'Unknown hash algorithm');
      s.hashAlgo = algo;
      return s.reply(200, value.toUpperCase());
    }
    case 'MLST':
      return s.reply(200, `MLST OPTS ${MLST_FACTS}`);
    default:
      return s.reply(501, 'Option not understood');
  }
}

export const LOGIN_COMMANDS: CommandTable = {
  USER: { auth: false, run: user },
  PASS: { auth: false, run: pass },
  AUTH: { auth: false, run: auth },
  PBSZ: {
    auth: false,
    run: (s) => (s.secure ? s.reply(200, 'PBSZ=0') : s.reply(503, 'PBSZ requires AUTH TLS')),
  },
  PROT: {
    auth: false,
    run: (s, arg) => {
      const level = arg.trim().toUpperCase();
      if (!s.secure) return s.reply(503, 'PROT requires AUTH TLS');
      if (level === 'P') { s.protP = true; return s.reply(200, 'PROT P OK'); }
      if (level === 'C') { s.protP = false; return s.reply(200, 'PROT C OK'); }
      return s.reply(536, 'PROT level not supported');
    },
  },
  FEAT: { auth: false, run: (s) => feat(s) },
  OPTS: { auth: false, run: opts },
  SYST: { auth: false, run: (s) => s.reply(215, 'UNIX Type: L8') },
  NOOP: { auth: false, run: (s) => s.reply(200, 'NOOP ok') },
  CLNT: {
    auth: false,
    run: (s, arg) => { s.clientVersion = arg.trim().slice(0, 128); return s.reply(200, 'Good'); },
  },
  HELP: { auth: false, run: (s) => s.reply(214, 'See FEAT for the supported extensions') },
  QUIT: {
    auth: false,
    run: async (s) => { await s.reply(221, 'Goodbye'); s.close('QUIT'); },
  },
  // transfers are always binary (like vsftpd by default); TYPE A is accepted for client compatibility
  TYPE: {
    auth: false,
    run: (s, arg) => (/^(A|I|L 8|A N)$/i.test(arg.trim()) ? s.reply(200, `Type set to ${arg.trim().toUpperCase()}`) : s.reply(504, 'Type not supported')),
  },
  MODE: { auth: false, run: (s, arg) => (arg.trim().toUpperCase() === 'S' ? s.reply(200, 'Mode set to S') : s.reply(504, 'Only stream mode is supported')) },
  STRU: { auth: false, run: (s, arg) => (arg.trim().toUpperCase() === 'F' ? s.reply(200, 'Structure set to F') : s.reply(504, 'Only file structure is supported')) },
  ALLO: { auth: true, run: (s) => s.reply(202, 'ALLO not needed') },
};
