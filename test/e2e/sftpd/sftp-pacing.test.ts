/**
 * Download pacing (src/sftpd/sftp/client-pacing.ts) with OpenSSH's sftp: on
 * loopback and through a relay adding 50 ms each way, byte-exact; on the long
 * link the limit stays well above what the rate achieved needs over that round
 * trip, so pacing is not what sets the rate there (on a quiet machine it grows
 * past the client's whole window: 69 MB; on a loaded one the client's rate,
 * not the limit, was the bound: 873 KB at 3.3 MB/s). A non-AEAD cipher (no
 * direct packets) and SCP go through ssh2's own writes, paced by
 * channel-pacing.ts: byte-exact (how many writes waited is printed; the
 * limits are unit-tested on a simulated client,
 * test/unit/sftpd/channel-pacing.test.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { pacingRecord } from '../../../src/sftpd/sftp/client-pacing';
import { directDataCounters } from '../../../src/sftpd/sftp/direct-data';
import { pacingCounters } from '../../../src/sftpd/channel-pacing';
import { startDelayProxy, type DelayProxy } from '../../support/delay-proxy';
import type { TestSftpServer } from '../../support/server';
import type { TestKeyPair } from '../../support/sshkeys';
import { keyOpts, run, startOpenSshFixture } from './openssh';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const ONE_WAY_MS = 50;

describe('sftpd: download pacing, as OpenSSH sftp downloads', () => {
  let srv: TestSftpServer;
  let key: TestKeyPair;
  let proxy: DelayProxy;
  let local: string;
  const data = randomBytes(12 * 1024 * 1024 + 777);

  before(async () => {
    ({ srv, key, local } = await startOpenSshFixture('pace'));
    await fsp.writeFile(path.join(srv.homeOf('pace'), 'data.bin'), data);
    proxy = await startDelayProxy(srv.port, ONE_WAY_MS);
  });
  after(async () => {
    await proxy?.close();
    await srv?.stop();
  });

  async function get(name: string, port: number, cipher = ['-c', 'aes128-gcm@openssh.com']): Promise<void> {
    const dst = path.join(local, `${name}.bin`);
    const r = await run('sftp', ['-P', String(port), ...keyOpts(key.privateKeyPath), ...cipher, '-b', '-', 'pace@127.0.0.1'],
      { input: `get /data.bin ${dst}`, timeoutMs: 120_000 });
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    assert.equal(sha256(await fsp.readFile(dst)), sha256(data), `${name}: SHA-256 of the download`);
  }

  test('loopback: byte-exact, replies sent whole', async (t) => {
    const before = { ...directDataCounters };
    const paced = pacingCounters.plainPacedChannels;
    await get('loopback', srv.port);
    assert.equal(pacingCounters.plainPacedChannels, paced, 'replies in packets: the channel\'s plain writes left unpaced');
    t.diagnostic(JSON.stringify({ ...pacingRecord, waited: directDataCounters.waited - before.waited }));
    assert.ok(directDataCounters.direct > before.direct);
  });

  test('100 ms round trip: byte-exact, the limit well above what the rate achieved needs', async (t) => {
    pacingRecord.largestCap = 0;
    pacingRecord.largestInFlight = 0;
    const started = performance.now();
    await get('long-link', proxy.port);
    // bytes per ms over the whole session (its set-up round trips included: a lower bound of the transfer's rate)
    const rate = data.length / (performance.now() - started);
    const needed = rate * 2 * ONE_WAY_MS;
    t.diagnostic(JSON.stringify({ ...pacingRecord, rate, needed }));
    // limited by pacing, the rate would be about limit / round trip: the limit then about what it needs
    assert.ok(pacingRecord.largestCap >= 1.5 * needed, `limit ${pacingRecord.largestCap} for ${needed} in flight at ${rate} B/ms`);
  });

  test('a non-AEAD cipher (plain writes, paced): byte-exact', async (t) => {
    const before = { ...directDataCounters };
    const waits = pacingCounters.plainWaits;
    const paced = pacingCounters.plainPacedChannels;
    await get('ctr', srv.port, ['-c', 'aes128-ctr', '-o', 'MACs=hmac-sha2-256-etm@openssh.com']);
    t.diagnostic(JSON.stringify({ plainWaits: pacingCounters.plainWaits - waits }));
    assert.equal(pacingCounters.plainPacedChannels, paced + 1, 'the SFTP channel\'s plain writes paced from its first data reply');
    assert.equal(directDataCounters.direct, before.direct, 'no direct packets with this cipher');
  });

  test('scp download (plain writes, paced): byte-exact', async (t) => {
    const waits = pacingCounters.plainWaits;
    const paced = pacingCounters.plainPacedChannels;
    const dst = path.join(local, 'scp.bin');
    const r = await run('scp', ['-P', String(srv.port), ...keyOpts(key.privateKeyPath), '-O', 'pace@127.0.0.1:/data.bin', dst], { timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(sha256(await fsp.readFile(dst)), sha256(data), 'SHA-256 of the scp download');
    t.diagnostic(JSON.stringify({ plainWaits: pacingCounters.plainWaits - waits }));
    assert.equal(pacingCounters.plainPacedChannels, paced + 1, 'the SCP channel paced');
  });
});
