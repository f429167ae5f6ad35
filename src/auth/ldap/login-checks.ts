/**
 * The LDAP source in the login sequence (common/login.ts), installed by
 * service/app.ts when `ldap.urls` is set; no adapter knows about it:
 * - pre-login: for a method in `ldap.scope`, the directory entry is found and
 *   the local account created/updated (it is the user the rest of the
 *   sequence checks: TOTP, per-user rules, limits apply unchanged);
 * - every password (password method, keyboard-interactive "Password:",
 *   FTP without its TOTP code, HTTP): a bind as the entry's DN decides it.
 * The directory down or slow is a refusal with a log line after `timeout`;
 * the password never reaches a log line.
 */
import type { LoginService } from '../../common/login';
import { LoginRefusal, type LoginCheck, type LoginState, type PasswordCheck } from '../../common/login-types';
import { DirectoryError } from './directory';
import { LDAP_SENDER, type LdapSource, type ResolvedLogin } from './source';

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function refusal(s: LoginState, e: unknown, what: string): LoginRefusal {
  const notFound = e instanceof DirectoryError && (e.reason === 'not-found' || e.reason === 'ambiguous');
  const level = e instanceof DirectoryError && e.reason === 'unavailable' ? 'error' : 'warn';
  s.ctx.logger[level](LDAP_SENDER, `${what} for user "${s.req.username}" failed: ${messageOf(e)}`, { ip: s.ip, protocol: s.req.protocol });
  return new LoginRefusal(notFound ? 'invalid_user' : 'valid_user', `ldap: ${messageOf(e)}`, e);
}

export function installLdapChecks(login: LoginService, source: LdapSource): void {
  /** the directory's answer for each login in progress (a login's state lives as long as its attempt) */
  const resolved = new WeakMap<LoginState, ResolvedLogin>();

  const directoryUser: LoginCheck = {
    name: 'ldap-directory',
    async run(s) {
      // TLS certificate logins never ask the directory (it has no certificate to check)
      if (s.req.credentials.kind === 'tls-certificate' || !source.applies(s.req.credentials.kind)) return;
      // an account an admin marked local-only (SFTPGo's per-user "external auth disabled") keeps the built-in check
      const local = s.user ?? await s.ctx.provider.getUser(s.req.username).catch(() => undefined);
      if (local?.filters?.hooks?.external_auth_disabled) return;
      try {
        const r = await source.resolve(s.req.username);
        resolved.set(s, r);
        s.user = r.user;
      } catch (e) {
        throw refusal(s, e, 'directory lookup');
      }
    },
  };

  const directoryPassword: PasswordCheck = async (s, password) => {
    const r = resolved.get(s);
    if (!r || s.user?.username !== r.user.username) return 'continue';
    let how: 'bound' | 'remembered';
    try {
      how = await source.checkPassword(s.req.username, r, password);
    } catch (e) {
      throw refusal(s, e, 'directory password check');
    }
    // a WebDAV request whose password the server already accepted: not a new login (no login line)
    if (how === 'remembered' && s.req.knownGoodPassword?.(r.user)) return 'continue';
    return 'accept';
  };

  login.use('pre-login', directoryUser);
  login.usePasswordCheck(directoryPassword);
}
