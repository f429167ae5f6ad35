/**
 * Sending mail with SFTPGo's `smtp` settings (used by `sftpgo smtptest`; the
 * event manager and password reset will send through the same function).
 * encryption: 0 plain (STARTTLS never attempted, as SFTPGo's NoTLS policy),
 * 1 implicit TLS, 2 mandatory STARTTLS; auth_type: 0 PLAIN, 1 LOGIN,
 * 2 CRAM-MD5, used only when a user or password is set. Certificates are
 * verified against the system CAs (NODE_EXTRA_CA_CERTS adds a private CA).
 */
import { lazy } from '../util/lazy';
import type { SmtpConfig } from '../config/types';

// nodemailer loads with the first message (or smtptest), not with the server
const mailerModule = lazy(() => require('nodemailer') as typeof import('nodemailer'));

export interface MailMessage {
  to: string[];
  subject: string;
  text: string;
}

const AUTH_METHODS = ['PLAIN', 'LOGIN', 'CRAM-MD5'];
const TIMEOUT_MS = 15_000;

/** What SFTPGo's smtp.validate() refuses, as one line naming the key. */
export function smtpConfigProblem(c: SmtpConfig): string | undefined {
  if (c.host.trim() === '') return 'smtp.host: no SMTP server configured';
  if (c.from.trim() === '' && c.user.trim() === '') return 'smtp.from and smtp.user: from address and user cannot both be empty';
  if (c.auth_type === 3) return 'smtp.auth_type: OAuth2 is not supported';
  return undefined;
}

/**
 * Sends one message; rejects with the SMTP server's answer on failure.
 * `debug` receives the SMTP conversation (credentials masked by nodemailer)
 * when smtp.debug is 1 or the caller forces it.
 */
export async function sendMail(c: SmtpConfig, msg: MailMessage, debug?: (line: string) => void): Promise<void> {
  const problem = smtpConfigProblem(c);
  if (problem) throw new Error(problem);
  const withAuth = c.user !== '' || c.password !== '';
  const log = (...args: unknown[]): void => {
    if (!debug) return;
    // nodemailer logs (entry, format, ...args) like util.format
    const text = args.filter((a) => typeof a === 'string' || typeof a === 'number').map(String).join(' ');
    if (text !== '') debug(text);
  };
  const logger = { level: () => undefined, trace: log, debug: log, info: log, warn: log, error: log, fatal: log };
  const transport = mailerModule().createTransport({
    host: c.host,
    port: c.port,
    secure: c.encryption === 1,
    requireTLS: c.encryption === 2,
    ignoreTLS: c.encryption === 0,
    name: c.domain || 'localhost',
    auth: withAuth ? { user: c.user, pass: c.password, method: AUTH_METHODS[c.auth_type] ?? 'PLAIN' } : undefined,
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: TIMEOUT_MS,
    logger: debug ? logger : false,
    debug: debug !== undefined,
  });
  try {
    await transport.sendMail({
      from: c.from || c.user,
      to: msg.to,
      subject: msg.subject,
      text: msg.text,
      headers: { 'User-Agent': 'SFTPGo-ts' },
    });
  } finally {
    transport.close();
  }
}
