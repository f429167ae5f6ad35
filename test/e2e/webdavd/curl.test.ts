import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDav, type DavServer } from './harness';

let srv: DavServer;

interface CurlResult { status: number; body: Buffer; headers: string }

function curl(args: string[], input?: Buffer): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    const child = execFile('curl', ['-s', '-D', '-', '--path-as-is', ...args], { encoding: 'buffer', maxBuffer: 64 << 20 }, (err, stdout) => {
      if (err && !stdout.length) return reject(err);
      const text = stdout.toString('latin1');
      // skip "100 Continue" blocks
      let rest = text;
      let headers = '';
      for (let i = 0; i < 5; i++) {
        const end = rest.indexOf('\r\n\r\n');
        headers = rest.slice(0, end);
        rest = rest.slice(end + 4);
        if (!/^HTTP\/\S+ 100/.test(headers)) break;
      }
      const status = Number(/^HTTP\/\S+ (\d+)/.exec(headers)?.[1] ?? 0);
      resolve({ status, headers, body: Buffer.from(rest, 'latin1') });
    });
    // curl may stop reading once the server has answered early (507): EPIPE must not crash the run
    child.stdin?.on('error', () => undefined);
    if (input) child.stdin?.end(input);
  });
}

const U = ['-u', 'alice:secret-pw'];

before(async () => {
  srv = await startDav();
  await srv.createUser({ username: 'alice', password: 'secret-pw' });
  await srv.createUser({ username: 'ro', password: 'ro-pw', permissions: { '/': ['list', 'download'] } });
  await srv.createUser({ username: 'small', password: 'small-pw', quota_size: 10 });
  await srv.createUser({ username: 'lister', password: 'lister-pw', permissions: { '/': ['list'] } });
});
after(async () => { await srv.stop(); });

test('PUT/GET with checksum, Range, HEAD', async () => {
  const data = randomBytes(100_000);
  const put = await curl([...U, '-T', '-', `${srv.url}/f.bin`], data);
  assert.equal(put.status, 201);
  const get = await curl([...U, `${srv.url}/f.bin`]);
  assert.equal(get.status, 200);
  assert.equal(createHash('sha256').update(get.body).digest('hex'), createHash('sha256').update(data).digest('hex'));
  const r = await curl([...U, '-H', 'Range: bytes=1000-1999', `${srv.url}/f.bin`]);
  assert.equal(r.status, 206);
  assert.match(r.headers, /Content-Range: bytes 1000-1999\/100000/i);
  assert.deepEqual(r.body, data.subarray(1000, 2000));
  const bad = await curl([...U, '-H', 'Range: bytes=200000-', `${srv.url}/f.bin`]);
  assert.equal(bad.status, 416);
  const head = await curl([...U, '-I', `${srv.url}/f.bin`]);
  assert.equal(head.status, 200);
  assert.match(head.headers, /Content-Length: 100000/i);
});

test('MKCOL, COPY, MOVE, PROPFIND, DELETE', async () => {
  assert.equal((await curl([...U, '-X', 'MKCOL', `${srv.url}/d`])).status, 201);
  assert.equal((await curl([...U, '-T', '-', `${srv.url}/d/a.txt`], Buffer.from('hello'))).status, 201);
  assert.equal((await curl([...U, '-X', 'COPY', '-H', `Destination: ${srv.url}/d2`, `${srv.url}/d`])).status, 201);
  assert.equal((await fsp.readFile(path.join(srv.homeOf('alice'), 'd2', 'a.txt'), 'utf8')), 'hello');
  const noOver = await curl([...U, '-X', 'MOVE', '-H', `Destination: ${srv.url}/d2`, '-H', 'Overwrite: F', `${srv.url}/d`]);
  assert.equal(noOver.status, 412);
  assert.equal((await curl([...U, '-X', 'MOVE', '-H', `Destination: ${srv.url}/d3`, `${srv.url}/d`])).status, 201);
  const pf = await curl([...U, '-X', 'PROPFIND', '-H', 'Depth: 1', `${srv.url}/d3`]);
  assert.equal(pf.status, 207);
  assert.match(pf.body.toString(), /a\.txt/);
  assert.equal((await curl([...U, '-X', 'PROPFIND', '-H', 'Depth: infinity', `${srv.url}/`])).status, 403);
  assert.ok([200, 204].includes((await curl([...U, '-X', 'DELETE', `${srv.url}/d3`])).status));
  await assert.rejects(fsp.stat(path.join(srv.homeOf('alice'), 'd3')));
});

