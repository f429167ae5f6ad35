/**
 * Stored security settings enforced at FTP login, for users restored from an
 * SFTPGo dump, driven by lftp: TOTP (the code appended to the password, as
 * SFTPGo; the password alone and a replayed code refused), access_time windows,
 * require_password_change, password_expiration with last_password_change, and
 * is_anonymous (any password, read-only).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateTotpSecret, totpCode } from '../../../src/mfa/totp';
import { lftp, startFtp, type FtpHarness } from './harness';
import { RawFtp } from './rawftp';

const PLAIN = ['set ftp:ssl-allow no'];
const DAY = 24 * 3600 * 1000;
const ALWAYS = [0, 1, 2, 3, 4, 5, 6].map((d) => ({ day_of_week: d, from: '00:00', to: '23:59' }));
// "from" after "to" never matches (SFTPGo compares the strings)
const NEVER = [0, 1, 2, 3, 4, 5, 6].map((d) => ({ day_of_week: d, from: '23:59', to: '00:00' }));

describe('ftpd: stored login rules enforced', () => {
  let h: FtpHarness;
  let url: string;
  let local: string;
  let secret: string;
  const used = new Set<string>();
  const freshCode = (): string => {
    for (const offset of [0, 30_000, -30_000]) {
      const c = totpCode(secret, 'sha1', Date.now() + offset);
      if (!used.has(c)) { used.add(c); return c; }
    }
    throw new Error('no unused TOTP code left in the accepted window');
  };
  const login = (user: string, password: string, script = ['cls -1']) => lftp(url, user, password, script, PLAIN, local);

  before(async () => {
    h = await startFtp();
    url = `ftp://127.0.0.1:${h.plainPort}`;
    local = path.join(h.base, 'local');
    fs.mkdirSync(local);
    fs.writeFileSync(path.join(local, 'up.txt'), 'data');
    secret = generateTotpSecret();
    const sealed = await h.ctx.kms.encrypt(secret, 'totp');
    const user = (username: string, filters: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
      username, status: 1, password: 'ftp-pass', home_dir: h.home(username), permissions: { '/': ['*'] }, filters, ...extra,
    });
    await h.ctx.provider.restore({
      version: 17, folders: [], admins: [],
      users: [
        user('mfa', { totp_config: { enabled: true, config_name: 'Default', secret: sealed, protocols: ['FTP'] } }),
        user('always', { access_time: ALWAYS }),
        user('never', { access_time: NEVER }),
        user('mustchange', { require_password_change: true }),
        user('expired', { password_expiration: 10 }, { last_password_change: Date.now() - 11 * DAY }),
        user('fresh', { password_expiration: 10 }, { last_password_change: Date.now() - 2 * DAY }),
        user('anon', { is_anonymous: true }),
        user('need2fa', { two_factor_protocols: ['FTP'] }),
      ],
    }, 0);
    for (const u of ['mfa', 'always', 'anon']) fs.mkdirSync(h.home(u), { recursive: true });
    fs.writeFileSync(path.join(h.home('anon'), 'pub.txt'), 'public');
  });
  after(async () => { await h.close(); });

  test('TOTP: password + code logs in; the password alone, a wrong and a replayed code do not', async () => {
    const code = freshCode();
    const ok = await login('mfa', `ftp-pass${code}`);
    assert.equal(ok.code, 0, ok.stderr);
    assert.notEqual((await login('mfa', 'ftp-pass')).code, 0, 'password alone');
    assert.notEqual((await login('mfa', 'ftp-pass000000')).code, 0, 'wrong code');
    assert.notEqual((await login('mfa', `ftp-pass${code}`)).code, 0, 'replayed code');
    const lines = await h.logLines();
    assert.ok(lines.some((l) => l.sender === 'connection_failed' && l.username === 'mfa' && /already used/.test(String(l.error))));
    // the password is never logged, with or without the code
    assert.equal(lines.some((l) => JSON.stringify(l).includes('ftp-pass')), false);
  });

  test('access_time: inside a window logs in, outside is refused', async () => {
    assert.equal((await login('always', 'ftp-pass')).code, 0);
    assert.notEqual((await login('never', 'ftp-pass')).code, 0);
    const lines = await h.logLines();
    assert.ok(lines.some((l) => l.sender === 'connection_failed' && l.username === 'never' && /not allowed at this time/.test(String(l.error))));
  });

  test('require_password_change and an expired password refuse the login; a fresh one does not', async () => {
    assert.notEqual((await login('mustchange', 'ftp-pass')).code, 0);
    assert.notEqual((await login('expired', 'ftp-pass')).code, 0);
    assert.equal((await login('fresh', 'ftp-pass')).code, 0);
    const lines = await h.logLines();
    assert.ok(lines.some((l) => l.sender === 'connection_failed' && l.username === 'expired' && /password change required/.test(String(l.error))));
  });

  test('is_anonymous: any password, downloads only', async () => {
    const r = await login('anon', 'whatever-at-all', ['get pub.txt -o pub-back.txt', 'put up.txt']);
    assert.notEqual(r.code, 0, 'the upload must be refused');
    assert.equal(fs.readFileSync(path.join(local, 'pub-back.txt'), 'utf8'), 'public');
    assert.equal(fs.existsSync(path.join(h.home('anon'), 'up.txt')), false);
  });

  test('a client that leaves without sending a password is logged as no_auth_tried', async () => {
    const r = await RawFtp.connect(h.plainPort);
    assert.equal((await r.cmd('USER always')).code, 331);
    r.close();
    const line = await h.waitForLog((l) => l.sender === 'connection_failed' && l.login_type === 'no_auth_tried' && l.protocol === 'FTP');
    assert.match(String(line.error), /no authentication tried/);
  });

  test('two_factor_protocols with FTP and no TOTP set up refuses the login', async () => {
    assert.notEqual((await login('need2fa', 'ftp-pass')).code, 0);
  });
});
