/**
 * A resumable browser-style upload of RESUMABLE_GIB GiB (default 2) through
 * /web/client/tus on our server started from the CLI: the first PATCH is cut
 * at half, the upload resumes from HEAD's Upload-Offset, the result is
 * compared by SHA-256, and the server's peak RSS is sampled from /proc (flat
 * memory: the peak stays near the idle baseline whatever the size).
 * Run: npm run build && node dist/test/bench/resumable.js
 */
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, createReadStream, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_FLAGS } from '../../src/cmd/node-flags';
import { freePort, waitForPort } from '../support/net';
import { Browser } from '../e2e/webclient/httpclient';
import { installSignalCleanup, killAll, onCleanup, rssKiB, sampleRss, track } from './util';

const GIB = Number(process.env.RESUMABLE_GIB ?? '2');
const SIZE = Math.round(GIB * 1024 ** 3);

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(c as Buffer);
  return h.digest('hex');
}

function patch(base: string, url: string, headers: Record<string, string>, file: string, start: number, cutAfter?: number): Promise<number> {
  return new Promise((resolve) => {
    const u = new URL(base + url);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'PATCH', headers: {
      ...headers, 'content-type': 'application/offset+octet-stream', 'upload-offset': String(start), 'content-length': String(SIZE - start),
    } });
    let sent = 0;
    req.on('error', () => undefined);
    req.on('response', (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
    req.on('close', () => resolve(0));
    const src = createReadStream(file, { start, highWaterMark: 1 << 20 });
    src.on('data', (c) => {
      sent += (c as Buffer).length;
      if (cutAfter !== undefined && sent >= cutAfter) { src.destroy(); req.destroy(); return; }
      if (!req.write(c)) { src.pause(); req.once('drain', () => src.resume()); }
    });
    src.on('end', () => req.end());
  });
}

async function main(): Promise<void> {
  installSignalCleanup();
  const dir = mkdtempSync(join(tmpdir(), 'resumable-bench-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const src = join(dir, 'source.bin');
  const fd = openSync(src, 'w');
  const block = Buffer.alloc(1 << 20);
  for (let done = 0; done < SIZE; done += block.length) {
    randomFillSync(block);
    writeSync(fd, block, 0, Math.min(block.length, SIZE - done));
  }
  closeSync(fd);
  const port = await freePort();
  const configDir = join(dir, 'cfg');
  mkdirSync(configDir);
  const proc = track(process.execPath, [...NODE_FLAGS, join(__dirname, '..', '..', 'src', 'cmd', 'main.js'), 'serve', '--config-dir', configDir, '--log-file-path', join(dir, 'sftpgo.log')], {
    env: {
      ...process.env, SFTPGO_HTTPD__BINDINGS__0__PORT: String(port), SFTPGO_HTTPD__BINDINGS__0__ADDRESS: '127.0.0.1',
      SFTPGO_SFTPD__BINDINGS__0__PORT: '0', SFTPGO_FTPD__BINDINGS__0__PORT: '0', SFTPGO_WEBDAVD__BINDINGS__0__PORT: '0',
      SFTPGO_DATA_PROVIDER__CREATE_DEFAULT_ADMIN: 'true', SFTPGO_DEFAULT_ADMIN_USERNAME: 'admin', SFTPGO_DEFAULT_ADMIN_PASSWORD: 'bench-admin-pw',
      SFTPGO_COMMON__UPLOAD_MODE: '1', SFTPGO_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(port);
  const base = `http://127.0.0.1:${port}`;
  const tok = (await (await fetch(`${base}/api/v2/token`, { headers: { authorization: `Basic ${Buffer.from('admin:bench-admin-pw').toString('base64')}` } })).json()) as { access_token: string };
  const home = join(dir, 'home');
  const made = await fetch(`${base}/api/v2/users`, { method: 'POST', headers: { authorization: `Bearer ${tok.access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ status: 1, username: 'bench', password: 'bench-Pw-1', home_dir: home, permissions: { '/': ['*'] } }) });
  if (made.status !== 201) throw new Error(`user: ${made.status}`);
  const b = new Browser(base);
  if ((await b.login('bench', 'bench-Pw-1')) !== 303) throw new Error('login failed');
  const csrf = b.csrf((await b.req('GET', '/web/client/files')).text);
  const headers = { 'tus-resumable': '1.0.0', 'x-csrf-token': csrf, cookie: [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
  const created = await fetch(`${base}/web/client/tus`, { method: 'POST', headers: { ...headers, 'upload-length': String(SIZE), 'upload-metadata': `filename ${Buffer.from('big.bin').toString('base64')}` } });
  const url = created.headers.get('location') ?? '';
  const pids = (): number[] => [proc.pid ?? 0];
  const baseKiB = rssKiB(pids());
  const peak = sampleRss(pids);
  const t0 = Date.now();
  await patch(base, url, headers, src, 0, SIZE / 2);
  let offset = 0;
  for (let i = 0; i < 100_000; i++) {
    const r = await fetch(base + url, { method: 'PATCH', headers: { ...headers, 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' }, body: Buffer.alloc(0) });
    const text = await r.text();
    offset = Number((await fetch(base + url, { method: 'HEAD', headers })).headers.get('upload-offset'));
    if (r.status === 409 && text.includes('offset mismatch')) break;
  }
  const t1 = Date.now();
  const status = await patch(base, url, headers, src, offset);
  const t2 = Date.now();
  const peakKiB = peak();
  const same = (await sha256(src)) === (await sha256(join(home, 'big.bin')));
  console.log(JSON.stringify({
    size_bytes: SIZE, interrupted_at: offset, first_part_s: (t1 - t0) / 1000, resume_status: status, resumed_s: (t2 - t1) / 1000,
    mb_per_s: Math.round((SIZE / 1e6) / ((t2 - t0) / 1000)), sha256_equal: same, server_rss_base_mib: Math.round(baseKiB / 1024), server_rss_peak_mib: Math.round(peakKiB / 1024),
  }));
  killAll();
  if (!same || status !== 204) process.exitCode = 1;
}

main().catch((e: unknown) => { console.error(e); killAll(); process.exit(1); });
