/** A binding whose address is an absolute path listens on a Unix domain socket (SFTPGo does the same). */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type TestServer } from './support';

let sockDir: string;
let s: TestServer;
before(async () => {
  // short path: Unix socket paths are limited to ~100 bytes
  sockDir = await mkdtemp(join(tmpdir(), 'hs-'));
  s = await startServer({ binding: { address: join(sockDir, 'httpd.sock'), port: 0 } });
});
after(async () => {
  await s.close();
  await rm(sockDir, { recursive: true, force: true });
});

test('healthz over a Unix socket', async () => {
  const addr = s.svc.addresses()[0];
  assert.equal(addr.address, join(sockDir, 'httpd.sock'));
  const body = await new Promise<string>((resolve, reject) => {
    const req = request({ socketPath: addr.address, path: '/healthz' }, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { b += c; });
      res.on('end', () => resolve(`${res.statusCode} ${b}`));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(body, '200 ok');
});
