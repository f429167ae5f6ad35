/**
 * SSH reads lent to ssh2 from one reused buffer (src/sftpd/ssh2-lent-reads.ts)
 * as OpenSSH's sftp uploads and downloads: byte-exact (SHA-256) with every
 * cipher family the server offers (AES-GCM, ChaCha20-Poly1305, AES-CTR with
 * an HMAC and with an encrypt-then-MAC one), with compression asked for,
 * with a rekey every MiB, with 32 KiB WRITEs, and over SCP (whose channel is
 * not a registered consumer: its data must arrive as copies).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { lentReadCounters } from '../../../src/sftpd/ssh2-lent-reads';
import type { TestSftpServer } from '../../support/server';
import type { TestKeyPair } from '../../support/sshkeys';
import { keyOpts, run, startOpenSshFixture } from './openssh';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('sftpd: reads lent from one buffer, as OpenSSH sftp uploads and downloads', () => {
  let srv: TestSftpServer;
  let key: TestKeyPair;
  let local: string;
  let src: string;
  // not a multiple of any WRITE, packet or read size
  const big = randomBytes(9 * 1024 * 1024 + 4321);

  before(async () => {
    ({ srv, key, local } = await startOpenSshFixture('lr'));
    src = path.join(local, 'big.bin');
    await fsp.writeFile(src, big);
  });
  after(async () => { await srv?.stop(); });

  /** Uploads big.bin as NAME.bin, downloads it back; both byte-exact. Returns the counter deltas. */
  async function roundTrip(name: string, opts: string[]): Promise<Record<string, number>> {
    const before = { ...lentReadCounters };
    const back = path.join(local, `${name}.back`);
    const r = await run('sftp', ['-P', String(srv.port), ...keyOpts(key.privateKeyPath), ...opts, '-b', '-', 'lr@127.0.0.1'],
      { input: `put ${src} /${name}.bin\nget /${name}.bin ${back}\n`, timeoutMs: 120_000 });
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    assert.equal(sha256(await fsp.readFile(path.join(srv.homeOf('lr'), `${name}.bin`))), sha256(big), `${name}: SHA-256 of the upload`);
    assert.equal(sha256(await fsp.readFile(back)), sha256(big), `${name}: SHA-256 of the download`);
    return Object.fromEntries(Object.entries(lentReadCounters).map(([k, v]) => [k, v - before[k as keyof typeof before]]));
  }

  const CASES: Array<[string, string[]]> = [
    ['aes128-gcm', ['-c', 'aes128-gcm@openssh.com']],
    ['aes256-gcm', ['-c', 'aes256-gcm@openssh.com']],
    ['chacha20', ['-c', 'chacha20-poly1305@openssh.com']],
    ['aes128-ctr-hmac', ['-c', 'aes128-ctr', '-o', 'MACs=hmac-sha2-256']],
    ['aes256-ctr-etm', ['-c', 'aes256-ctr', '-o', 'MACs=hmac-sha2-256-etm@openssh.com']],
  ];
  for (const [name, opts] of CASES) {
    test(`${name}: byte-exact both ways, the upload's reads lent`, async (t) => {
      const c = await roundTrip(name, opts);
      t.diagnostic(JSON.stringify(c));
      assert.ok(c.lentReads! > 0, `reads lent: ${JSON.stringify(c)}`);
    });
  }

  test('Compression yes (the server negotiates none): byte-exact', async () => {
    await roundTrip('compressed', ['-c', 'aes128-gcm@openssh.com', '-o', 'Compression=yes']);
  });

  test('a rekey every MiB: byte-exact, key exchange packets copied', async (t) => {
    const c = await roundTrip('rekey', ['-c', 'chacha20-poly1305@openssh.com', '-o', 'RekeyLimit=1M']);
    t.diagnostic(JSON.stringify(c));
    assert.ok(c.lentReads! > 0 && c.copiedPayloads! > 0);
  });

  test('32 KiB WRITEs (-B 32768), 128 outstanding: byte-exact', async () => {
    await roundTrip('small-writes', ['-c', 'aes128-gcm@openssh.com', '-B', '32768', '-R', '128']);
  });

  test('scp upload (an unregistered channel): byte-exact, its data copied', async (t) => {
    const before = { ...lentReadCounters };
    const r = await run('scp', ['-O', '-P', String(srv.port), ...keyOpts(key.privateKeyPath), '-c', 'aes128-gcm@openssh.com', src, 'lr@127.0.0.1:/scp.bin'],
      { timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(sha256(await fsp.readFile(path.join(srv.homeOf('lr'), 'scp.bin'))), sha256(big));
    const copied = lentReadCounters.copiedChannelData - before.copiedChannelData;
    t.diagnostic(JSON.stringify({ lentReads: lentReadCounters.lentReads - before.lentReads, copied }));
    assert.ok(copied > 0, 'channel data for SCP copied');
  });
});
