/**
 * SSH two-factor authentication for users restored from an SFTPGo dump with
 * filters.totp_config enabled for SSH: keyboard-interactive asks the password
 * then "Authentication code: " (OpenSSH through SSH_ASKPASS, paramiko with its
 * prompts recorded), the plain password method is refused, a replayed code is
 * refused, a public key alone still logs in (as SFTPGo). Codes are computed
 * here from the secret. two_factor_protocols without TOTP refuses the login.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { generateTotpSecret, totpCode } from '../../../src/mfa/totp';
import { buildServicesStatus } from '../../../src/service/status';
import { startSftpServer, type TestSftpServer } from '../../support/server';
import { writeKeyPair, type TestKeyPair } from '../../support/sshkeys';
import { keyOpts, run } from './openssh';

const PARAMIKO = `
import sys, json, paramiko
host, port, user, password, code, mode = sys.argv[1:7]
asked = []
def handler(title, instructions, prompts):
    out = []
    for text, _echo in prompts:
        asked.append(text)
        out.append(password if text.startswith('Password') else code)
    return out
t = paramiko.Transport((host, int(port)))
t.start_client(timeout=30)
try:
    if mode == 'password':
        t.auth_password(user, password)
    else:
        t.auth_interactive(user, handler)
    sftp = paramiko.SFTPClient.from_transport(t)
    sftp.listdir('/')
    print(json.dumps({'ok': True, 'asked': asked}))
except Exception as e:
    print(json.dumps({'ok': False, 'asked': asked, 'error': type(e).__name__}))
finally:
    t.close()
`;

describe('SSH TOTP second factor', () => {
  let srv: TestSftpServer;
  let key: TestKeyPair;
  let secret: string;
  let script: string;
  const used = new Set<string>();
  /** a code not used yet: the server accepts the codes of the previous, current and next 30 s steps */
  const freshCode = (): string => {
    for (const offset of [0, 30_000, -30_000]) {
      const c = totpCode(secret, 'sha1', Date.now() + offset);
      if (!used.has(c)) { used.add(c); return c; }
    }
    throw new Error('no unused TOTP code left in the accepted window');
  };

  const paramiko = async (user: string, password: string, code: string, mode: 'kbd' | 'password') => {
    const r = await run('/usr/bin/python3', [script, '127.0.0.1', String(srv.port), user, password, code, mode]);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim()) as { ok: boolean; asked: string[]; error?: string };
  };

  /** OpenSSH keyboard-interactive; SSH_ASKPASS answers by prompt and records them */
  const openssh = async (user: string, password: string, code: string, method = 'keyboard-interactive') => {
    const dir = await fsp.mkdtemp(path.join(srv.configDir, 'askpass-'));
    const askpass = path.join(dir, 'askpass.sh');
    await fsp.writeFile(askpass, `#!/bin/sh\necho "$1" >> "${dir}/asked"\ncase "$1" in\n  *Authentication*) echo '${code}' ;;\n  *) echo '${password}' ;;\nesac\n`, { mode: 0o700 });
    const r = await run('ssh', ['-F', '/dev/null', '-p', String(srv.port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
      '-o', 'PubkeyAuthentication=no', '-o', `PreferredAuthentications=${method}`, '-o', 'NumberOfPasswordPrompts=1',
      '-o', 'ConnectTimeout=30', `${user}@127.0.0.1`, 'pwd'],
    { env: { ...process.env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' } });
    const asked = await fsp.readFile(path.join(dir, 'asked'), 'utf8').catch(() => '');
    return { ...r, asked: asked.split('\n').filter((l) => l !== '') };
  };

  before(async () => {
    srv = await startSftpServer();
    key = await writeKeyPair(srv.configDir, 'k', 'ecdsa');
    secret = generateTotpSecret();
    script = path.join(srv.configDir, 'kbd.py');
    await fsp.writeFile(script, PARAMIKO);
    // SFTPGo's dump layout; the secret sealed with the configured kms (local secretbox), and one Plain
    const sealed = await srv.ctx.kms.encrypt(secret, 'totp');
    const user = (username: string, s: unknown) => ({
      username, status: 1, password: 'pw-2fa', public_keys: [key.publicKey], home_dir: srv.homeOf(username),
      permissions: { '/': ['*'] },
      filters: { totp_config: { enabled: true, config_name: 'Default', secret: s, protocols: ['SSH', 'FTP'] } },
    });
    await srv.ctx.provider.restore({
      version: 17, folders: [], admins: [],
      users: [user('mfa', sealed), user('mfaplain', { status: 'Plain', payload: secret }),
        { username: 'must2fa', status: 1, password: 'pw-2fa', home_dir: srv.homeOf('must2fa'), permissions: { '/': ['*'] },
          filters: { two_factor_protocols: ['SSH'] } }],
    }, 0);
  });
  after(async () => { await srv?.stop(); });

  test('OpenSSH keyboard-interactive: password then authentication code', async () => {
    const r = await openssh('mfa', 'pw-2fa', freshCode());
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '/\n');
    assert.equal(r.asked.length, 2, r.asked.join('|'));
    assert.match(r.asked[0]!, /Password/);
    assert.match(r.asked[1]!, /Authentication code/);
  });

  test('the password alone is refused: password method, and a wrong code', async () => {
    const pw = await openssh('mfa', 'pw-2fa', '', 'password');
    assert.notEqual(pw.status, 0, 'password method must not skip the second factor');
    const wrong = await paramiko('mfaplain', 'pw-2fa', '000000', 'kbd');
    assert.equal(wrong.ok, false);
    const viaParamiko = await paramiko('mfaplain', 'pw-2fa', '', 'password');
    assert.equal(viaParamiko.ok, false);
    const lines = await srv.readLog();
    assert.ok(lines.some((l) => l.sender === 'connection_failed' && l.username === 'mfa' && /use keyboard-interactive/.test(String(l.error))));
  });

  test('paramiko: both prompts, and a replayed code is refused', async () => {
    const code = freshCode();
    const first = await paramiko('mfaplain', 'pw-2fa', code, 'kbd');
    assert.deepEqual(first, { ok: true, asked: ['Password: ', 'Authentication code: '] });
    const replay = await paramiko('mfaplain', 'pw-2fa', code, 'kbd');
    assert.equal(replay.ok, false, 'a code is accepted once');
    const lines = await srv.readLog();
    assert.ok(lines.some((l) => l.sender === 'connection_failed' && l.username === 'mfaplain' && /already used/.test(String(l.error))));
  });

  test('a public key alone logs in without a code (the key is the other factor, as in SFTPGo)', async () => {
    const r = await run('ssh', ['-p', String(srv.port), ...keyOpts(key.privateKeyPath), 'mfa@127.0.0.1', 'pwd']);
    assert.equal(r.status, 0, r.stderr);
  });

  test('two_factor_protocols without TOTP set up refuses the SSH login', async () => {
    const r = await paramiko('must2fa', 'pw-2fa', '', 'password');
    assert.equal(r.ok, false);
    const lines = await srv.readLog();
    assert.ok(lines.some((l) => l.sender === 'connection_failed' && l.username === 'must2fa' && /second factor authentication is not set/.test(String(l.error))));
  });

  test('status reports MFA active now that logins check codes', () => {
    const mfa = buildServicesStatus(srv.ctx, [srv.service]).mfa as { is_active: boolean };
    assert.equal(mfa.is_active, true);
  });
});
