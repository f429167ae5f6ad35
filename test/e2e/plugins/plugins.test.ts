/**
 * Plugins in the whole application (startApp), driven by OpenSSH sftp: an
 * auth plugin (a separate Node process speaking go-plugin over gRPC, with
 * AutoMTLS) logs users in with a password, a public key and a
 * keyboard-interactive dialogue (paramiko) and refuses a wrong password; a plugin that dies in the middle of a login refuses that login
 * (fail closed) and is restarted; a notifier plugin receives the upload
 * event; the IP filter plugin denies an address at accept; the KMS plugin
 * encrypts the server's secrets. A plugin that cannot start stops start-up with a clear error.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { generateTotpSecret, totpCode } from '../../../src/mfa/totp';
import { startHooksEnv, type HooksEnv } from '../hooks/env';
import { pluginConfig, writePluginLauncher } from '../../support/plugin-fixtures';

let env: HooksEnv;
let events: string;
let preLoginCalls: string;

before(async () => {
  env = await startHooksEnv((c, dir) => {
    const key = readFileSync(join(dir, 'client.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
    events = join(dir, 'events.jsonl');
    writeFileSync(events, '');
    c.sftpd.keyboard_interactive_authentication = true;
    // never run: the auth plugin covers every SSH method, and SFTPGo asks a plugin instead of the hooks
    preLoginCalls = join(dir, 'pre-login-calls');
    const hook = join(dir, 'pre-login.sh');
    writeFileSync(hook, `#!/bin/sh\necho "$SFTPGO_LOGIND_USER" >> "${preLoginCalls}"\n`, { mode: 0o755 });
    c.data_provider.pre_login_hook = hook;
    c.kms.secrets.url = 'awskms://alias/sftpgo-test';
    c.kms.secrets.master_key = 'e2e-master-key';
    c.plugins = [
      pluginConfig('auth', writePluginLauncher(dir, 'auth-plugin', 'auth'), {
        args: [`--home=${join(dir, 'homes')}`, `--key=${key}`, '--crash-on=boom', '--network=tcp'], auto_mtls: true, auth_options: { scope: 7 },
      }),
      pluginConfig('kms', writePluginLauncher(dir, 'kms-plugin', 'kms'), { kms_options: { scheme: 'awskms', encrypted_status: 'AWS' } }),
      pluginConfig('ipfilter', writePluginLauncher(dir, 'ipfilter-plugin', 'ipfilter'), { args: ['--deny=127.0.0.2'], auto_mtls: true }),
      pluginConfig('notifier', writePluginLauncher(dir, 'notifier-plugin', 'notifier'), {
        args: [`--out=${events}`],
        notifier_options: { fs_events: ['upload', 'mkdir'], provider_events: [], provider_objects: [], log_events: [], retry_max_time: 60, retry_queue_max_size: 100 },
      }),
    ];
  });
});

after(async () => {
  await env?.stop();
});

/** The notifier plugin's record of one kind of event ("fs", "provider", "log"). */
function readEvents<T>(kind: string): T[] {
  return readFileSync(events, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as T & { kind: string }).filter((e) => e.kind === kind);
}

