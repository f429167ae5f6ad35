/**
 * sftpd.keyboard_interactive_auth_hook driven by a real keyboard-interactive
 * client (paramiko): a multi-question program hook with a server-checked
 * password round, an HTTP hook, and bad hooks refusing the login.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { hookServer, json, nodeScript, shScript } from '../../unit/hooks/support';
import { generateTotpSecret, totpCode } from '../../../src/mfa/totp';
import { startHooksEnv } from './env';

const PROGRAM = `
const rl = require('readline').createInterface({ input: process.stdin });
const it = rl[Symbol.asyncIterator]();
const next = async () => (await it.next()).value;
(async () => {
  console.log(JSON.stringify({ instruction: 'Welcome ' + process.env.SFTPGO_AUTHD_USERNAME, questions: ['Password: '], echos: [false], check_password: 1 }));
  if (await next() !== 'OK') { console.log(JSON.stringify({ auth_result: -1 })); return; }
  console.log(JSON.stringify({ instruction: 'two more', questions: ['Favourite colour: ', 'PIN: '], echos: [true, false] }));
  const colour = await next(); const pin = await next();
  console.log(JSON.stringify({ auth_result: colour === 'blue' && pin === '4242' ? 1 : -1 }));
  process.exit(0);
})();`;

test('built-in keyboard-interactive (no hook) asks "Password: " once', { timeout: 120_000 }, async (t) => {
  const env = await startHooksEnv(() => undefined);
  t.after(() => env.stop());
  await env.app.ctx.provider.addUser({ status: 1, username: 'kio', password: 'pw-kio', home_dir: join(env.dir, 'kio'), permissions: { '/': ['*'] } });
  const ok = await env.paramikoKi('kio', { 'Password: ': 'pw-kio' });
  assert.equal(ok.ok, true, ok.error);
  assert.equal((await env.paramikoKi('kio', { 'Password: ': 'nope' })).ok, false);
});

test('program hook: three questions over two rounds, the password round checked by the server', { timeout: 120_000 }, async (t) => {
  const env = await startHooksEnv((c, dir) => { c.sftpd.keyboard_interactive_auth_hook = nodeScript(dir, 'ki.js', PROGRAM); });
  t.after(() => env.stop());
  await env.app.ctx.provider.addUser({ status: 1, username: 'kira', password: 'pw-kira', home_dir: join(env.dir, 'kira'), permissions: { '/': ['*'] } });
  const ok = await env.paramikoKi('kira', { 'Password: ': 'pw-kira', 'Favourite colour: ': 'blue', 'PIN: ': '4242' });
  assert.equal(ok.ok, true, ok.error);
  assert.deepEqual(ok.asked.map((a) => a.prompts), [['Password: '], ['Favourite colour: ', 'PIN: ']]);
  assert.deepEqual(ok.asked[1]?.echos, [true, false]);
  assert.equal(ok.asked[0]?.instruction, 'Welcome kira');
  const wrongPin = await env.paramikoKi('kira', { 'Password: ': 'pw-kira', 'Favourite colour: ': 'blue', 'PIN: ': '0000' });
  assert.equal(wrongPin.ok, false);
  const wrongPassword = await env.paramikoKi('kira', { 'Password: ': 'bad', 'Favourite colour: ': 'blue', 'PIN: ': '4242' });
  assert.equal(wrongPassword.ok, false);
  assert.equal(wrongPassword.asked.length, 1, 'no second round after a wrong password');
  const log = await env.logText();
  assert.ok(!log.includes('pw-kira') && !log.includes('4242'), 'answers never logged');
});

test('HTTP hook: numbered steps; a broken hook (500, bad JSON) refuses the login', { timeout: 120_000 }, async (t) => {
  const srv = await hookServer(t, (req, res) => {
    const b = JSON.parse(req.body) as { step: number; answers?: string[] };
    if (b.step === 1) json(res, 200, { instruction: '', questions: ['Token: '], echos: [true] });
    else json(res, 200, { auth_result: b.answers?.[0] === 't0k3n' ? 1 : -1 });
  });
  const env = await startHooksEnv((c) => { c.sftpd.keyboard_interactive_auth_hook = `${srv.url}/ki`; });
  t.after(() => env.stop());
  await env.app.ctx.provider.addUser({ status: 1, username: 'hana', password: 'pw-hana', home_dir: join(env.dir, 'hana'), permissions: { '/': ['*'] } });
  assert.equal((await env.paramikoKi('hana', { 'Token: ': 't0k3n' })).ok, true);
  assert.equal((await env.paramikoKi('hana', { 'Token: ': 'wrong' })).ok, false);
  srv.setHandler((_r, res) => json(res, 500, {}));
  assert.equal((await env.paramikoKi('hana', { 'Token: ': 't0k3n' })).ok, false);
  srv.setHandler((_r, res) => json(res, 200, '{"questions": ['));
  assert.equal((await env.paramikoKi('hana', { 'Token: ': 't0k3n' })).ok, false);
  assert.match(await env.logText(), /keyboard_interactive_auth_hook/);
});

test('a program hook that never answers is killed at its deadline and the login refused', { timeout: 120_000 }, async (t) => {
  const env = await startHooksEnv((c, dir) => {
    const prog = shScript(dir, 'silent.sh', 'exec /bin/sleep 300');
    c.sftpd.keyboard_interactive_auth_hook = prog;
    c.command.commands = [{ path: prog, timeout: 1, env: [], args: [], hook: 'keyboard_interactive' }];
  });
  t.after(() => env.stop());
  await env.app.ctx.provider.addUser({ status: 1, username: 'sam', password: 'pw-sam', home_dir: join(env.dir, 'sam'), permissions: { '/': ['*'] } });
  const r = await env.paramikoKi('sam', {});
  assert.equal(r.ok, false);
  assert.match(await env.logText(), /keyboard_interactive_auth_hook[^\n]*timeout/);
});

test('program hook with check_password 2: the server checks the TOTP code (replays refused); external_auth_disabled gets the built-in dialogue', { timeout: 120_000 }, async (t) => {
  const env = await startHooksEnv((c, dir) => {
    c.sftpd.keyboard_interactive_auth_hook = nodeScript(dir, 'ki-totp.js', `
      const rl = require('readline').createInterface({ input: process.stdin });
      const it = rl[Symbol.asyncIterator]();
      const next = async () => (await it.next()).value;
      (async () => {
        console.log(JSON.stringify({ questions: ['Password: '], echos: [false], check_password: 1 }));
        if (await next() !== 'OK') { console.log(JSON.stringify({ auth_result: -1 })); return; }
        console.log(JSON.stringify({ questions: ['Code: '], echos: [false], check_password: 2 }));
        console.log(JSON.stringify({ auth_result: (await next()) === 'OK' ? 1 : -1 }));
        process.exit(0);
      })();`);
  });
  t.after(() => env.stop());
  const secret = generateTotpSecret();
  await env.app.ctx.provider.addUser({
    status: 1, username: 'tina', password: 'pw-tina', home_dir: join(env.dir, 'tina'), permissions: { '/': ['*'] },
    filters: { totp_config: { enabled: true, config_name: 'Default', secret: { status: 'Plain', payload: secret }, protocols: ['SSH'] } },
  });
  const code = totpCode(secret, 'sha1', Date.now());
  const ok = await env.paramikoKi('tina', { 'Password: ': 'pw-tina', 'Code: ': code });
  assert.equal(ok.ok, true, ok.error);
  assert.deepEqual(ok.asked.map((a) => a.prompts), [['Password: '], ['Code: ']]);
  const replay = await env.paramikoKi('tina', { 'Password: ': 'pw-tina', 'Code: ': code });
  assert.equal(replay.ok, false, 'a code is accepted once');
  const wrong = await env.paramikoKi('tina', { 'Password: ': 'pw-tina', 'Code: ': code === '000000' ? '111111' : '000000' });
  assert.equal(wrong.ok, false);

  await env.app.ctx.provider.addUser({
    status: 1, username: 'olga', password: 'pw-olga', home_dir: join(env.dir, 'olga'), permissions: { '/': ['*'] },
    filters: { hooks: { external_auth_disabled: true } },
  });
  const builtin = await env.paramikoKi('olga', { 'Password: ': 'pw-olga' });
  assert.equal(builtin.ok, true, builtin.error);
  assert.equal(builtin.asked.length, 1, 'only the built-in password question');
});
