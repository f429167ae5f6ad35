/** Authentication edge cases driven by the ssh2 client, where a misbehaving client can be scripted. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, utils } from 'ssh2';
import type { AuthenticationType, ConnectConfig, ParsedKey } from 'ssh2';
import { startSftpServer, type TestSftpServer } from '../../support/server';
import { generateSshKeyPairSync } from '../../../src/util/sshkeygen';

interface Outcome { ok: boolean; error?: string; client: Client }

/** Connects and resolves once the client is ready or definitively failed. */
function connect(port: number, cfg: Partial<ConnectConfig>): Promise<Outcome> {
  return new Promise((resolve) => {
    const client = new Client();
    let done = false;
    const finish = (o: Omit<Outcome, 'client'>): void => { if (!done) { done = true; resolve({ ...o, client }); } };
    client.on('ready', () => finish({ ok: true }));
    client.on('error', (e) => finish({ ok: false, error: e.message }));
    client.on('close', () => finish({ ok: false, error: 'closed' }));
    client.connect({ host: '127.0.0.1', port, readyTimeout: 30_000, ...cfg });
  });
}

function closeClient(c: Client): Promise<void> {
  return new Promise((resolve) => {
    c.once('close', () => resolve());
    c.end();
  });
}

describe('sftpd: authentication security', () => {
  let srv: TestSftpServer;
  const userKey = generateSshKeyPairSync('ed25519');
  const rsaKey = generateSshKeyPairSync('rsa', { bits: 2048 });
  const ecKey = generateSshKeyPairSync('ecdsa', { bits: 256 });
  const attackerKey = generateSshKeyPairSync('ed25519');

  before(async () => {
    srv = await startSftpServer({ configure: (c) => { c.sftpd.max_auth_tries = 3; } });
    await srv.createUser({ username: 'bob', password: 'bob-password-1', public_keys: [userKey.public, rsaKey.public, ecKey.public] });
    await srv.createUser({ username: 'disabled', status: 0, password: 'disabled-password-1', public_keys: [userKey.public] });
  });
  after(async () => { await srv?.stop(); });

  test('a valid public key with a forged signature is refused', async () => {
    const key = utils.parseKey(userKey.private) as ParsedKey;
    const attacker = utils.parseKey(attackerKey.private) as ParsedKey;
    let signs = 0;
    // the client offers bob's public key but signs with another private key
    const forged = Object.assign(Object.create(Object.getPrototypeOf(key) as object) as ParsedKey, key, {
      sign: (data: Buffer, algo?: string) => { signs++; return attacker.sign(data, algo); },
    });
    const r = await connect(srv.port, {
      username: 'bob',
      authHandler: (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, next: (a: unknown) => void) => {
        if (signs > 0 || (methodsLeft && !methodsLeft.includes('publickey'))) { next(false); return; }
        next({ type: 'publickey', username: 'bob', key: forged });
      },
    } as unknown as Partial<ConnectConfig>);
    assert.equal(r.ok, false);
    assert.equal(signs, 1, 'the server answered the key query (PK_OK) and the client had to sign');
    const log = await srv.readLog();
    assert.ok(log.some((l) => l.sender === 'connection_failed' && l.username === 'bob' && l.login_type === 'publickey'
      && /invalid public key signature/.test(String(l.error))), 'the forgery is logged');
    assert.ok(!log.some((l) => l.sender === 'login' && l.username === 'bob'));
  });

  test('RSA, ECDSA and Ed25519 keys of the same user all log in', async () => {
    for (const k of [userKey, rsaKey, ecKey]) {
      const r = await connect(srv.port, { username: 'bob', privateKey: k.private });
      assert.equal(r.ok, true, r.error);
      await closeClient(r.client);
    }
  });

  test('max_auth_tries: the server disconnects after the configured number of failures', async () => {
    const failedBefore = (await srv.readLog()).filter((l) => l.sender === 'connection_failed' && l.username === 'bob').length;
    let attempts = 0;
    const r = await connect(srv.port, {
      username: 'bob',
      authHandler: (_m: unknown, _p: unknown, next: (a: unknown) => void) => {
        attempts++;
        // far more than allowed: only the server's limit can stop this loop early
        if (attempts > 20) { next(false); return; }
        next({ type: 'password', username: 'bob', password: `wrong-${attempts}` });
      },
    } as unknown as Partial<ConnectConfig>);
    assert.equal(r.ok, false);
    // the client may fire one more attempt before the disconnect reaches it; the server ignores it
    assert.ok(attempts >= 3 && attempts <= 4, `attempts ${attempts}`);
    const log = await srv.readLog();
    const failed = log.filter((l) => l.sender === 'connection_failed' && l.username === 'bob').length - failedBefore;
    assert.equal(failed, 3, 'exactly max_auth_tries (3) failures were processed');
    assert.ok(log.some((l) => /too many authentication failures \(3\)/.test(String(l.message))));
  });

  test('a disabled user is refused even with valid credentials', async () => {
    const byKey = await connect(srv.port, { username: 'disabled', privateKey: userKey.private });
    assert.equal(byKey.ok, false);
    const byPw = await connect(srv.port, { username: 'disabled', password: 'disabled-password-1' });
    assert.equal(byPw.ok, false);
    const log = await srv.readLog();
    assert.ok(log.some((l) => l.sender === 'connection_failed' && l.username === 'disabled'));
  });

  test('shell, pty and port forwarding are refused; the connection stays usable', async () => {
    const r = await connect(srv.port, { username: 'bob', password: 'bob-password-1' });
    assert.equal(r.ok, true, r.error);
    const c = r.client;
    const shellErr = await new Promise<Error | undefined>((resolve) => c.shell(false, (err) => resolve(err ?? undefined)));
    assert.ok(shellErr, 'shell refused');
    const ptyErr = await new Promise<Error | undefined>((resolve) => c.shell({ term: 'xterm' }, (err) => resolve(err ?? undefined)));
    assert.ok(ptyErr, 'pty + shell refused');
    const fwdErr = await new Promise<Error | undefined>((resolve) => c.forwardOut('127.0.0.1', 1, '127.0.0.1', srv.port, (err) => resolve(err ?? undefined)));
    assert.ok(fwdErr, 'direct-tcpip refused');
    const remoteErr = await new Promise<Error | undefined>((resolve) => c.forwardIn('127.0.0.1', 0, (err) => resolve(err ?? undefined)));
    assert.ok(remoteErr, 'tcpip-forward refused');
    const subErr = await new Promise<Error | undefined>((resolve) => c.subsys('netconf', (err) => resolve(err ?? undefined)));
    assert.ok(subErr, 'unknown subsystem refused');
    const out = await new Promise<string>((resolve, reject) => c.exec('pwd', (err, ch) => {
      if (err) { reject(err); return; }
      let s = '';
      ch.on('data', (d: Buffer) => { s += d.toString(); });
      ch.on('close', () => resolve(s));
    }));
    assert.equal(out, '/\n');
    await closeClient(c);
  });

  test('password_authentication false refuses passwords but not keys', async () => {
    const s2 = await startSftpServer({ configure: (c) => { c.sftpd.password_authentication = false; c.sftpd.keyboard_interactive_authentication = false; } });
    try {
      await s2.createUser({ username: 'carol', password: 'carol-password-1', public_keys: [userKey.public] });
      const pw = await connect(s2.port, { username: 'carol', password: 'carol-password-1' });
      assert.equal(pw.ok, false);
      const key = await connect(s2.port, { username: 'carol', privateKey: userKey.private });
      assert.equal(key.ok, true, key.error);
      await closeClient(key.client);
    } finally {
      await s2.stop();
    }
  });

  test('an unknown algorithm name is a startup error naming it', async () => {
    await assert.rejects(startSftpServer({ configure: (c) => { c.sftpd.ciphers = ['aes128-ctr', 'bogus-cipher']; } }), /bogus-cipher/);
    await assert.rejects(startSftpServer({ configure: (c) => { c.sftpd.kex_algorithms = ['bogus-kex']; } }), /kex_algorithms.*bogus-kex/);
  });

  test('max_total_connections: extra sockets are dropped before the SSH handshake', async () => {
    const s2 = await startSftpServer({ configure: (c) => { c.common.max_total_connections = 1; } });
    try {
      await s2.createUser({ username: 'erin', password: 'erin-password-1' });
      const first = await connect(s2.port, { username: 'erin', password: 'erin-password-1' });
      assert.equal(first.ok, true, first.error);
      const second = await connect(s2.port, { username: 'erin', password: 'erin-password-1' });
      assert.equal(second.ok, false);
      await closeClient(first.client);
    } finally {
      await s2.stop();
    }
  });

  test('a client that never authenticates is counted as no_auth_tried', async () => {
    const r = await connect(srv.port, {
      username: 'bob',
      authHandler: (_m: unknown, _p: unknown, next: (a: unknown) => void) => next(false),
    } as unknown as Partial<ConnectConfig>);
    assert.equal(r.ok, false);
    // the server logs when its side of the connection closes
    const deadline = Date.now() + 10_000;
    let found = false;
    for (let i = 0; i < 200 && !found && Date.now() < deadline; i++) {
      found = (await srv.readLog()).some((l) => l.sender === 'connection_failed' && l.login_type === 'no_auth_tried');
      if (!found) await new Promise<void>((res) => setImmediate(res));
    }
    assert.ok(found);
    assert.match(await srv.ctx.metrics.render(), /sftpgo_no_auth_total [1-9]/);
  });
});
