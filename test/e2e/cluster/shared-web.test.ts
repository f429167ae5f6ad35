/**
 * Web state on a shared provider: two daemons (`sftpgo serve`, each its own
 * process) on one PostgreSQL database with data_provider.is_shared 1 and a
 * common signing passphrase. A password reset code requested on node A (the
 * mail caught by a real SMTP server) sets the password on node B once; the
 * same code is refused on B and on A afterwards. The database is created and
 * dropped by the test.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { removeDaemonDir } from '../../support/daemon';
import { createDatabase } from '../../support/databases';
import { freePort } from '../../support/net';
import { Browser } from '../webclient/httpclient';
import { startNode } from './node';

/** An SMTP peer on loopback handing each message's text to the next waiter. */
async function smtpCatcher(): Promise<{ port: number; next(): Promise<string>; close(): Promise<void> }> {
  const mails: string[] = [];
  const waiters: ((m: string) => void)[] = [];
  const server = new SMTPServer({
    authOptional: true, hideSTARTTLS: true, logger: false,
    onData(stream, _session, cb) {
      let data = '';
      stream.on('data', (d: Buffer) => (data += d.toString()));
      stream.on('end', () => {
        const w = waiters.shift();
        if (w) w(data); else mails.push(data);
        cb();
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    next: () => {
      const m = mails.shift();
      return m !== undefined ? Promise.resolve(m) : new Promise((resolve) => waiters.push(resolve));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('web state shared between nodes on PostgreSQL', () => {
  test('a reset code mailed by node A is accepted by node B once', async (t) => {
    const cleanups: (() => Promise<void> | void)[] = [];
    t.after(async () => { for (const fn of cleanups.reverse()) await fn(); });
    const smtp = await smtpCatcher();
    cleanups.push(() => smtp.close());
    const db = await createDatabase('postgresql');
    cleanups.push(() => db.drop());
    const env = {
      SFTPGO_SMTP__HOST: '127.0.0.1', SFTPGO_SMTP__PORT: String(smtp.port), SFTPGO_SMTP__FROM: 'sftpgo@example.com',
      SFTPGO_SMTP__ENCRYPTION: '0', SFTPGO_HTTPD__SIGNING_PASSPHRASE: 'cluster-wide-signing-passphrase',
    };
    const a = await startNode(db.config, env);
    cleanups.push(() => removeDaemonDir(a));
    const b = await startNode(db.config, env);
    cleanups.push(() => removeDaemonDir(b));
    const created = await a.api('POST', '/users', {
      status: 1, username: 'forgetful', password: 'Old-pw-1', email: 'forgetful@example.com',
      home_dir: join(a.dir, 'homes', 'forgetful'), permissions: { '/': ['*'] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));

    const onA = new Browser(`http://127.0.0.1:${a.httpPort}`);
    const mail = smtp.next();
    const ask = await onA.req('GET', '/web/client/forgot-password');
    assert.equal((await onA.req('POST', '/web/client/forgot-password', { _form_token: onA.csrf(ask.text), username: 'forgetful' })).status, 303);
    const code = /verification code is: ([A-Za-z0-9_-]+)/.exec((await mail).replace(/=\r?\n/g, ''))?.[1];
    assert.ok(code);

    const resetOn = async (br: Browser, password: string): Promise<{ status: number; text: string }> => {
      const form = await br.req('GET', '/web/client/reset-password');
      return br.req('POST', '/web/client/reset-password', { _form_token: br.csrf(form.text), code, password, confirm_password: password });
    };
    const onB = new Browser(`http://127.0.0.1:${b.httpPort}`);
    const used = await resetOn(onB, 'New-pw-22');
    assert.equal(used.status, 303, used.text);
    assert.equal(await new Browser(`http://127.0.0.1:${b.httpPort}`).login('forgetful', 'New-pw-22'), 303, 'the new password logs in on B');
    assert.equal(await new Browser(`http://127.0.0.1:${a.httpPort}`).login('forgetful', 'New-pw-22'), 303, 'and on A');
    for (const [node, br] of [['B', onB], ['A', onA]] as const) {
      const again = await resetOn(br, 'Other-pw-3');
      assert.equal(again.status, 401, `the code used on B is refused on ${node}`);
      assert.match(again.text, /Confirmation code not found or expired/);
    }
  });
});
