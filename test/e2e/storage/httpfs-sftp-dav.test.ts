/**
 * Users whose home is on an HTTPFs service (test/support/httpfs-server.ts,
 * written from SFTPGo's openapi/httpfs.yaml, basic auth + API key): OpenSSH
 * sftp (mkdir, put, ls, get, rename, chmod, rm, rmdir; a resume refused) and
 * WebDAV with curl (MKCOL, PUT, PROPFIND, GET, MOVE, COPY, DELETE), every
 * file landing in the service's directory; an upload over quota leaves
 * nothing on the service. A service that is down: sftp,
 * WebDAV and FTP fail at once with a failure status and an httpfs log line
 * naming the cause, and the session stays usable.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Client } from 'basic-ftp';
import { freePort } from '../../support/net';
import { httpconfig, startHttpFsServer, type TestHttpFs } from '../../support/httpfs-server';
import { writeKeyPair, type TestKeyPair } from '../../support/sshkeys';
import { startCross, type CrossEnv } from '../crossproto/env';
import { davDriver } from '../crossproto/drivers';
import { keyOpts, run } from '../sftpd/openssh';

const plain = (payload: string): Record<string, string> => ({ status: 'Plain', payload });

describe('HTTPFs storage over SFTP and WebDAV', () => {
  let httpfs: TestHttpFs;
  let env: CrossEnv;
  let key: TestKeyPair;

  before(async () => {
    httpfs = await startHttpFsServer({ username: 'svc', password: 'svc-secret', apiKey: 'k-123' });
    env = await startCross();
    key = await writeKeyPair(env.base, 'k', 'ed25519');
    const cfg = httpconfig(httpfs, { username: 'svc', password: plain('svc-secret'), api_key: plain('k-123') });
    await env.addUser({ username: 'hu', password: 'hu-pass', public_keys: [key.publicKey], filesystem: { provider: 6, httpconfig: cfg } });
    await env.addUser({ username: 'tight', password: 'tight-pass', quota_size: 1000, filesystem: { provider: 6, httpconfig: cfg } });
    await env.addUser({
      username: 'down', password: 'down-pass', public_keys: [key.publicKey],
      filesystem: { provider: 6, httpconfig: { endpoint: `http://127.0.0.1:${await freePort()}/api/v1` } },
    });
  });
  after(async () => {
    await env?.close();
    await httpfs?.stop();
  });

  const sftpBatch = (user: string, batch: string) => run('sftp', ['-P', String(env.sftpPort), ...keyOpts(key.privateKeyPath), '-b', '-', `${user}@127.0.0.1`], { input: batch });

  test('OpenSSH sftp: mkdir, put, ls, get, rename, chmod, rm, rmdir on the service; a resume is refused', async () => {
    const local = path.join(env.base, 'local');
    await fsp.mkdir(local, { recursive: true });
    const data = randomBytes(3 * 1024 * 1024 + 77);
    await fsp.writeFile(path.join(local, 'up.bin'), data);
    const r = await sftpBatch('hu', [
      'mkdir /dir', `put ${path.join(local, 'up.bin')} /dir/up.bin`, 'ls -l /dir',
      `get /dir/up.bin ${path.join(local, 'back.bin')}`, 'rename /dir/up.bin /dir/moved.bin', 'chmod 600 /dir/moved.bin', 'ls /dir',
    ].join('\n'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /up\.bin/);
    assert.match(r.stdout, /moved\.bin/);
    assert.ok((await fsp.readFile(path.join(local, 'back.bin'))).equals(data));
    assert.ok((await fsp.readFile(path.join(httpfs.root, 'dir', 'moved.bin'))).equals(data));
    await assert.rejects(fsp.stat(path.join(httpfs.root, 'dir', 'up.bin')));
    assert.equal((await fsp.stat(path.join(httpfs.root, 'dir', 'moved.bin'))).mode & 0o777, 0o600);
    // nothing of the user's storage went to the local home
    assert.deepEqual(await fsp.readdir(env.homeOf('hu')), []);
    // reput continues an existing file: HTTPFs cannot resume (SFTPGo neither)
    await fsp.writeFile(path.join(local, 'longer.bin'), Buffer.concat([data, Buffer.from('more')]));
    const reput = await sftpBatch('hu', `reput ${path.join(local, 'longer.bin')} /dir/moved.bin`);
    assert.notEqual(reput.status, 0);
    assert.equal((await fsp.stat(path.join(httpfs.root, 'dir', 'moved.bin'))).size, data.length);
    const rm = await sftpBatch('hu', 'rm /dir/moved.bin\nrmdir /dir');
    assert.equal(rm.status, 0, rm.stderr);
    await assert.rejects(fsp.stat(path.join(httpfs.root, 'dir')));
    // the ended sessions closed their backends: no connection to the service is left open
    await httpfs.idle();
  });

  test('WebDAV: MKCOL, PUT, PROPFIND, GET, MOVE, COPY, DELETE on the service', async () => {
    const d = davDriver(env, 'hu', 'hu-pass');
    const text = randomBytes(700 * 1024).toString('base64');
    assert.equal((await d.mkdir('/docs')).ok, true);
    assert.equal((await d.upload('/docs/a.txt', Buffer.from(text))).ok, true);
    assert.equal((await d.upload('/docs/b.txt', Buffer.from('chunked body'), { chunked: true })).ok, true);
    const list = await d.list('/docs');
    assert.ok(list.ok && list.body.includes('a.txt') && list.body.includes('b.txt'), JSON.stringify(list).slice(0, 300));
    const back = await d.download('/docs/a.txt');
    assert.ok(back.ok && back.body === text, 'the file reads back');
    assert.equal((await d.rename('/docs/a.txt', '/moved.txt')).ok, true);
    assert.equal((await d.copy?.('/docs/b.txt', '/copy.txt'))?.ok, true);
    assert.equal(await fsp.readFile(path.join(httpfs.root, 'moved.txt'), 'utf8'), text);
    assert.equal(await fsp.readFile(path.join(httpfs.root, 'copy.txt'), 'utf8'), 'chunked body');
    assert.equal((await d.removeFile('/docs/b.txt')).ok, true);
    assert.equal((await d.removeDir('/docs')).ok, true);
    assert.deepEqual((await fsp.readdir(httpfs.root)).sort(), ['copy.txt', 'moved.txt']);
  });

  test('WebDAV: an upload over quota is refused (507) and what reached the service is removed', async () => {
    const d = davDriver(env, 'tight', 'tight-pass');
    const before = await fsp.readdir(httpfs.root);
    const r = await d.upload('/over.bin', Buffer.alloc(4 * 1024 * 1024, 1), { chunked: true });
    assert.deepEqual(r.ok ? 'success' : r.code, 507);
    assert.deepEqual(await fsp.readdir(httpfs.root), before, 'no partial file left on the service');
  });

  test('a service that is down: SFTP, WebDAV and FTP fail at once with a failure and a log line; nothing hangs', async () => {
    const local = path.join(env.base, 'down');
    await fsp.mkdir(local, { recursive: true });
    await fsp.writeFile(path.join(local, 'f.txt'), 'x');
    // -b stops at the first failing command: one command per run
    // (sftp's ls reports any failed glob as "not found": the status message shows on put)
    const ls = await sftpBatch('down', 'ls /');
    assert.notEqual(ls.status, 0);
    const put = await sftpBatch('down', `put ${path.join(local, 'f.txt')} /f.txt`);
    assert.notEqual(put.status, 0);
    assert.match(put.stderr, /Failure/);
    // "-" prefixed: failures are ignored, so the session going on after one is shown by the last command
    const session = await sftpBatch('down', `-ls /\n-get /x ${path.join(local, 'x')}\npwd`);
    assert.equal(session.status, 0, session.stderr);
    assert.match(session.stdout, /Remote working directory: \//);
    const dav = davDriver(env, 'down', 'down-pass');
    const propfind = await dav.list('/');
    // a service that cannot be reached is the storage being unavailable: 502, as for the object stores
    assert.ok(!propfind.ok && propfind.code === 502, JSON.stringify(propfind));
    const ftp = new Client(15_000);
    try {
      await ftp.access({ host: '127.0.0.1', port: env.ftpPort, user: 'down', password: 'down-pass' });
      await assert.rejects(ftp.list('/'), (e: unknown) => /^451/.test(String((e as { code?: number }).code)));
    } finally {
      ftp.close();
    }
    const lines = await env.logLines();
    assert.ok(lines.some((l) => l.sender === 'httpfs' && /ECONNREFUSED/.test(String(l.message))), 'an httpfs log line names the cause');
  });
});
