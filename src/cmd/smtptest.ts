/**
 * `sftpgo smtptest --recipient <address>`: sends SFTPGo's test email with the
 * `smtp` section, printing the SMTP conversation (credentials masked) on
 * stderr, so an admin can check mail settings before anything relies on them.
 */
import type { RuntimeOptions } from '../config/types';
import { ConfigError, loadConfig } from '../config';
import { sendMail, smtpConfigProblem } from '../smtp/mailer';

export async function smtpTest(rt: RuntimeOptions, recipient: string, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  if (recipient.trim() === '') throw new Error('required flag "recipient" not set');
  const config = loadConfig({ configDir: rt.configDir || '.', configFile: rt.configFile });
  const problem = smtpConfigProblem(config.smtp);
  if (problem) throw new ConfigError(`unable to initialize SMTP configuration: ${problem}`);
  try {
    await sendMail(config.smtp, {
      to: [recipient],
      subject: 'SFTPGo - Testing Email Settings',
      text: 'It appears your SFTPGo email is setup correctly!',
    }, (line) => err(`smtp: ${line}`));
  } catch (e) {
    throw new Error(`error sending email: ${(e as Error).message.split('\n')[0]}`);
  }
  out('No errors were reported while sending the test email. Please check your inbox to make sure.');
  return 0;
}
