/**
 * SFTPGo's password expiration check (ActionTypePasswordExpirationCheck) and
 * user expiration check (ActionTypeUserExpirationCheck) event actions.
 * - Password: for each user (group settings applied) that is not expired and
 *   has `filters.password_expiration`, the days left (SFTPGo
 *   User.PasswordExpiresIn: rounded, 1 for the last partial day) are compared
 *   with `threshold`; at or below it, SFTPGo's notification goes by email
 *   (the `smtp` section) to the user's email and additional emails.
 * - User: fails naming every expired user, so failure actions can report them;
 *   no user checked at all is a failure too (as SFTPGo).
 */
import type { Transporter } from 'nodemailer';
import type { SmtpConfig } from '../../config/types';
import type { User } from '../../dataprovider/models';
import type { AppLogger } from '../../logger/types';

const DAY_MS = 24 * 3600_000;
const SENDER = 'eventmanager';

/** SFTPGo User.PasswordExpiresIn: days until the password expires, rounded; 1 while less than half a day is left. */
export function passwordExpiresInDays(u: User, nowMs: number): number {
  const expiresAt = (u.last_password_change ?? 0) + (u.filters?.password_expiration ?? 0) * DAY_MS;
  const days = Math.round((expiresAt - nowMs) / DAY_MS);
  return days === 0 && expiresAt > nowMs ? 1 : days;
}

const isExpired = (u: User, nowMs: number): boolean => (u.expiration_date ?? 0) > 0 && (u.expiration_date ?? 0) < nowMs;

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;');
}

/** SFTPGo's templates/email/password-expiration.html, rendered. */
export function passwordExpirationBody(username: string, days: number): string {
  const when = days <= 0 ? 'has expired' : `expires in ${days} ${days === 1 ? 'day' : 'days'}`;
  return `Hi ${escapeHtml(username)},\n<br>\n<p>your SFTPGo password ${when}.</p>\n<p>Please login to the WebClient and set a new password.</p>`;
}

export interface PasswordExpirationDeps {
  smtp: SmtpConfig;
  mailer?: Transporter;
  logger: AppLogger;
  now: number;
  /** the user with its groups' settings applied */
  withGroups(u: User): Promise<User>;
}

export async function runPasswordExpirationCheck(users: User[], threshold: number, d: PasswordExpirationDeps): Promise<void> {
  const failures: string[] = [];
  for (const stored of users) {
    try {
      const u = await d.withGroups(stored);
      if (isExpired(u, d.now) || !(u.filters?.password_expiration ?? 0)) continue;
      const days = passwordExpiresInDays(u, d.now);
      if (days > threshold) continue;
      if (!d.mailer) throw new Error('smtp is not configured (smtp.host is empty)');
      const to = [u.email ?? '', ...(u.filters?.additional_emails ?? [])].filter((e) => e !== '');
      if (to.length === 0) throw new Error('the user has no email address');
      await d.mailer.sendMail({ from: d.smtp.from, to, subject: 'SFTPGo password expiration notification', html: passwordExpirationBody(u.username, days) });
      d.logger.debug(SENDER, `password expiration email sent to user "${u.username}", days: ${days}`);
    } catch (e) {
      d.logger.error(SENDER, `unable to notify password expiration for user "${stored.username}": ${(e as Error).message}`);
      failures.push(stored.username);
    }
  }
  if (failures.length > 0) throw new Error(`password expiration check failed for users: ${failures.join(', ')}`);
}

export function runUserExpirationCheck(users: User[], nowMs: number, logger: AppLogger): void {
  if (users.length === 0) {
    logger.error(SENDER, 'no user expiration check executed');
    throw new Error('no user expiration check executed');
  }
  const expired = users.filter((u) => isExpired(u, nowMs)).map((u) => u.username);
  if (expired.length > 0) throw new Error(`expired users: ${expired.join(', ')}`);
}
