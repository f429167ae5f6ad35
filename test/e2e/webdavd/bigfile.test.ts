/**
 * A large PUT then GET through the in-process WebDAV service with a
 * generated body (no client-side file): the content must round-trip
 * (sha256) and the process RSS must stay bounded, i.e. both directions
 * stream with backpressure instead of buffering the file.
 * Size: SFTPGO_TEST_DAV_BIG_MIB (default 2048 = 2 GiB).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { Readable } from 'node:stream';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { startDav, type DavServer } from './harness';

const MIB = 1024 * 1024;
const SIZE_MIB = Number(process.env.SFTPGO_TEST_DAV_BIG_MIB ?? 2048);
const RSS_BOUND = 300 * MIB;
const AUTH = `Basic ${Buffer.from('big:big-pw').toString('base64')}`;

let srv: DavServer;
before(async () => {
  srv = await startDav();
  await srv.createUser({ username: 'big', password: 'big-pw' });
});
after(async () => { await srv.stop(); });

/** `mib` MiB of deterministic, non-repeating-per-chunk data, hashed as it is produced. */
function generated(mib: number, hash: ReturnType<typeof createHash>): Readable {
  const base = Buffer.alloc(MIB);
  for (let i = 0; i < MIB; i++) base[i] = (i * 31 + 7) & 0xff;
  let n = 0;
  return new Readable({
    read() {
      if (n === mib) {
        this.push(null);
        return;
      }
      const chunk = Buffer.from(base);
      chunk.writeUInt32BE(n++, 0); // each chunk differs
      hash.update(chunk);
      this.push(chunk);
    },
  });
}

/** Samples RSS growth over `baseline` until stopped; returns the maximum seen. */
function rssSampler(baseline: number): { stop(): number } {
  let max = 0;
  const sample = (): void => { max = Math.max(max, process.memoryUsage().rss - baseline); };
  const timer = setInterval(sample, 100);
  return { stop() { clearInterval(timer); sample(); return max; } };
}

test(`PUT and GET of ${SIZE_MIB} MiB stream in bounded memory`, { timeout: 600_000 }, async (t) => {
  global.gc?.();
  const baseline = process.memoryUsage().rss;
  const sampler = rssSampler(baseline);
  const started = Date.now();
  const sent = createHash('sha256');
  const status = await new Promise<number>((resolve, reject) => {
    const req = http.request(`${srv.url}/big.bin`, {
      method: 'PUT',
      headers: { Authorization: AUTH, 'Content-Length': String(SIZE_MIB * MIB) },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    generated(SIZE_MIB, sent).pipe(req);
  });
  const putMs = Date.now() - started;
  assert.equal(status, 201);
  assert.equal((await fsp.stat(path.join(srv.homeOf('big'), 'big.bin'))).size, SIZE_MIB * MIB);

  const got = createHash('sha256');
  let received = 0;
  const getStarted = Date.now();
  const getStatus = await new Promise<number>((resolve, reject) => {
    http.get(`${srv.url}/big.bin`, { headers: { Authorization: AUTH } }, (res) => {
      res.on('data', (c: Buffer) => {
        got.update(c);
        received += c.length;
      });
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    }).on('error', reject);
  });
  const getMs = Date.now() - getStarted;
  const growth = sampler.stop();
  t.diagnostic(`size ${SIZE_MIB} MiB: PUT ${putMs} ms, GET ${getMs} ms, max RSS growth ${(growth / MIB).toFixed(1)} MiB`);
  assert.equal(getStatus, 200);
  assert.equal(received, SIZE_MIB * MIB);
  assert.equal(got.digest('hex'), sent.digest('hex'));
  assert.ok(growth < RSS_BOUND, `RSS grew by ${(growth / MIB).toFixed(1)} MiB (bound ${RSS_BOUND / MIB} MiB)`);
});
