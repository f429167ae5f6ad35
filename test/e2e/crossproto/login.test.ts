/**
 * Who gets in, asked once in one table and answered by FTP (basic-ftp), SFTP
 * (ssh2, password), WebDAV (curl) and the REST user API (token request) on one server: they all go through the
 * same login sequence (common/login.ts), so a rule holds on every protocol,
 * or differs exactly where SFTPGo's rules name a protocol. Every refusal
 * writes a connection_failed line for the right protocol.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCross, type CrossEnv } from './env';
import { driverFor, PROTOCOLS, type Proto } from './drivers';

const PW = 'login-pass';
const DAY = 24 * 3600 * 1000;
const NEVER = [0, 1, 2, 3, 4, 5, 6].map((d) => ({ day_of_week: d, from: '23:59', to: '00:00' }));

/** true: logs in; false: refused; per protocol where the rule names one */
type Allow = boolean | Record<Proto, boolean>;
interface Case { name: string; user: Record<string, unknown>; password?: string; allow: Allow; error?: RegExp }

const CASES: Case[] = [
  { name: 'right password', user: {}, allow: true },
  { name: 'wrong password', user: {}, password: 'nope', allow: false, error: /invalid credentials/ },
  { name: 'disabled', user: { status: 0 }, allow: false, error: /disabled/ },
  { name: 'expired', user: { expiration_date: Date.now() - DAY }, allow: false, error: /expired/ },
  { name: 'denied ip', user: { filters: { denied_ip: ['127.0.0.0/8'] } }, allow: false, error: /not allowed from this address/ },
  { name: 'ip not in allow list', user: { filters: { allowed_ip: ['10.0.0.0/8'] } }, allow: false, error: /not allowed from this address/ },
  { name: 'outside access time', user: { filters: { access_time: NEVER } }, allow: false, error: /not allowed at this time/ },
  // SFTPGo gives HTTP a token so the user can change the password (its middleware then allows only that)
  { name: 'must change password', user: { filters: { require_password_change: true } }, allow: { FTP: false, DAV: false, SFTP: false, HTTP: true }, error: /password change required/ },
  { name: 'password expired', user: { filters: { password_expiration: 1 }, last_password_change: Date.now() - 2 * DAY }, allow: { FTP: false, DAV: false, SFTP: false, HTTP: true } },
  { name: 'password method denied', user: { filters: { denied_login_methods: ['password'] } }, allow: false, error: /login method password is not allowed/ },
  { name: 'password over SSH denied', user: { filters: { denied_login_methods: ['password-over-SSH'] } }, allow: { FTP: true, DAV: true, SFTP: false, HTTP: true } },
  { name: 'FTP denied', user: { filters: { denied_protocols: ['FTP'] } }, allow: { FTP: false, DAV: true, SFTP: true, HTTP: true }, error: /protocol FTP is not allowed/ },
  { name: 'WebDAV denied', user: { filters: { denied_protocols: ['DAV'] } }, allow: { FTP: true, DAV: false, SFTP: true, HTTP: true } },
  { name: 'SSH denied', user: { filters: { denied_protocols: ['SSH'] } }, allow: { FTP: true, DAV: true, SFTP: false, HTTP: true } },
  { name: 'HTTP denied', user: { filters: { denied_protocols: ['HTTP'] } }, allow: { FTP: true, DAV: true, SFTP: true, HTTP: false }, error: /protocol HTTP is not allowed/ },
  { name: '2FA required for FTP, not set up', user: { filters: { two_factor_protocols: ['FTP'] } }, allow: { FTP: false, DAV: true, SFTP: true, HTTP: true } },
  // SFTPGo stores accounts with neither password nor key (certificate, OIDC or hook logins): an empty stored password never matches
  { name: 'no stored credential, empty password', user: { password: '' }, password: '', allow: false },
  { name: 'no stored credential, some password', user: { password: '' }, password: 'guess', allow: false, error: /credentials cannot be null or empty|invalid credentials/ },
  { name: 'anonymous: any password, no SSH', user: { filters: { is_anonymous: true } }, password: 'anything', allow: { FTP: true, DAV: true, SFTP: false, HTTP: false } },
];

const SSH_NAME: Record<Proto, string> = { FTP: 'FTP', DAV: 'DAV', SFTP: 'SSH', HTTP: 'HTTP' };
const allowed = (c: Case, p: Proto): boolean => (typeof c.allow === 'boolean' ? c.allow : c.allow[p]);

describe('FTP, SFTP, WebDAV and the user API: the same login rules', () => {
  let env: CrossEnv;
  const userName = (i: number): string => `login${i}`;

  before(async () => {
    env = await startCross();
    for (const [i, c] of CASES.entries()) {
      await env.ctx.provider.restore({
        version: 17, folders: [], admins: [],
        users: [{ username: userName(i), password: PW, status: 1, home_dir: env.homeOf(userName(i)), permissions: { '/': ['*'] }, ...c.user }],
      }, 0);
    }
  });
  after(async () => { await env?.close(); });

  for (const proto of PROTOCOLS) {
    for (const [i, c] of CASES.entries()) {
      const allow = allowed(c, proto);
      test(`${proto}: ${c.name} → ${allow ? 'logs in' : 'refused'}`, async () => {
        const d = driverFor(proto, env, userName(i), c.password ?? PW);
        const r = await d.login();
        if (allow) {
          assert.ok(r.ok, `expected a login, got ${r.ok ? '' : r.code} ${r.body.slice(0, 200)}`);
          return;
        }
        assert.deepEqual(r.ok ? 'logged in' : r.code, d.authFailed, r.body.slice(0, 200));
        const failed = (await env.logLines()).filter((l) => l.sender === 'connection_failed' && l.username === userName(i) && l.protocol === SSH_NAME[proto]);
        assert.ok(failed.length > 0, 'a connection_failed line for the protocol');
        if (c.error) assert.ok(failed.some((l) => c.error!.test(String(l.error))), failed.map((l) => l.error).join(' | '));
      });
    }
  }

  test('an unknown user is refused everywhere and never created', async () => {
    for (const proto of PROTOCOLS) {
      const d = driverFor(proto, env, 'nobody-here', PW);
      const r = await d.login();
      assert.deepEqual(r.ok ? 'logged in' : r.code, d.authFailed, proto);
    }
    assert.equal(await env.ctx.provider.getUser('nobody-here'), undefined);
  });
});