/** Bounded wait on a condition the server reaches on its own (a plugin restart, a background notification). */
async function eventually(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('an auth plugin logs a user in over SFTP with a password and refuses a wrong one', { timeout: 120_000 }, async () => {
  const ok = await env.sftpPassword('plug', 'plug-pw', ['mkdir by-plugin']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.ok(existsSync(join(env.dir, 'homes', 'plug', 'by-plugin')));
  const wrong = await env.sftpPassword('plug', 'not-the-password', ['pwd']);
  assert.notEqual(wrong.status, 0);
  const unknown = await env.sftpPassword('nobody', 'x', ['pwd']);
  assert.notEqual(unknown.status, 0);
  const log = await env.logText();
  assert.match(log, /plugin auth error for user \\"plug\\": CheckUserAndPass: invalid credentials/);
  assert.ok(!log.includes('plug-pw') && !log.includes('not-the-password'), 'no password in the log');
  assert.equal(existsSync(preLoginCalls), false, 'the pre-login hook is not asked for a method the plugin covers');
});

test('an auth plugin accepts a public key it knows', { timeout: 120_000 }, async () => {
  const r = await env.sftpKey('keyuser', 'mkdir by-key');
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(join(env.dir, 'homes', 'keyuser', 'by-key')));
});

test('keyboard-interactive through the auth plugin: its rounds reach paramiko with their echo flags, check_password is verified by the server', { timeout: 120_000 }, async () => {
  const ok = await env.paramikoKi('kiuser', { 'Favourite colour? ': 'blue', 'PIN: ': '4321', 'Password: ': 'ki-pw' });
  assert.equal(ok.ok, true, ok.error);
  assert.deepEqual(ok.asked, [
    { instruction: 'Answer the plugin', prompts: ['Favourite colour? ', 'PIN: '], echos: [true, false] },
    { instruction: '', prompts: ['Password: '], echos: [false] },
  ]);
  assert.ok(existsSync(join(env.dir, 'homes', 'kiuser')), 'the account the plugin returned was created');
  const stored = await env.app.ctx.provider.getUser('kiuser');
  assert.match(stored?.password ?? '', /^\$/, 'the plaintext password from the plugin is stored hashed');

  const wrongPin = await env.paramikoKi('kiuser', { 'Favourite colour? ': 'blue', 'PIN: ': '0000', 'Password: ': 'ki-pw' });
  assert.equal(wrongPin.ok, false);
  assert.equal(wrongPin.asked.length, 1, 'the plugin ended the dialogue after the wrong PIN');
  const wrongPassword = await env.paramikoKi('kiuser', { 'Favourite colour? ': 'blue', 'PIN: ': '4321', 'Password: ': 'nope' });
  assert.equal(wrongPassword.ok, false);
  const unknown = await env.paramikoKi('nobody', { 'Password: ': 'x' });
  assert.equal(unknown.ok, false);
  assert.equal(unknown.asked.length, 0, 'an unknown user is refused before any question');
  const bad = await env.paramikoKi('kimute', {});
  assert.equal(bad.ok, false);
  const log = await env.logText();
  assert.match(log, /keyboard interactive auth error for user \\"kimute\\": keyboard interactive plugin: the response does not contain questions/);
  assert.match(log, /"step":1,"stored_password_is_hash":true/, 'the plugin gets the stored hash, never a plaintext password');
  assert.ok(!log.includes('ki-pw') && !log.includes('4321'), 'no password or answer in the log');
});

test('after the plugin\'s keyboard-interactive dialogue, a user with TOTP for SSH is asked for the code', { timeout: 120_000 }, async () => {
  const secret = generateTotpSecret();
  assert.ok(await env.app.ctx.provider.getUser('kiuser'), 'kiuser was created by the previous test');
  // as the 2FA endpoints save it
  await env.app.ctx.provider.saveSecondFactor('user', 'kiuser', {
    totp_config: { enabled: true, config_name: 'Default', secret: { status: 'Plain', payload: secret }, protocols: ['SSH'] },
  });
  const answers = { 'Favourite colour? ': 'blue', 'PIN: ': '4321', 'Password: ': 'ki-pw' };
  const wrong = await env.paramikoKi('kiuser', { ...answers, 'Authentication code: ': '000000' });
  assert.equal(wrong.ok, false);
  assert.deepEqual(wrong.asked.map((a) => a.prompts), [['Favourite colour? ', 'PIN: '], ['Password: '], ['Authentication code: ']]);
  const ok = await env.paramikoKi('kiuser', { ...answers, 'Authentication code: ': totpCode(secret, 'sha1', Date.now()) });
  assert.equal(ok.ok, true, ok.error);
  assert.equal(ok.asked.length, 3);
});

test('the auth plugin dying refuses the login in progress; it is restarted and logins work again', { timeout: 120_000 }, async () => {
  const crashed = await env.sftpPassword('boom', 'x', ['pwd']);
  assert.notEqual(crashed.status, 0);
  await eventually('the auth plugin restarted', async () => ((await env.logText()).match(/auth plugin .* started/g) ?? []).length >= 2);
  const ok = await env.sftpPassword('plug', 'plug-pw', ['pwd']);
  assert.equal(ok.status, 0, ok.stderr);
});

test('a notifier plugin receives the upload event', { timeout: 120_000 }, async () => {
  const local = join(env.dir, 'upload-me.txt');
  writeFileSync(local, 'hello plugin');
  const r = await env.sftpPassword('plug', 'plug-pw', [`put ${local} up.txt`]);
  assert.equal(r.status, 0, r.stderr);
  type Ev = { action: string; username: string; virtual_path: string; file_size: number; protocol: string; status: number; fs_path: string };
  const read = (): Ev[] => readEvents<Ev>('fs');
  await eventually('the upload event at the plugin', () => read().some((e) => e.action === 'upload'));
  const up = read().find((e) => e.action === 'upload')!;
  assert.equal(up.username, 'plug');
  assert.equal(up.virtual_path, '/up.txt');
  assert.equal(up.file_size, 12);
  assert.equal(up.protocol, 'SFTP');
  assert.equal(up.status, 1);
  assert.equal(up.fs_path, join(env.dir, 'homes', 'plug', 'up.txt'));
});

test('the KMS plugin encrypts the server\'s secrets for awskms://', { timeout: 120_000 }, async () => {
  const s = await env.app.ctx.kms.encrypt('a secret', 'plug');
  assert.equal(s.status, 'AWS');
  assert.equal(await env.app.ctx.kms.decrypt(s), 'a secret');
});

/** What the server sends first to a client connecting from `localAddress` ('' when it closes without a word). */
function firstBytes(port: number, localAddress: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port, localAddress });
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('no answer within 30 s')); }, 30_000);
    let got = '';
    sock.on('data', (b) => { got += b.toString('latin1'); if (got.includes('\n')) sock.end(); });
    sock.on('error', () => undefined);
    sock.on('close', () => { clearTimeout(timer); resolve(got); });
  });
}

test('an IP filter plugin is asked first: a denied address gets nothing, an allowed one the SSH banner', { timeout: 120_000 }, async () => {
  assert.match(await firstBytes(env.ports.sftp, '127.0.0.1'), /^SSH-2\.0-/);
  assert.equal(await firstBytes(env.ports.sftp, '127.0.0.2'), '');
  const dav = await env.dav('plug', 'plug-pw', 'PROPFIND', '/');
  assert.equal(dav, 207);
  assert.match(await env.logText(), /connection from 127\.0\.0\.2 \(SSH\) denied by ipfilter plugin/);
});

test('a plugin that exits before its handshake stops start-up with a clear error', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(os.tmpdir(), 'plugin-broken-'));
  try {
    await assert.rejects(startHooksEnv((c) => {
      c.plugins = [pluginConfig('auth', writePluginLauncher(dir, 'auth-plugin', 'auth'), { args: ['--misbehave=exit'], auth_options: { scope: 1 } })];
    }), /auth plugin ".*auth-plugin" exited \(code 3\) before the handshake/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
