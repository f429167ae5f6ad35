/**
 * The email action (SFTPGo executeEmailRuleAction) through the `smtp`
 * section with nodemailer: recipients, bcc, subject and body with
 * placeholders (HTML-escaped values for HTML bodies), attachments read from
 * the user's files (virtual paths), 10 MB in total at most, as SFTPGo.
 */
import path from 'node:path';
import type { Transporter } from 'nodemailer';
import { lazy } from '../../util/lazy';
import type { Readable } from 'node:stream';
import type { SmtpConfig } from '../../config/types';
import { ConfigError } from '../../config/errors';
import type { EmailActionConfig } from '../../dataprovider/event-models';

// nodemailer loads with the first e-mail action, not with the server
const mailerModule = lazy(() => require('nodemailer') as typeof import('nodemailer'));

export const MAX_ATTACHMENTS_SIZE = 10 * 1024 * 1024;

/** Start-up checks: OAuth2 is not supported here, and a host needs a sender. */
export function validateSmtpConfig(c: SmtpConfig): void {
  if (c.host === '') return;
  if (c.auth_type === 3) throw new ConfigError('smtp.auth_type: OAuth2 authentication is not supported yet by this server');
  if (c.from === '') throw new ConfigError('smtp.from: a sender address is required when smtp.host is set');
}

const AUTH_METHODS = ['PLAIN', 'LOGIN', 'CRAM-MD5'];

export function createMailer(c: SmtpConfig): Transporter | undefined {
  if (c.host === '') return undefined;
  return mailerModule().createTransport({
    host: c.host, port: c.port, name: c.domain || undefined,
    secure: c.encryption === 1, requireTLS: c.encryption === 2, ignoreTLS: c.encryption === 0,
    ...(c.user !== '' ? { auth: { user: c.user, pass: c.password, method: AUTH_METHODS[c.auth_type] ?? 'PLAIN' } } : {}),
    connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 60_000,
  });
}

export interface EmailEnv {
  replace(s: string, escapeMode: 0 | 2): string;
  openFile(vpath: string): Promise<{ stream: Readable; close(): Promise<void> }>;
}

async function readBounded(stream: Readable, budget: { left: number }, name: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) {
    const b = c as Buffer;
    budget.left -= b.length;
    if (budget.left < 0) throw new Error(`unable to send files as attachment, size too large: "${name}" goes past ${MAX_ATTACHMENTS_SIZE} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

export async function runEmailAction(c: EmailActionConfig, smtp: SmtpConfig, mailer: Transporter | undefined, env: EmailEnv): Promise<void> {
  if (!mailer) throw new Error('smtp is not configured (smtp.host is empty)');
  const html = c.content_type === 1;
  const budget = { left: MAX_ATTACHMENTS_SIZE };
  const attachments: { filename: string; content: Buffer }[] = [];
  for (const a of c.attachments ?? []) {
    const vpath = env.replace(a, 0);
    const f = await env.openFile(vpath);
    try {
      attachments.push({ filename: path.posix.basename(vpath), content: await readBounded(f.stream, budget, vpath) });
    } finally {
      await f.close();
    }
  }
  const body = env.replace(c.body ?? '', html ? 2 : 0);
  await mailer.sendMail({
    from: smtp.from, to: (c.recipients ?? []).map((r) => env.replace(r, 0)), bcc: (c.bcc ?? []).map((r) => env.replace(r, 0)),
    subject: env.replace(c.subject ?? '', 0), ...(html ? { html: body } : { text: body }), attachments,
  });
}
