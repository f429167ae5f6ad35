/**
 * READ replies read straight into SSH packets (src/sftpd/sftp/direct-data.ts)
 * as OpenSSH's sftp downloads them: byte-exact (SHA-256) with both AEAD
 * ciphers (the direct path taken), with aes128-ctr and an HMAC (never taken),
 * with compression asked for, with a rekey every MiB, with more READs
 * outstanding than the SSH window holds, and from an offset (reget); four
 * at once, the packets' memory reused from the pool.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { directDataCounters } from '../../../src/sftpd/sftp/direct-data';
import { replyBlocks } from '../../../src/sftpd/sftp/reply-blocks';
import type { TestSftpServer } from '../../support/server';
import type { TestKeyPair } from '../../support/sshkeys';
import { keyOpts, run, startOpenSshFixture } from './openssh';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('sftpd: READ replies read into SSH packets, as OpenSSH sftp downloads', () => {
  let srv: TestSftpServer;
  let key: TestKeyPair;
  let local: string;
  // not a multiple of any READ or packet size: the last READ is short
  const big = randomBytes(9 * 1024 * 1024 + 4321);

  before(async () => {
    ({ srv, key, local } = await startOpenSshFixture('dd'));
    await fsp.writeFile(path.join(srv.homeOf('dd'), 'big.bin'), big);
  });
  after(async () => { await srv?.stop(); });

  /** Downloads big.bin with `opts`; returns how the replies went (counter deltas). */
  async function get(name: string, opts: string[], cmd = 'get'): Promise<typeof directDataCounters> {
    const before = { ...directDataCounters };
    const dst = path.join(local, `${name}.bin`);
    const r = await run('sftp', ['-P', String(srv.port), ...keyOpts(key.privateKeyPath), ...opts, '-b', '-', 'dd@127.0.0.1'],
      { input: `${cmd} /big.bin ${dst}`, timeoutMs: 120_000 });
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    assert.equal(sha256(await fsp.readFile(dst)), sha256(big), `${name}: SHA-256 of the download`);
    return {
      direct: directDataCounters.direct - before.direct,
      partial: directDataCounters.partial - before.partial,
      copied: directDataCounters.copied - before.copied,
      waited: directDataCounters.waited - before.waited,
      waitTimeouts: directDataCounters.waitTimeouts - before.waitTimeouts,
    };
  }

  for (const cipher of ['aes128-gcm@openssh.com', 'chacha20-poly1305@openssh.com']) {
    test(`${cipher}: byte-exact, replies sent from the packets the file was read into`, async (t) => {
      const c = await get(cipher, ['-c', cipher]);
      t.diagnostic(JSON.stringify(c));
      assert.ok(c.direct > 0, `direct replies: ${JSON.stringify(c)}`);
    });
  }

  test('aes128-ctr with hmac-sha2-256: byte-exact, never the direct path', async () => {
    const c = await get('ctr', ['-c', 'aes128-ctr', '-o', 'MACs=hmac-sha2-256']);
    assert.deepEqual(c, { direct: 0, partial: 0, copied: 0, waited: 0, waitTimeouts: 0 });
  });

  test('Compression yes (the server negotiates none): byte-exact', async () => {
    await get('compressed', ['-c', 'aes128-gcm@openssh.com', '-o', 'Compression=yes']);
  });

  test('a rekey every MiB: byte-exact', async (t) => {
    const c = await get('rekey', ['-c', 'aes128-gcm@openssh.com', '-o', 'RekeyLimit=1M']);
    // replies made before a key exchange and sent after it go as copies (counted in copied)
    t.diagnostic(JSON.stringify(c));
    assert.ok(c.direct > 0);
  });

  test('more READs outstanding than the SSH window holds: byte-exact', async (t) => {
    const c = await get('window', ['-c', 'chacha20-poly1305@openssh.com', '-B', '261120', '-R', '128']);
    t.diagnostic(JSON.stringify(c));
  });

  test('four downloads at once: byte-exact, the packets cut from reused memory', async (t) => {
    const before = { ...replyBlocks.counters };
    const sentBefore = directDataCounters.direct + directDataCounters.partial;
    const ciphers = ['aes128-gcm@openssh.com', 'chacha20-poly1305@openssh.com', 'aes256-gcm@openssh.com', 'aes128-gcm@openssh.com'];
    await Promise.all(ciphers.map((c, i) => get(`parallel-${i}`, ['-c', c])));
    const direct = directDataCounters.direct + directDataCounters.partial - sentBefore;
    const made = replyBlocks.counters.made - before.made;
    const reused = replyBlocks.counters.reused - before.reused;
    t.diagnostic(JSON.stringify({ direct, made, reused, free: replyBlocks.freeBlocks }));
    assert.ok(direct > 100, `replies sent from packets: ${direct}`);
    assert.ok(reused > made, `memory reused (${reused}) more often than made (${made})`);
  });

  test('reget from the middle of the file: byte-exact', async () => {
    const dst = path.join(local, 'reget.bin');
    await fsp.writeFile(dst, big.subarray(0, 3 * 1024 * 1024 + 99));
    await get('reget', ['-c', 'aes128-gcm@openssh.com'], 'reget');
  });
});
