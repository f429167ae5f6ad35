/**
 * A 2 GiB upload through the web client's own upload UI in headless Chromium,
 * against the daemon started from the CLI (its own process, so its RSS is the
 * server's alone). The browser reaches the server through a loopback TCP relay;
 * at 50 % progress the relay resets every connection and stops listening (the
 * network is gone), the page's script sees the failure and retries, the relay
 * comes back on the same port, the page asks the server where the upload
 * stopped (tus HEAD) and goes on from that offset. The stored file is compared
 * with the source by SHA-256 and the server's RSS, sampled every 100 ms, must
 * stay near its baseline (nothing buffers the upload).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream, mkdirSync, openSync, closeSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { removeDaemonDir, startDaemon, stopDaemon, type Daemon } from '../../support/daemon';
import { TcpProxy } from '../../support/tcpproxy';
import { rssKiB, sampleRss } from '../../bench/util';

const SIZE = 2 * 1024 ** 3;
const CHUNK = 8 << 20;
/** the growth a streaming server may show; buffering a 2 GiB upload would be far beyond it */
const MAX_RSS_GROWTH_MIB = 256;

/** the part of the page's globals the progress predicate reads (the tests compile without the DOM types) */
interface PageGlobals { document: { querySelector(s: string): { getAttribute(name: string): string | null } | null } }

let d: Daemon;
let browser: Browser;
let proxy: TcpProxy;

/** Writes SIZE bytes of an AES-128-CTR keystream (fixed key: the same file every run) and returns its SHA-256. */
function writeDeterministic(file: string): string {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  const zeros = Buffer.alloc(CHUNK);
  const hash = createHash('sha256');
  const fd = openSync(file, 'w');
  try {
    for (let done = 0; done < SIZE; done += CHUNK) {
      const block = cipher.update(zeros);
      hash.update(block);
      writeSync(fd, block);
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(c as Buffer);
  return h.digest('hex');
}

before(async () => {
  d = await startDaemon({ env: { SFTPGO_LOG_LEVEL: 'info' } });
  proxy = new TcpProxy('127.0.0.1', d.httpPort);
  await proxy.up();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
});
after(async () => {
  await browser?.close().catch(() => undefined);
  await proxy?.down().catch(() => undefined);
  if (d) {
    await stopDaemon(d);
    removeDaemonDir(d);
  }
});

test('2 GiB through the page, network cut at 50 %, resumed from the server offset, same SHA-256, flat server RSS', async () => {
  const source = join(d.dir, 'source.bin');
  const expected = writeDeterministic(source);
  const home = join(d.dir, 'homes', 'big');
  mkdirSync(home, { recursive: true });
  const made = await d.api('POST', '/users', { status: 1, username: 'big', password: 'Big-pw-1', home_dir: home, permissions: { '/': ['*'] } });
  assert.equal(made.status, 201);

  const base = `http://127.0.0.1:${proxy.port}`;
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 800 } });
  try {
    const page = await ctx.newPage();
    await page.goto(`${base}/web/client/login`);
    await page.fill('#username', 'big');
    await page.fill('#password', 'Big-pw-1');
    await page.click('#login-form button[type=submit]');
    await page.waitForURL('**/web/client/files');

    const patchOffsets: number[] = [];
    page.on('request', (r) => {
      if (r.method() === 'PATCH') patchOffsets.push(Number(r.headers()['upload-offset']));
    });
    const pid = d.proc.pid ?? 0;
    const baseKiB = rssKiB([pid]);
    const peak = sampleRss(() => [pid]);

    // a local browser gets the path, not the bytes: the page reads the 2 GiB File in slices as a user's would
    await page.setInputFiles('#upload-input', source);
    // a function, not a string: the page's CSP (no unsafe-eval) refuses a string predicate
    await page.waitForFunction(() => Number((globalThis as unknown as PageGlobals).document.querySelector('li.upload')?.getAttribute('data-progress') ?? 0) >= 50,
      undefined, { timeout: 300_000 });
    await proxy.down();
    await page.waitForSelector('li.upload[data-retries]', { timeout: 60_000 });
    assert.notEqual(await page.getAttribute('li.upload', 'data-state'), 'done');
    const patchesBeforeCut = patchOffsets.length;
    await proxy.up();
    await page.waitForSelector('#upload-summary', { timeout: 480_000 });
    const peakKiB = peak();

    assert.equal(await page.getAttribute('li.upload', 'data-state'), 'done', await page.textContent('li.upload') ?? '');
    const resumedAt = patchOffsets.slice(patchesBeforeCut).find((o) => o > 0) ?? 0;
    assert.ok(resumedAt >= SIZE * 0.4 && resumedAt < SIZE, `resumed from the server's offset ${resumedAt}, not from the start`);
    assert.ok(patchOffsets.slice(patchesBeforeCut).every((o) => o > 0), 'no PATCH after the cut starts over at 0');
    const growthMiB = (peakKiB - baseKiB) / 1024;
    console.log(`server RSS: baseline ${(baseKiB / 1024).toFixed(0)} MiB, peak ${(peakKiB / 1024).toFixed(0)} MiB during the 2 GiB upload; resumed at byte ${resumedAt}`);
    assert.ok(growthMiB < MAX_RSS_GROWTH_MIB, `server RSS grew by ${growthMiB.toFixed(0)} MiB`);
    assert.equal(await sha256(join(home, 'source.bin')), expected, 'the stored file is the source, byte for byte');
  } finally {
    await ctx.close();
  }
});
