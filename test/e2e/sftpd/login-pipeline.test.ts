/**
 * The login sequence (common/login.ts) as SSH clients meet it: the order of
 * the checks, the perimeter told every outcome with its kind (unknown user,
 * wrong credentials, limit, no method tried), max_sessions refused before any
 * login line is written, a failing last_login update logged once as a warning
 * without failing the login, and a check added to a slot running in place.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'ssh2';
import { FsError } from '../../../src/common/errors';
import { loginService } from '../../../src/common/login';
import { openPerimeter, type LoginFailureKind, type Perimeter } from '../../../src/common/perimeter';
import { startSftpServer, type TestSftpServer } from '../../support/server';
import { writeKeyPair, type TestKeyPair } from '../../support/sshkeys';
import { keyOpts, passwordAuth, run } from './openssh';

interface Recorded { failed: LoginFailureKind[]; succeeded: number; attempts: number; delays: boolean[]; onFailed?: (k: LoginFailureKind) => void }

function recordingPerimeter(rec: Recorded, refuse: () => boolean): Perimeter {
  return {
    ...openPerimeter(),
    checkLoginAttempt: () => {
      rec.attempts++;
      if (refuse()) throw new FsError('PermissionDenied', 'login rate exceeded');
    },
    loginFailed: (_ip, _p, kind) => { rec.failed.push(kind); rec.onFailed?.(kind); },
    loginSucceeded: () => { rec.succeeded++; },
    loginDelayMs: (ok) => { rec.delays.push(ok); return 0; },
  };
}

describe('login sequence through SSH', () => {
  let srv: TestSftpServer;
  let key: TestKeyPair;
  let rec: Recorded;
  let refuseAttempts = false;

  /** one `ssh user@host pwd` (a key login without a password; sftp's batch mode would not ask for one) */
  const sshLogin = async (user: string, password?: string): Promise<{ status: number | null; stderr: string }> => {
    const auth = password === undefined ? { opts: keyOpts(key.privateKeyPath), env: process.env } : await passwordAuth(srv.configDir, password);
    return run('ssh', ['-p', String(srv.port), ...auth.opts, `${user}@127.0.0.1`, 'pwd'], { env: auth.env });
  };
  const loginLines = async (user: string) => (await srv.readLog()).filter((l) => l.sender === 'login' && l.username === user);

  before(async () => {
    srv = await startSftpServer();
    key = await writeKeyPair(srv.configDir, 'k', 'ecdsa');
    rec = { failed: [], succeeded: 0, attempts: 0, delays: [] };
    srv.ctx.perimeter = recordingPerimeter(rec, () => refuseAttempts);
    await srv.createUser({ username: 'alice', password: 'alice-pw', public_keys: [key.publicKey] });
    await srv.createUser({ username: 'single', public_keys: [key.publicKey], max_sessions: 1 });
  });
  after(async () => { await srv?.stop(); });
  beforeEach(() => { rec.failed = []; rec.succeeded = 0; rec.attempts = 0; rec.delays = []; refuseAttempts = false; });

  test('the checks run in SFTPGo\'s order', () => {
    assert.deepEqual(loginService(srv.ctx).checkNames(), [
      'perimeter:login-rate', 'lookup:provider', 'conditions:groups', 'conditions:account', 'passcode:totp-passcode', 'credentials:builtin',
      'second-factor:ssh-totp', 'user-rules:user-filters', 'session-limits:max-sessions', 'register:connection',
    ]);
  });

  test('outcomes reach the perimeter with their kind', async () => {
    const ok = await sshLogin('alice', 'alice-pw');
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(rec.succeeded, 1);
    assert.deepEqual(rec.delays, [true]);
    assert.notEqual((await sshLogin('alice', 'wrong')).status, 0);
    assert.ok(rec.failed.length > 0 && rec.failed.every((k) => k === 'valid_user'), rec.failed.join());
    rec.failed = [];
    assert.notEqual((await sshLogin('ghost', 'whatever')).status, 0);
    assert.ok(rec.failed.length > 0 && rec.failed.every((k) => k === 'invalid_user'), rec.failed.join());
  });

  test('a refused login attempt stops before the credentials (limit_exceeded)', async () => {
    refuseAttempts = true;
    assert.notEqual((await sshLogin('alice', 'alice-pw')).status, 0);
    assert.ok(rec.attempts > 0);
    assert.ok(rec.failed.every((k) => k === 'limit_exceeded') && rec.failed.length > 0);
    assert.equal(rec.succeeded, 0);
  });

  test('a client that tries no method is reported as no_auth', async () => {
    // the server sees the close after the client exits: wait for the report (bounded)
    const reported = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no_auth not reported within 20 s')), 20_000);
      rec.onFailed = (k) => { if (k === 'no_auth') { clearTimeout(t); resolve(); } };
    });
    const r = await run('ssh', ['-F', '/dev/null', '-p', String(srv.port), '-o', 'StrictHostKeyChecking=no',
      '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'PreferredAuthentications=none',
      'alice@127.0.0.1', 'true']);
    assert.notEqual(r.status, 0);
    await reported;
    rec.onFailed = undefined;
    const lines = await srv.readLog();
    assert.ok(lines.some((l) => l.sender === 'connection_failed' && l.login_type === 'no_auth_tried'));
  });

  test('max_sessions is refused before the login line is written', async () => {
    const holder = new Client();
    await new Promise<void>((resolve, reject) => {
      holder.on('error', reject);
      holder.on('ready', () => holder.sftp((err) => (err ? reject(err) : resolve())));
      holder.connect({ host: '127.0.0.1', port: srv.port, username: 'single', privateKey: key.privateKey });
    });
    try {
      assert.equal((await loginLines('single')).length, 1);
      const second = await sshLogin('single');
      assert.notEqual(second.status, 0, 'the second session must be refused');
      assert.equal((await loginLines('single')).length, 1, 'no login line for the refused login');
      assert.ok(rec.failed.includes('limit_exceeded'));
      const failed = (await srv.readLog()).filter((l) => l.sender === 'connection_failed' && l.username === 'single');
      assert.ok(failed.some((l) => /too many open sessions/.test(String(l.error))));
    } finally {
      holder.end();
    }
  });

  test('a failing last_login update is one warning and the login still works', async () => {
    const provider = srv.ctx.provider;
    const original = provider.updateLastLogin.bind(provider);
    provider.updateLastLogin = () => Promise.reject(new Error('database is locked'));
    try {
      assert.equal((await sshLogin('alice')).status, 0);
    } finally {
      provider.updateLastLogin = original;
    }
    const warns = (await srv.readLog()).filter((l) => l.level === 'warn' && /last login of user "alice": database is locked/.test(String(l.message)));
    assert.equal(warns.length, 1);
  });

  test('a check added to a slot runs in the sequence, observers see the outcome (the seams hooks use)', async () => {
    const seen: string[] = [];
    const outcomes: string[] = [];
    const service = loginService(srv.ctx);
    service.use('pre-login', { name: 'test-hook', run: (s) => { seen.push(`${s.req.protocol}:${s.req.username}`); } });
    service.onOutcome((s, r) => { outcomes.push(`${s.method}:${r.ok ? 'ok' : r.kind}`); });
    service.onOutcome(() => { throw new Error('observer bug'); });
    assert.equal((await sshLogin('alice')).status, 0);
    assert.deepEqual(seen, ['SSH:alice']);
    assert.deepEqual(outcomes, ['publickey:ok']);
  });
});
