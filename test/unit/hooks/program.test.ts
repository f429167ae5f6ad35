/** The program runner: SFTPGo's environment rules, args, timeouts (the whole process group dies), output bounds, stderr logging. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { programSettings, validateCommandConfig } from '../../../src/hooks/command-config';
import { runProgram } from '../../../src/hooks/program';
import { HookError } from '../../../src/hooks/types';
import { ConfigError } from '../../../src/config/errors';
import { defaultConfig, RecordingLogger, shScript, tempDir } from './support';

/** Running (a killed process waiting to be reaped by init is a zombie: dead for us). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

test('the child sees only command.env, the per-command env and the hook variables, plus args', async (t) => {
  const dir = tempDir(t);
  const prog = shScript(dir, 'env.sh', 'env | sort; echo "ARGS=$1|$2"');
  const cfg = defaultConfig((c) => {
    c.command.env = ['GLOBAL_A=1', 'SHARED=global'];
    c.command.commands = [{ path: prog, timeout: 0, env: ['PER_CMD=2', 'SHARED=command'], args: ['first arg', ''], hook: 'pre_login' }];
  }).command;
  process.env.SFTPGO_TEST_LEAK = 'must-not-leak';
  t.after(() => { delete process.env.SFTPGO_TEST_LEAK; });
  const out = (await runProgram({
    hook: 'pre_login', program: prog, settings: programSettings(cfg, prog, 'pre_login'),
    vars: { SFTPGO_LOGIND_IP: '127.0.0.1', SHARED: 'hook' }, logger: new RecordingLogger(),
  })).toString();
  const lines = out.trim().split('\n');
  assert.ok(lines.includes('GLOBAL_A=1'));
  assert.ok(lines.includes('PER_CMD=2'));
  assert.ok(lines.includes('SFTPGO_LOGIND_IP=127.0.0.1'));
  assert.ok(lines.includes('SHARED=hook'), 'the hook variables are appended last and win');
  assert.ok(lines.includes('ARGS=first arg|'));
  assert.ok(!out.includes('must-not-leak'), 'the server environment is not passed');
  assert.ok(!lines.some((l) => l.startsWith('HOME=') || l.startsWith('PATH=/usr')), 'no inherited HOME/PATH');
});

test('a command entry for another hook name does not apply', async (t) => {
  const dir = tempDir(t);
  const prog = shScript(dir, 'x.sh', 'echo "$1"');
  const cfg = defaultConfig((c) => {
    c.command.commands = [{ path: prog, timeout: 5, env: [], args: ['only-for-startup'], hook: 'startup' }];
  }).command;
  assert.deepEqual(programSettings(cfg, prog, 'pre_login').args, []);
  assert.equal(programSettings(cfg, prog, 'pre_login').timeoutMs, 30_000);
  assert.equal(programSettings(cfg, prog, 'startup').timeoutMs, 5_000);
  assert.equal(programSettings(cfg, prog, 'keyboard_interactive', 60_000).timeoutMs, 60_000);
});

test('command section validation refuses what SFTPGo refuses', () => {
  const bad = [
    (c: ReturnType<typeof defaultConfig>) => { c.command.timeout = 0; },
    (c: ReturnType<typeof defaultConfig>) => { c.command.timeout = 301; },
    (c: ReturnType<typeof defaultConfig>) => { c.command.env = ['NOEQUALS']; },
    (c: ReturnType<typeof defaultConfig>) => { c.command.commands = [{ path: '', timeout: 0, env: [], args: [], hook: '' }]; },
    (c: ReturnType<typeof defaultConfig>) => { c.command.commands = [{ path: '/x', timeout: 999, env: [], args: [], hook: '' }]; },
    (c: ReturnType<typeof defaultConfig>) => { c.command.commands = [{ path: '/x', timeout: 0, env: [], args: [], hook: 'nope' }]; },
  ];
  for (const edit of bad) assert.throws(() => validateCommandConfig(defaultConfig(edit).command), ConfigError);
  validateCommandConfig(defaultConfig().command);
});

test('a hook that outlives its timeout is killed with its children and reported', async (t) => {
  const dir = tempDir(t);
  const pidFile = path.join(dir, 'child.pid');
  // the shell starts a background sleeper holding stdout, then waits: both must die
  const prog = shScript(dir, 'slow.sh', `/bin/sleep 300 & echo $! > ${pidFile}; wait`);
  const cfg = defaultConfig((c) => { c.command.timeout = 1; }).command;
  const err = await runProgram({
    hook: 'external_auth', program: prog, settings: programSettings(cfg, prog, 'external_auth'), vars: {}, logger: new RecordingLogger(),
  }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof HookError);
  assert.equal(err.failure, 'timeout');
  assert.match(err.message, /external_auth_hook.*timeout/);
  assert.ok(existsSync(pidFile));
  const childPid = Number(readFileSync(pidFile, 'utf8').trim());
  // SIGKILL delivery is asynchronous: poll, bounded
  for (let i = 0; i < 200 && isAlive(childPid); i++) await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 50 && isAlive(childPid); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(isAlive(childPid), false, 'the grandchild was killed with the group');
});

test('a program that exits but leaves a child holding stdout times out, and the child is killed', async (t) => {
  const dir = tempDir(t);
  const pidFile = path.join(dir, 'left.pid');
  const prog = shScript(dir, 'leaves.sh', `/bin/sleep 300 & echo $! > ${pidFile}; exit 0`);
  const cfg = defaultConfig((c) => { c.command.timeout = 1; }).command;
  const err = await runProgram({
    hook: 'pre_login', program: prog, settings: programSettings(cfg, prog, 'pre_login'), vars: {}, logger: new RecordingLogger(),
  }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof HookError && err.failure === 'timeout', String(err));
  const childPid = Number(readFileSync(pidFile, 'utf8').trim());
  for (let i = 0; i < 200 && isAlive(childPid); i++) await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 50 && isAlive(childPid); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(isAlive(childPid), false);
});

test('non-zero exit, missing program, non-executable file and oversized output are HookErrors', async (t) => {
  const dir = tempDir(t);
  const cfg = defaultConfig().command;
  const run = (prog: string) => runProgram({
    hook: 'check_password', program: prog, settings: programSettings(cfg, prog, 'check_password'), vars: {}, logger: new RecordingLogger(),
  }).then(() => undefined, (e: unknown) => e as HookError);
  const exit3 = await run(shScript(dir, 'exit3.sh', 'echo \'{"status":1}\'; exit 3'));
  assert.equal(exit3?.failure, 'exit');
  assert.match(exit3?.message ?? '', /exited with status 3/);
  assert.equal((await run(path.join(dir, 'missing')))?.failure, 'spawn');
  const plain = shScript(dir, 'plain.sh', 'exit 0');
  (await import('node:fs')).chmodSync(plain, 0o644);
  assert.equal((await run(plain))?.failure, 'spawn');
  const big = await run(shScript(dir, 'big.sh', 'head -c 2000000 /dev/zero'));
  assert.equal(big?.failure, 'output-too-large');
});

test('stderr lines are logged as warnings with the hook sender, bounded', async (t) => {
  const dir = tempDir(t);
  const prog = shScript(dir, 'noisy.sh', 'echo "first problem" >&2; i=0; while [ $i -lt 300 ]; do echo "line $i" >&2; i=$((i+1)); done; echo ok');
  const logger = new RecordingLogger();
  const cfg = defaultConfig().command;
  const out = await runProgram({ hook: 'pre_login', program: prog, settings: programSettings(cfg, prog, 'pre_login'), vars: {}, logger });
  assert.equal(out.toString(), 'ok\n');
  const warns = logger.lines.filter((l) => l.sender === 'pre_login_hook' && l.level === 'warn');
  assert.equal(warns[0]?.message, 'first problem');
  assert.ok(warns.length <= 101, `at most 100 lines plus a note, got ${warns.length}`);
});
