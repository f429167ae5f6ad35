import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startSftpServer, type TestSftpServer } from '../../support/server';
import { writeKeyPair, type TestKeyPair } from '../../support/sshkeys';
import { keyOpts, passwordAuth, run } from './openssh';

describe('sftpd: SSH commands and authentication with OpenSSH', () => {
  let srv: TestSftpServer;
  let key: TestKeyPair;
  const content = Buffer.from('hello sftpgo-ts\n'.repeat(1000));

  before(async () => {
    srv = await startSftpServer();
    key = await writeKeyPair(srv.configDir, 'user_key');
    await srv.createUser({ username: 'alice', password: 'alice-secret-pw', public_keys: [key.publicKey] });
    await fsp.mkdir(srv.homeOf('alice'), { recursive: true });
    await fsp.writeFile(path.join(srv.homeOf('alice'), 'file.txt'), content);
  });
  after(async () => { await srv?.stop(); });

  const ssh = (args: string[], opts: string[] = keyOpts(key.privateKeyPath), env?: NodeJS.ProcessEnv) =>
    run('ssh', ['-p', String(srv.port), ...opts, 'alice@127.0.0.1', ...args], { env });

  test('ident string, host key fingerprints and native crypto are reported', async () => {
    const line = await new Promise<string>((resolve, reject) => {
      const s = net.connect(srv.port, '127.0.0.1');
      let buf = '';
      s.on('data', (d) => {
        buf += d.toString('latin1');
        const i = buf.indexOf('\r\n');
        if (i >= 0) { s.destroy(); resolve(buf.slice(0, i)); }
      });
      s.on('error', reject);
    });
    assert.equal(line, 'SSH-2.0-SFTPGo_0.0.0-test');
    const log = await srv.readLog();
    const keys = log.filter((l) => l.sender === 'sftpd' && /host key (loaded|generated)/.test(String(l.message)));
    assert.equal(keys.length, 3);
    assert.ok(keys.every((l) => /fingerprint SHA256:[A-Za-z0-9+/]{43}$/.test(String(l.message))));
    assert.ok(log.some((l) => /native crypto binding "(available|unavailable)"/.test(String(l.message))));
  });

  test('md5sum / sha256sum / pwd / cd with a public key', async () => {
    const md5 = await ssh(['md5sum', '/file.txt']);
    assert.equal(md5.status, 0, md5.stderr);
    assert.equal(md5.stdout, `${createHash('md5').update(content).digest('hex')}  /file.txt\n`);
    const sha = await ssh(['sha256sum', 'file.txt']);
    assert.equal(sha.status, 0, sha.stderr);
    assert.equal(sha.stdout, `${createHash('sha256').update(content).digest('hex')}  /file.txt\n`);
    assert.deepEqual(await ssh(['pwd']), { status: 0, stdout: '/\n', stderr: '' });
    assert.equal((await ssh(['cd', '/anything'])).status, 0);
    const missing = await ssh(['md5sum', '/nope']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /md5sum: /);
  });

  test('unknown and disabled commands fail with exit status 1', async () => {
    const r = await ssh(['rm', '-rf', '/']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /"rm" is not supported or not enabled/);
    const d = await ssh(['sha512sum', '/file.txt']);
    assert.equal(d.status, 1, 'sha512sum is not in the default enabled list');
    const c = await ssh(['sftpgo-remove', '/file.txt']);
    assert.equal(c.status, 1);
    await fsp.access(path.join(srv.homeOf('alice'), 'file.txt'));
  });

  test('password authentication (SSH_ASKPASS) and keyboard-interactive', async () => {
    const pw = await passwordAuth(srv.configDir, 'alice-secret-pw');
    const r = await ssh(['pwd'], pw.opts, pw.env);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '/\n');
    const kb = await passwordAuth(srv.configDir, 'alice-secret-pw', 'keyboard-interactive');
    const k = await ssh(['pwd'], kb.opts, kb.env);
    assert.equal(k.status, 0, k.stderr);
    const log = await srv.readLog();
    assert.ok(log.some((l) => l.sender === 'login' && l.username === 'alice' && l.method === 'password' && l.protocol === 'SSH'));
    assert.ok(log.some((l) => l.sender === 'login' && l.username === 'alice' && l.method === 'keyboard-interactive'));
    assert.ok(log.some((l) => l.sender === 'login' && l.method === 'publickey'));
  });

  test('a wrong password is refused and logged as connection_failed', async () => {
    const pw = await passwordAuth(srv.configDir, 'not-the-password');
    const r = await ssh(['pwd'], pw.opts, pw.env);
    assert.equal(r.status, 255);
    const log = await srv.readLog();
    const failed = log.filter((l) => l.sender === 'connection_failed' && l.username === 'alice' && l.login_type === 'password');
    assert.ok(failed.length >= 1, JSON.stringify(log.filter((l) => l.sender === 'connection_failed')));
    assert.equal(failed[0]!.protocol, 'SSH');
    assert.equal(failed[0]!.client_ip, '127.0.0.1');
    assert.ok(!JSON.stringify(log).includes('not-the-password'), 'the password never reaches the log');
  });

  test('an unknown key is refused', async () => {
    const other = await writeKeyPair(srv.configDir, 'other_key', 'ecdsa');
    const r = await ssh(['pwd'], keyOpts(other.privateKeyPath));
    assert.equal(r.status, 255);
    assert.match(r.stderr, /Permission denied/);
  });
});
