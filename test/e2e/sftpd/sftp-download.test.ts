/**
 * SFTP downloads from the local disk as clients make them:
 * OpenSSH sftp with other request counts, buffer sizes and a client bandwidth limit, reget,
 * the server's bandwidth and data-transfer limits, and a file that grows or is truncated while
 * a client (ssh2, one READ at a time so the change lands between known READs) reads it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Client, type SFTPWrapper } from 'ssh2';
import { startSftpServer, type TestSftpServer } from '../../support/server';
import { writeKeyPair, type TestKeyPair } from '../../support/sshkeys';
import { keyOpts, run } from './openssh';

const CHUNK = 64 * 1024;

describe('sftpd: downloads with OpenSSH and ssh2 clients', () => {
  let srv: TestSftpServer;
  let key: TestKeyPair;
  let local: string;
  const big = randomBytes(6 * 1024 * 1024 + 12_345);

  before(async () => {
    srv = await startSftpServer({ driver: 'sqlite' });
    key = await writeKeyPair(srv.configDir, 'k', 'ed25519');
    await srv.createUser({ username: 'dl', public_keys: [key.publicKey] });
    await srv.createUser({ username: 'slow', public_keys: [key.publicKey], download_bandwidth: 2048 });
    await srv.createUser({ username: 'capped', public_keys: [key.publicKey], download_data_transfer: 1 });
    for (const u of ['dl', 'slow', 'capped']) {
      await fsp.mkdir(srv.homeOf(u), { recursive: true });
      await fsp.writeFile(path.join(srv.homeOf(u), 'big.bin'), big);
    }
    local = path.join(srv.configDir, 'local');
    await fsp.mkdir(local, { recursive: true });
  });
  after(async () => { await srv?.stop(); });

  const sftp = (user: string, batch: string, extra: string[] = []) =>
    run('sftp', ['-P', String(srv.port), ...keyOpts(key.privateKeyPath), ...extra, '-b', '-', `${user}@127.0.0.1`], { input: batch });

  test('OpenSSH get with other request counts, buffer sizes and a client bandwidth limit', async () => {
    const variants: string[][] = [[], ['-R', '1'], ['-R', '4', '-B', '32768'], ['-B', '262144', '-R', '128'], ['-l', '80000']];
    for (const [i, extra] of variants.entries()) {
      const dst = path.join(local, `get-${i}.bin`);
      const r = await sftp('dl', `get /big.bin ${dst}`, extra);
      assert.equal(r.status, 0, `${extra.join(' ')}: ${r.stderr}`);
      assert.ok((await fsp.readFile(dst)).equals(big), `content with ${extra.join(' ') || 'defaults'}`);
    }
  });

  test('reget resumes from the size of the local file', async () => {
    const dst = path.join(local, 'partial.bin');
    await fsp.writeFile(dst, big.subarray(0, 2 * 1024 * 1024 + 77));
    const r = await sftp('dl', `reget /big.bin ${dst}`);
    assert.equal(r.status, 0, r.stderr);
    assert.ok((await fsp.readFile(dst)).equals(big));
  });

  test('the server bandwidth limit and the data-transfer quota stay exact', async () => {
    const dst = path.join(local, 'slow.bin');
    const started = Date.now();
    const r = await sftp('slow', `get /big.bin ${dst}`);
    assert.equal(r.status, 0, r.stderr);
    assert.ok((await fsp.readFile(dst)).equals(big));
    // 6 MiB at 2 MiB/s: even after a first second of burst, two more seconds
    assert.ok(Date.now() - started >= 1000, `throttled: ${Date.now() - started} ms`);
    const capped = await sftp('capped', `get /big.bin ${path.join(local, 'capped.bin')}`);
    assert.notEqual(capped.status, 0, 'the 1 MiB data-transfer quota ends the download');
    const log = await srv.readLog();
    const sent = log.filter((l) => l.sender === 'Download' && l.username === 'capped').map((l) => l.size_bytes);
    assert.deepEqual(sent, [1024 * 1024], 'exactly the quota was sent');
  });

  async function withSftp(fn: (s: SFTPWrapper) => Promise<void>): Promise<void> {
    const c = new Client();
    await new Promise<void>((resolve, reject) => {
      c.on('ready', () => resolve());
      c.on('error', reject);
      c.connect({ host: '127.0.0.1', port: srv.port, username: 'dl', privateKey: key.privateKey });
    });
    try {
      const s = await new Promise<SFTPWrapper>((resolve, reject) => c.sftp((err, w) => (err ? reject(err) : resolve(w))));
      await fn(s);
    } finally {
      await new Promise<void>((resolve) => { c.once('close', () => resolve()); c.end(); });
    }
  }

  /** Reads `file` CHUNK by CHUNK from 0; `between(i)` runs before the i-th READ. Returns every byte read. */
  async function readAll(s: SFTPWrapper, file: string, between: (i: number) => Promise<void>): Promise<Buffer> {
    const handle = await new Promise<Buffer>((resolve, reject) => s.open(file, 'r', (err, h) => (err ? reject(err) : resolve(h))));
    const parts: Buffer[] = [];
    let pos = 0;
    // bounded: the test files are at most a few MiB and each READ returns data or ends the loop
    for (let i = 0; i < 1000; i++) {
      await between(i);
      const buf = Buffer.alloc(CHUNK);
      const n = await new Promise<number>((resolve, reject) =>
        s.read(handle, buf, 0, CHUNK, pos, (err, bytes) => (err ? reject(err) : resolve(bytes))));
      if (n === 0) break;
      parts.push(buf.subarray(0, n));
      pos += n;
    }
    await new Promise<void>((resolve, reject) => s.close(handle, (err) => (err ? reject(err) : resolve())));
    return Buffer.concat(parts);
  }

  test('a file truncated while it is read: what follows the truncation is not sent', async () => {
    const file = path.join(srv.homeOf('dl'), 'shrinks.bin');
    const data = randomBytes(4 * 1024 * 1024);
    await fsp.writeFile(file, data);
    const cut = 5 * CHUNK + 1000;
    // truncated between two READs of a sequential download
    const got = await withRead('/shrinks.bin', async (i) => { if (i === 4) await fsp.truncate(file, cut); });
    assert.equal(got.length, cut);
    assert.ok(got.equals(data.subarray(0, cut)));
  });

  test('a file that grows while it is read: the new bytes are sent', async () => {
    const file = path.join(srv.homeOf('dl'), 'grows.bin');
    const first = randomBytes(1024 * 1024 + 5);
    const more = randomBytes(700 * 1024);
    await fsp.writeFile(file, first);
    const got = await withRead('/grows.bin', async (i) => { if (i === 3) await fsp.appendFile(file, more); });
    assert.ok(got.equals(Buffer.concat([first, more])));
  });

  async function withRead(file: string, between: (i: number) => Promise<void>): Promise<Buffer> {
    let out: Buffer = Buffer.alloc(0);
    await withSftp(async (s) => { out = await readAll(s, file, between); });
    return out;
  }
});
