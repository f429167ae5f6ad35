import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { join } from 'node:path';
import { POOLED_MAX_BYTES, pooledRandomFill } from '../../../src/sftpd/ssh2-padding';

/** A fake CSPRNG writing 16-bit counters 0, 1, 2, ... across calls, so any byte pair handed out twice shows. */
function countingSource(): { fill: typeof randomFillSync; calls: unknown[][] } {
  let next = 0;
  const calls: unknown[][] = [];
  const fill = ((view: Uint8Array, offset?: number, size?: number) => {
    const buf = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
    calls.push([buf.length, offset, size]);
    const from = offset ?? 0;
    const to = size === undefined ? buf.length : from + size;
    for (let i = from; i + 1 < to; i += 2) buf.writeUInt16BE(next++ % 65536, i);
    return view;
  }) as typeof randomFillSync;
  return { fill, calls };
}

test('pooled fill: small requests come from the pool, every byte handed out once, refilled when used up', () => {
  const src = countingSource();
  const p = pooledRandomFill(src.fill, 1024);
  const words = new Set<number>();
  let handed = 0;
  for (let i = 0; i < 100; i++) {
    const size = 4 + 2 * (i % 7); // even sizes: the counters stay aligned
    const b = Buffer.alloc(size + 10, 0xee);
    assert.equal(p.fill(b, 6, size), b);
    assert.deepEqual([...b.subarray(0, 6)], Array(6).fill(0xee), 'nothing before the offset is touched');
    assert.deepEqual([...b.subarray(6 + size)], Array(4).fill(0xee), 'nothing after the range is touched');
    for (let o = 6; o < 6 + size; o += 2) words.add(b.readUInt16BE(o));
    handed += size / 2;
  }
  assert.equal(words.size, handed, 'no pool byte is handed out twice');
  assert.equal(src.calls.length, p.refills(), 'one source call per refill');
  assert.ok(src.calls.every((c) => c[0] === 1024 && c[1] === undefined), 'refills fill the whole pool');
  assert.equal(p.served(), 100);
  assert.ok(p.refills() <= Math.ceil((handed * 2) / (1024 - 16)) + 1, 'refills only when the pool is used up');
});

test('pooled fill: large, whole-buffer and out-of-range requests go to the source untouched', () => {
  const src = countingSource();
  const p = pooledRandomFill(src.fill, 1024);
  const big = Buffer.alloc(POOLED_MAX_BYTES + 1);
  p.fill(big, 0, POOLED_MAX_BYTES + 1);
  const whole = Buffer.alloc(16);
  p.fill(whole);
  const u8 = new Uint8Array(8);
  p.fill(u8, 0, 8);
  assert.throws(() => randomFillSync(Buffer.alloc(4), 2, 4), 'the real one refuses out-of-range');
  assert.throws(() => pooledRandomFill(randomFillSync).fill(Buffer.alloc(4), 2, 4), 'and so does the pooled one (passed through)');
  assert.deepEqual(src.calls, [[POOLED_MAX_BYTES + 1, 0, POOLED_MAX_BYTES + 1], [16, undefined, undefined], [8, 0, 8]]);
  assert.equal(p.served(), 0);
});

test('in a fresh process the daemon entry point gives ssh2 the pool, and only ssh2', () => {
  const dist = join(__dirname, '..', '..', '..');
  const script = `
    const crypto = require('node:crypto');
    const before = crypto.randomFillSync;
    const pad = require(${JSON.stringify(join(dist, 'src/sftpd/ssh2-padding.js'))});
    const { Server, Client, utils } = require('ssh2');
    const hostKey = utils.generateKeyPairSync('ed25519').private;
    const server = new Server({ hostKeys: [hostKey] }, (c) => {
      c.on('authentication', (ctx) => ctx.accept());
      c.on('ready', () => c.end());
      c.on('error', () => {});
    });
    server.listen(0, '127.0.0.1', () => {
      const client = new Client();
      client.on('ready', () => client.end());
      client.on('error', (e) => { console.log(JSON.stringify({ error: e.message })); process.exit(1); });
      client.on('close', () => {
        server.close();
        console.log(JSON.stringify({ state: pad.paddingPoolState, served: pad.ssh2PaddingPool.served(), restored: crypto.randomFillSync === before }));
      });
      client.connect({ host: '127.0.0.1', port: server.address().port, username: 'u', password: 'p' });
    });`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout.trim()) as { state: string; served: number; restored: boolean };
  assert.equal(res.state, 'applied');
  assert.ok(res.served > 5, `handshake and auth packets padded from the pool (${res.served})`);
  assert.equal(res.restored, true, 'crypto.randomFillSync is the original for everybody else');

  const late = spawnSync(process.execPath, ['-e', `require('ssh2'); console.log(require(${JSON.stringify(join(dist, 'src/sftpd/ssh2-padding.js'))}).paddingPoolState)`],
    { encoding: 'utf8', timeout: 60_000 });
  assert.equal(late.stdout.trim(), 'already-loaded');
});
