/** keyboard_interactive_auth_hook: multi-round program dialogue, check_password 1/2, HTTP steps, and bad hooks refused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HookError } from '../../../src/hooks/types';
import type { KiContext } from '../../../src/hooks/index';
import type { User } from '../../../src/dataprovider/models';
import { hookServer, json, makeHooks, nodeScript, shScript } from './support';

const user: User = { id: 5, status: 1, username: 'kim', password: '$2a$10$storedhash', home_dir: '/tmp/kim', permissions: { '/': ['*'] } };

/** A client that answers from a table and records what it was asked. */
function kiContext(answers: Record<string, string>, extra: Partial<KiContext> = {}): KiContext & { asked: { instruction: string; questions: string[]; echos: boolean[] }[] } {
  const asked: { instruction: string; questions: string[]; echos: boolean[] }[] = [];
  return {
    user, ip: '127.0.0.1', asked,
    challenge: async (instruction, questions, echos) => {
      asked.push({ instruction, questions, echos });
      return questions.map((q) => answers[q] ?? '');
    },
    checkPassword: async (a) => a === 'the-password',
    ...extra,
  };
}

const PROGRAM = `
const rl = require('readline').createInterface({ input: process.stdin });
const lines = rl[Symbol.asyncIterator]();
const next = async () => (await lines.next()).value;
(async () => {
  if (process.env.SFTPGO_AUTHD_USERNAME !== 'kim' || process.env.SFTPGO_AUTHD_PASSWORD !== '$2a$10$storedhash' || process.env.SFTPGO_AUTHD_IP !== '127.0.0.1') {
    console.log(JSON.stringify({ auth_result: -1 })); return;
  }
  console.log(JSON.stringify({ instruction: 'step 1', questions: ['Password: '], echos: [false], check_password: 1 }));
  if (await next() !== 'OK') { console.log(JSON.stringify({ auth_result: -1 })); return; }
  console.log(JSON.stringify({ instruction: 'step 2', questions: ['City: ', 'Pet: '], echos: [true, false] }));
  const city = await next(); const pet = await next();
  console.log(JSON.stringify({ auth_result: city === 'Rome' && pet === 'cat' ? 1 : -1 }));
})();`;

test('program: two rounds, the password round checked by the server, answers on stdin', async (t) => {
  const f = await makeHooks(t, (c, dir) => { c.sftpd.keyboard_interactive_auth_hook = nodeScript(dir, 'ki.js', PROGRAM); });
  const ctx = kiContext({ 'Password: ': 'the-password', 'City: ': 'Rome', 'Pet: ': 'cat' });
  assert.equal(await f.hooks.keyboardInteractive(ctx), true);
  assert.deepEqual(ctx.asked, [
    { instruction: 'step 1', questions: ['Password: '], echos: [false] },
    { instruction: 'step 2', questions: ['City: ', 'Pet: '], echos: [true, false] },
  ]);
  assert.equal(await f.hooks.keyboardInteractive(kiContext({ 'Password: ': 'the-password', 'City: ': 'Paris', 'Pet: ': 'cat' })), false);
  await assert.rejects(f.hooks.keyboardInteractive(kiContext({ 'Password: ': 'wrong' })), (e: unknown) => e instanceof HookError && /password check/.test(e.message));
});

test('program: check_password 2 uses the TOTP check; without TOTP for SSH it is refused', async (t) => {
  const f = await makeHooks(t, (c, dir) => {
    c.sftpd.keyboard_interactive_auth_hook = nodeScript(dir, 'totp.js', `
      console.log(JSON.stringify({ questions: ['Code: '], echos: [false], check_password: 2 }));
      require('readline').createInterface({ input: process.stdin }).once('line', (l) => { console.log(JSON.stringify({ auth_result: l === 'OK' ? 1 : -1 })); process.exit(0); });`);
  });
  assert.equal(await f.hooks.keyboardInteractive(kiContext({ 'Code: ': '123456' }, { checkTotp: async (c) => c === '123456' })), true);
  await assert.rejects(f.hooks.keyboardInteractive(kiContext({ 'Code: ': '000000' }, { checkTotp: async (c) => c === '123456' })), HookError);
  await assert.rejects(f.hooks.keyboardInteractive(kiContext({ 'Code: ': '123456' })), /TOTP/);
});

