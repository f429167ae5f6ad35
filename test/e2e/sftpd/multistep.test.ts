/**
 * SSH multi-step authentication through denied_login_methods, exactly as
 * SFTPGo: when every allowed SSH method is publickey+password or
 * publickey+keyboard-interactive, an accepted key is a partial success and
 * OpenSSH's client continues by itself with the second method. Neither the key
 * nor the password alone logs in; the login line names the multi-step method.
 * With TOTP for SSH, the second keyboard-interactive step asks only the code.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { generateTotpSecret, totpCode } from '../../../src/mfa/totp';
import { startSftpServer, type TestSftpServer } from '../../support/server';
import { writeKeyPair, type TestKeyPair } from '../../support/sshkeys';
import { run } from './openssh';

const SINGLE = ['publickey', 'password', 'keyboard-interactive'];

describe('SSH multi-step authentication with OpenSSH', () => {
  let srv: TestSftpServer;
  let key: TestKeyPair;
  let secret: string;

  /**
   * ssh with the given methods in order; SSH_ASKPASS answers the password or,
   * for an "Authentication code" prompt, the code, and records the prompts.
   */
  const ssh = async (user: string, methods: string, opts: { key?: boolean; password?: string; code?: string } = {}) => {
    const dir = await fsp.mkdtemp(path.join(srv.configDir, 'askpass-'));
    const askpass = path.join(dir, 'askpass.sh');
    await fsp.writeFile(askpass, `#!/bin/sh\necho "$1" >> "${dir}/asked"\ncase "$1" in\n  *Authentication*) echo '${opts.code ?? ''}' ;;\n  *) echo '${opts.password ?? 'wrong'}' ;;\nesac\n`, { mode: 0o700 });
    const keyArgs = opts.key === false ? ['-o', 'PubkeyAuthentication=no'] : ['-o', 'IdentitiesOnly=yes', '-i', key.privateKeyPath];
    const r = await run('ssh', ['-F', '/dev/null', '-p', String(srv.port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
      ...keyArgs, '-o', `PreferredAuthentications=${methods}`, '-o', 'NumberOfPasswordPrompts=1', '-o', 'ConnectTimeout=30',
      `${user}@127.0.0.1`, 'pwd'],
    { env: { ...process.env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' } });
    const asked = (await fsp.readFile(path.join(dir, 'asked'), 'utf8').catch(() => '')).split('\n').filter((l) => l !== '');
    return { ...r, asked };
  };
  const loginMethods = async (user: string) =>
    (await srv.readLog()).filter((l) => l.sender === 'login' && l.username === user).map((l) => l.method);

  before(async () => {
    srv = await startSftpServer();
    key = await writeKeyPair(srv.configDir, 'k', 'ecdsa');
    secret = generateTotpSecret();
    const user = (username: string, denied: string[], filters: Record<string, unknown> = {}) =>
      srv.createUser({ username, password: 'multi-pw', public_keys: [key.publicKey], filters: { denied_login_methods: denied, ...filters } });
    await user('keypw', [...SINGLE, 'publickey+keyboard-interactive']);
    await user('keykbd', [...SINGLE, 'publickey+password']);
    await user('keyboth', [...SINGLE]);
    await user('keycode', [...SINGLE, 'publickey+password'], {
      totp_config: { enabled: true, config_name: 'Default', secret: { status: 'Plain', payload: secret }, protocols: ['SSH'] },
    });
  });
  after(async () => { await srv?.stop(); });

  test('publickey+password: OpenSSH continues with the password after the key', async () => {
    const r = await ssh('keypw', 'publickey,password', { password: 'multi-pw' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '/\n');
    assert.deepEqual(await loginMethods('keypw'), ['publickey+password']);
  });

  test('publickey+password: the key alone, the password alone, a wrong password are refused', async () => {
    assert.notEqual((await ssh('keypw', 'publickey')).status, 0, 'key alone');
    assert.notEqual((await ssh('keypw', 'password', { key: false, password: 'multi-pw' })).status, 0, 'password alone');
    assert.notEqual((await ssh('keypw', 'publickey,password', { password: 'nope' })).status, 0, 'wrong password');
    // keyboard-interactive is not the allowed second step for this user
    assert.notEqual((await ssh('keypw', 'publickey,keyboard-interactive', { password: 'multi-pw' })).status, 0);
    assert.deepEqual(await loginMethods('keypw'), ['publickey+password']);
  });

  test('publickey+keyboard-interactive: the password prompt follows the key', async () => {
    const r = await ssh('keykbd', 'publickey,keyboard-interactive', { password: 'multi-pw' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.asked.length, 1);
    assert.match(r.asked[0]!, /Password/);
    assert.notEqual((await ssh('keykbd', 'keyboard-interactive', { key: false, password: 'multi-pw' })).status, 0, 'no key first');
    assert.deepEqual(await loginMethods('keykbd'), ['publickey+keyboard-interactive']);
  });

  test('both multi-step methods allowed: either second step works', async () => {
    assert.equal((await ssh('keyboth', 'publickey,password', { password: 'multi-pw' })).status, 0);
    assert.equal((await ssh('keyboth', 'publickey,keyboard-interactive', { password: 'multi-pw' })).status, 0);
    assert.deepEqual((await loginMethods('keyboth')).sort(), ['publickey+keyboard-interactive', 'publickey+password']);
  });

  test('with TOTP for SSH, the keyboard-interactive step after the key asks only the code', async () => {
    const r = await ssh('keycode', 'publickey,keyboard-interactive', { code: totpCode(secret, 'sha1', Date.now()) });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.asked.length, 1, r.asked.join('|'));
    assert.match(r.asked[0]!, /Authentication code/);
    assert.notEqual((await ssh('keycode', 'publickey,keyboard-interactive', { code: '000000' })).status, 0);
  });
});
