/** SFTP subsystem through the real service with the OpenSSH sftp client, plus the all-commands config. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startSftpServer, type TestSftpServer } from '../../support/server';
import { writeKeyPair, type TestKeyPair } from '../../support/sshkeys';
import { Client } from 'ssh2';
import { keyOpts, run } from './openssh';

describe('sftpd: sftp subsystem and extra SSH commands', () => {
  let srv: TestSftpServer;
  let key: TestKeyPair;

  before(async () => {
    srv = await startSftpServer({ driver: 'sqlite', configure: (c) => { c.sftpd.enabled_ssh_commands = ['*']; } });
    key = await writeKeyPair(srv.configDir, 'k', 'rsa');
    await srv.createUser({ username: 'dora', public_keys: [key.publicKey], max_sessions: 2 });
  });
  after(async () => { await srv?.stop(); });

  const ssh = (args: string[]) => run('ssh', ['-p', String(srv.port), ...keyOpts(key.privateKeyPath), 'dora@127.0.0.1', ...args]);
  const sftp = (batch: string) => run('sftp', ['-P', String(srv.port), ...keyOpts(key.privateKeyPath), '-b', '-', 'dora@127.0.0.1'], { input: batch });

  test('sftp -b: mkdir, put, ls, get, rename, rm', async () => {
    const local = path.join(srv.configDir, 'local');
    await fsp.mkdir(local, { recursive: true });
    const data = randomBytes(1024 * 1024 + 3);
    await fsp.writeFile(path.join(local, 'up.bin'), data);
    const r = await sftp([
      'mkdir /dir', `put ${path.join(local, 'up.bin')} /dir/up.bin`, 'ls -l /dir',
      `get /dir/up.bin ${path.join(local, 'back.bin')}`, 'rename /dir/up.bin /dir/moved.bin', 'ls /dir', 'pwd',
    ].join('\n'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /up\.bin/);
    assert.match(r.stdout, /moved\.bin/);
    assert.match(r.stdout, /Remote working directory: \//);
    assert.ok((await fsp.readFile(path.join(local, 'back.bin'))).equals(data));
    assert.ok((await fsp.readFile(path.join(srv.homeOf('dora'), 'dir', 'moved.bin'))).equals(data));
    const log = await srv.readLog();
    assert.ok(log.some((l) => l.sender === 'Upload' && l.protocol === 'SFTP' && l.virtual_path === '/dir/up.bin'));
  });

  test('sha512sum, sftpgo-copy and sftpgo-remove when enabled with "*"', async () => {
    const home = srv.homeOf('dora');
    await fsp.mkdir(path.join(home, 'src', 'inner'), { recursive: true });
    await fsp.writeFile(path.join(home, 'src', 'inner', 'f.txt'), 'copy me\n');
    const sum = await ssh(['sha512sum', '/src/inner/f.txt']);
    assert.equal(sum.status, 0, sum.stderr);
    assert.equal(sum.stdout, `${createHash('sha512').update('copy me\n').digest('hex')}  /src/inner/f.txt\n`);
    const cp = await ssh(['sftpgo-copy', '/src', '/dst']);
    assert.equal(cp.status, 0, cp.stderr);
    assert.equal(cp.stdout, 'OK\n');
    assert.equal(await fsp.readFile(path.join(home, 'dst', 'inner', 'f.txt'), 'utf8'), 'copy me\n');
    const into = await ssh(['sftpgo-copy', '/dst/inner/f.txt', '/dst']);
    assert.equal(into.status, 0, into.stderr);
    assert.equal(await fsp.readFile(path.join(home, 'dst', 'f.txt'), 'utf8'), 'copy me\n', 'copied inside the existing directory');
    const self = await ssh(['sftpgo-copy', '/dst', '/dst/inner']);
    assert.equal(self.status, 1, 'a directory cannot be copied inside itself');
    const rm = await ssh(['sftpgo-remove', '/src']);
    assert.equal(rm.status, 0, rm.stderr);
    await assert.rejects(fsp.access(path.join(home, 'src')));
    const root = await ssh(['sftpgo-remove', '/']);
    assert.equal(root.status, 1);
    await fsp.access(path.join(home, 'dst'));
    const log = await srv.readLog();
    assert.ok(log.some((l) => l.sender === 'SSHCommand' && l.ssh_command === 'sftpgo-remove /src' && l.protocol === 'SSH'));
  });

  test('max_sessions: a channel beyond the limit is refused', async () => {
    const c = new Client();
    await new Promise<void>((resolve, reject) => {
      c.on('ready', () => resolve());
      c.on('error', reject);
      c.connect({ host: '127.0.0.1', port: srv.port, username: 'dora', privateKey: key.privateKey });
    });
    try {
      const open = (): Promise<Error | undefined> => new Promise((resolve) => c.sftp((err) => resolve(err ?? undefined)));
      assert.equal(await open(), undefined);
      assert.equal(await open(), undefined);
      const third = await open();
      assert.ok(third, 'the third concurrent session exceeds max_sessions (2)');
      assert.equal(srv.ctx.connections.list().filter((x) => x.username === 'dora').length, 2);
    } finally {
      await new Promise<void>((resolve) => { c.once('close', () => resolve()); c.end(); });
    }
  });

  test('stop() closes the listener: new connections are refused', async () => {
    const s2 = await startSftpServer();
    const port = s2.port;
    assert.ok(port > 0);
    await s2.service.stop();
    assert.deepEqual(s2.service.addresses(), []);
    const refused = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.on('connect', () => { c.destroy(); resolve(false); });
      c.on('error', () => resolve(true));
    });
    assert.equal(refused, true);
    await s2.stop();
  });
});