test('program: bad behaviour is a refusal, never a hang', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['broken.sh', 'echo "{not json"', /invalid JSON/],
    ['noq.sh', `echo '{"instruction":"x","questions":[],"echos":[]}'`, /does not contain questions/],
    ['mismatch.sh', `echo '{"questions":["a","b"],"echos":[true]}'`, /2 questions but 1 echos/],
    ['crash.sh', `echo '{"questions":["a"],"echos":[true]}'; exit 4`, /exited|closed|without/],
  ];
  for (const [name, body, re] of cases) {
    const f = await makeHooks(t, (c, dir) => { c.sftpd.keyboard_interactive_auth_hook = shScript(dir, name, body); });
    const res = await f.hooks.keyboardInteractive(kiContext({ a: 'x' })).then((ok) => ok, (e: unknown) => e);
    if (name === 'crash.sh') {
      // the program died after asking: either the dialogue ends without a result (false) or the exit is reported
      assert.ok(res === false || (res instanceof HookError && re.test(res.message)), `${name}: ${String(res)}`);
    } else {
      assert.ok(res instanceof HookError && re.test(res.message), `${name}: ${String(res)}`);
    }
  }
  const slow = await makeHooks(t, (c, dir) => { c.sftpd.keyboard_interactive_auth_hook = shScript(dir, 'silent.sh', 'exec /bin/sleep 120'); });
  const err = await slow.hooks.keyboardInteractive(kiContext({}, { deadlineMs: 500 })).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof HookError && err.failure === 'timeout', String(err));
  // a client that never answers is cut by the deadline too
  const stuck = await makeHooks(t, (c, dir) => { c.sftpd.keyboard_interactive_auth_hook = shScript(dir, 'ask.sh', `echo '{"questions":["q"],"echos":[true]}'; read x`); });
  const err2 = await stuck.hooks.keyboardInteractive(kiContext({}, { deadlineMs: 500, challenge: () => new Promise<string[]>(() => undefined) }))
    .then(() => undefined, (e: unknown) => e);
  assert.ok(err2 instanceof HookError && err2.failure === 'timeout', String(err2));
});

test('HTTP: numbered steps with request_id, answers and questions; non-200 refused', async (t) => {
  const srv = await hookServer(t, (req, res) => {
    const b = JSON.parse(req.body) as { step: number; answers?: string[] };
    if (b.step === 1) json(res, 200, { instruction: 'hi', questions: ['Password: '], echos: [false], check_password: 1 });
    else if (b.step === 2) json(res, 200, { questions: ['Token: '], echos: [true] });
    else json(res, 200, { auth_result: b.answers?.[0] === 'tok' ? 1 : -1 });
  });
  const f = await makeHooks(t, (c) => { c.sftpd.keyboard_interactive_auth_hook = `${srv.url}/ki`; });
  assert.equal(await f.hooks.keyboardInteractive(kiContext({ 'Password: ': 'the-password', 'Token: ': 'tok' })), true);
  const bodies = srv.requests.map((r) => JSON.parse(r.body) as Record<string, unknown>);
  const id = bodies[0]?.request_id;
  assert.ok(typeof id === 'string' && id.length > 0);
  assert.deepEqual(bodies[0], { request_id: id, step: 1, username: 'kim', ip: '127.0.0.1', password: '$2a$10$storedhash' });
  assert.deepEqual(bodies[1], { request_id: id, step: 2, username: 'kim', password: '$2a$10$storedhash', answers: ['OK'], questions: ['Password: '] });
  assert.deepEqual(bodies[2]?.answers, ['tok']);
  srv.setHandler((_req, res) => json(res, 500, {}));
  await assert.rejects(f.hooks.keyboardInteractive(kiContext({})), (e: unknown) => e instanceof HookError && e.failure === 'http-status');
});