test('auth failures, permission denied 403, quota 507, oversize body', async () => {
  const bad = await curl(['-u', 'alice:wrong', `${srv.url}/`]);
  assert.equal(bad.status, 401);
  assert.match(bad.headers, /WWW-Authenticate: Basic/i);
  const log = await srv.readLog();
  assert.ok(log.some((l) => l.sender === 'connection_failed' && l.username === 'alice' && l.protocol === 'DAV'));
  const ro = await curl(['-u', 'ro:ro-pw', '-T', '-', `${srv.url}/x.txt`], Buffer.from('x'));
  assert.equal(ro.status, 403);
  const q = await curl(['-u', 'small:small-pw', '-T', '-', `${srv.url}/big.bin`], randomBytes(100_000));
  assert.equal(q.status, 507);
  const big = await curl([...U, '-X', 'PROPFIND', '-H', 'Content-Length: 5000000', '-H', 'Expect:', `${srv.url}/`]);
  assert.equal(big.status, 413);
});

test('HEAD needs only the list permission (as in SFTPGo), GET needs download', async () => {
  await fsp.mkdir(srv.homeOf('lister'), { recursive: true });
  await fsp.writeFile(path.join(srv.homeOf('lister'), 'doc.txt'), 'listed, not downloadable');
  const head = await curl(['-u', 'lister:lister-pw', '-I', `${srv.url}/doc.txt`]);
  assert.equal(head.status, 200);
  assert.match(head.headers, /Content-Length: 24/i);
  const get = await curl(['-u', 'lister:lister-pw', `${srv.url}/doc.txt`]);
  assert.equal(get.status, 403);
  assert.ok(!get.body.toString().includes('downloadable'));
  const ranged = await curl(['-u', 'lister:lister-pw', '-H', 'Range: bytes=0-3', `${srv.url}/doc.txt`]);
  assert.equal(ranged.status, 403);
});

test('jail: dot-dot and encoded dot-dot stay inside the home', async () => {
  await fsp.writeFile(path.join(srv.configDir, 'secret.txt'), 'top secret');
  for (const p of ['/../../secret.txt', '/%2e%2e/%2e%2e/secret.txt', '/..%2f..%2fsecret.txt']) {
    const r = await curl([...U, `${srv.url}${p}`]);
    assert.notEqual(r.status, 200, p);
    assert.ok(!r.body.toString().includes('top secret'), p);
  }
  await fsp.symlink(path.join(srv.configDir, 'secret.txt'), path.join(srv.homeOf('alice'), 'link.txt'));
  const l = await curl([...U, `${srv.url}/link.txt`]);
  assert.ok(!l.body.toString().includes('top secret'));
  assert.notEqual(l.status, 200);
});

test('litmus basic/copymove/props/locks pass counts', async (t) => {
  const which = await new Promise<boolean>((resolve) => execFile('litmus', ['--version'], (e) => resolve(!e || (e as NodeJS.ErrnoException).code !== 'ENOENT')));
  if (!which) return t.skip('litmus is not installed (apt-get install -y litmus)');
  await curl([...U, '-X', 'MKCOL', `${srv.url}/litmus`]);
  // every test of the four suites must run and pass (a crashed litmus prints no summary)
  const expected: Record<string, number> = { basic: 16, copymove: 13, props: 30, locks: 41 };
  // litmus writes debug.log and child.log into its working directory: keep them out of the checkout
  const cwd = mkdtempSync(path.join(tmpdir(), 'sftpgo-litmus-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  for (const [suite, total] of Object.entries(expected)) {
    const { out, code, signal } = await new Promise<{ out: string; code: number | null; signal: string | null }>((resolve) => {
      const child = execFile('litmus', [`${srv.url}/litmus/`, 'alice', 'secret-pw'], { cwd, env: { ...process.env, TESTS: suite }, timeout: 120_000 },
        (_e, so) => resolve({ out: String(so), code: child.exitCode, signal: child.signalCode }));
    });
    const m = /of (\d+) tests run: (\d+) passed/.exec(out);
    assert.ok(m, `${suite}: no summary (exit ${code}, signal ${signal}):\n${out.slice(-2000)}`);
    assert.equal(Number(m[1]), total, `${suite}: ${m[1]} tests run, expected ${total}`);
    assert.equal(Number(m[2]), total, `${suite}: ${m[2]} of ${total} passed:\n${out.slice(-3000)}`);
    assert.equal(code, 0, suite);
  }
});
