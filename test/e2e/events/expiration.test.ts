/**
 * The event manager's password expiration check (type 11) and user
 * expiration check (type 12) through the REST API, with an injected clock:
 * notifications land in an smtp-server peer with SFTPGo's text, only for
 * users at or below the threshold; expired users make the user check fail,
 * so its failure action reports them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiOk, startEventsEnv, startReceiver, startSmtpPeer, type EventsEnv, type Receiver, type SmtpPeer } from './env';

let env: EventsEnv;
let rec: Receiver;
let smtp: SmtpPeer;
const DAY = 86400_000;
const start = Date.now();
let nowMs = start;

before(async () => {
  rec = await startReceiver();
  smtp = await startSmtpPeer();
  const smtpPort = smtp.port;
  env = await startEventsEnv((c) => {
    c.smtp.host = '127.0.0.1';
    c.smtp.port = smtpPort;
    c.smtp.from = 'sftpgo@example.com';
  }, () => nowMs);
});

after(async () => {
  await env?.stop();
  await rec?.close();
  await smtp?.close();
});

const ok = (method: string, path: string, body: unknown, status = 201): Promise<unknown> => apiOk(env, method, path, body, status);

const user = (username: string, extra: Record<string, unknown>) => ({
  username, password: `${username}-pw`, status: 1, home_dir: env.homeOf(username), permissions: { '/': ['*'] }, ...extra,
});

async function runRule(name: string): Promise<void> {
  assert.equal((await env.api('POST', `/api/v2/eventrules/run/${name}`)).status, 202);
  await env.app.ctx.events.drain();
}

test('password expiration check: SFTPGo\'s email at or below the threshold, to the email and additional emails', async () => {
  await ok('POST', '/api/v2/users', user('pw-soon', { email: 'soon@example.com', filters: { password_expiration: 10, additional_emails: ['soon2@example.com'] } }));
  await ok('POST', '/api/v2/users', user('pw-later', { email: 'later@example.com', filters: { password_expiration: 30 } }));
  await ok('POST', '/api/v2/users', user('pw-never', { email: 'never@example.com' }));
  await ok('POST', '/api/v2/users', user('pw-gone', { email: 'gone@example.com', filters: { password_expiration: 1 }, expiration_date: start + DAY }));
  const bad = await env.api('POST', '/api/v2/eventactions', { name: 'pwd0', type: 11, options: { pwd_expiration_config: { threshold: 0 } } });
  assert.equal(bad.status, 400);
  assert.match(JSON.stringify(bad.json), /threshold must be greater than 0/);
  await ok('POST', '/api/v2/eventactions', { name: 'pwd-check', type: 11, options: { pwd_expiration_config: { threshold: 5 } } });
  await ok('POST', '/api/v2/eventrules', { name: 'pwd-rule', status: 1, trigger: 6, conditions: { options: { names: [{ pattern: 'pw-*' }] } }, actions: [{ name: 'pwd-check' }] });

  nowMs = start + 2 * DAY; // pw-soon: 8 days left, above the threshold; pw-gone: expired account, skipped
  await runRule('pwd-rule');
  assert.equal(smtp.mails.length, 0);

  nowMs = start + 7 * DAY; // 3 days left
  await runRule('pwd-rule');
  assert.equal(smtp.mails.length, 1);
  assert.deepEqual(smtp.mails[0]?.to, ['soon@example.com', 'soon2@example.com']);
  assert.match(smtp.mails[0]?.raw ?? '', /Subject: SFTPGo password expiration notification/);
  assert.match((smtp.mails[0]?.raw ?? '').replace(/=\r?\n/g, ''), /Hi pw-soon,[\s\S]*your SFTPGo password expires in 3 days\./);

  nowMs = start + 9.8 * DAY; // a few hours left: "1 day", as SFTPGo rounds
  await runRule('pwd-rule');
  assert.match((smtp.mails[1]?.raw ?? '').replace(/=\r?\n/g, ''), /expires in 1 day\./);

  nowMs = start + 12 * DAY; // expired
  await runRule('pwd-rule');
  assert.equal(smtp.mails.length, 3);
  assert.match((smtp.mails[2]?.raw ?? '').replace(/=\r?\n/g, ''), /your SFTPGo password has expired\./);
  assert.ok(smtp.mails.every((m) => !m.to.includes('later@example.com') && !m.to.includes('never@example.com') && !m.to.includes('gone@example.com')));
});

test('user expiration check: expired users fail the action and the failure action reports them', async () => {
  nowMs = start;
  await ok('POST', '/api/v2/users', user('ex-old', { expiration_date: start + 2 * DAY }));
  await ok('POST', '/api/v2/users', user('ex-new', { expiration_date: start + 20 * DAY }));
  await ok('POST', '/api/v2/users', user('ex-none', {}));
  await ok('POST', '/api/v2/eventactions', { name: 'user-exp', type: 12 });
  await ok('POST', '/api/v2/eventactions', {
    name: 'tell-expired', type: 1, options: { http_config: { endpoint: `${rec.url}/expired`, method: 'POST', timeout: 10, body: '{{.ErrorString}}' } },
  });
  await ok('POST', '/api/v2/eventrules', {
    name: 'exp-rule', status: 1, trigger: 6, conditions: { options: { names: [{ pattern: 'ex-*' }] } },
    actions: [{ name: 'user-exp' }, { name: 'tell-expired', relation_options: { is_failure_action: true } }],
  });
  nowMs = start + DAY;
  await runRule('exp-rule');
  assert.equal(rec.requests.filter((r) => r.url.pathname === '/expired').length, 0, 'nobody expired yet');
  nowMs = start + 5 * DAY;
  await runRule('exp-rule');
  const reports = rec.requests.filter((r) => r.url.pathname === '/expired').map((r) => r.body.toString());
  assert.equal(reports.length, 1);
  assert.match(reports[0] ?? '', /user-exp: expired users: ex-old$/);
});
