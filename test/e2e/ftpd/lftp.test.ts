/** The FTP service driven by lftp: plain, explicit TLS, implicit TLS, passive and active. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addUser, lftp, startFtp, type FtpHarness } from './harness';

const PLAIN = ['set ftp:ssl-allow no'];
const FORCE_TLS = ['set ftp:ssl-force yes', 'set ftp:ssl-protect-data yes', 'set ftp:ssl-protect-list yes'];

describe('ftpd with lftp', () => {
  let h: FtpHarness;
  let home: string;
  let local: string;
  const big = crypto.randomBytes(3 * 1024 * 1024 + 123);

  before(async () => {
    h = await startFtp();
    home = await addUser(h, { username: 'alice', password: 'alice-pass' });
    local = path.join(h.base, 'local');
    fs.mkdirSync(local);
    fs.writeFileSync(path.join(local, 'big.bin'), big);
  });
  after(async () => { await h.close(); });

  test('plain: put, ls, get, mkdir, mv, rm', async () => {
    const url = `ftp://127.0.0.1:${h.plainPort}`;
    const r = await lftp(url, 'alice', 'alice-pass', [
      'mkdir d1', 'cd d1', 'put big.bin', 'ls', 'get big.bin -o back.bin', 'mv big.bin moved.bin', 'cls -1', 'rm moved.bin', 'cd /', 'rmdir d1',
    ], PLAIN, local);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /big\.bin/);
    assert.match(r.stdout, /moved\.bin/);
    assert.ok(fs.readFileSync(path.join(local, 'back.bin')).equals(big));
    assert.equal(fs.existsSync(path.join(home, 'd1')), false);
  });

  test('explicit TLS (binding tls_mode 1): put and get with protected data', async () => {
    const url = `ftp://127.0.0.1:${h.explicitPort}`;
    const r = await lftp(url, 'alice', 'alice-pass', ['put big.bin -o tls.bin', 'get tls.bin -o tls-back.bin', 'ls'], FORCE_TLS, local);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.readFileSync(path.join(home, 'tls.bin')).equals(big));
    assert.ok(fs.readFileSync(path.join(local, 'tls-back.bin')).equals(big));
  });

  test('tls_mode 1 refuses a plain-text login', async () => {
    const url = `ftp://127.0.0.1:${h.explicitPort}`;
    const r = await lftp(url, 'alice', 'alice-pass', ['ls'], PLAIN, local);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /534|TLS/i);
  });

  test('implicit TLS: put and get', async () => {
    const url = `ftps://127.0.0.1:${h.implicitPort}`;
    const r = await lftp(url, 'alice', 'alice-pass', ['put big.bin -o implicit.bin', 'get implicit.bin -o implicit-back.bin'], [], local);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.readFileSync(path.join(local, 'implicit-back.bin')).equals(big));
  });

  test('resume: put -c and get -c continue partial files', async () => {
    const url = `ftp://127.0.0.1:${h.plainPort}`;
    const half = big.subarray(0, 1024 * 1024 + 7);
    fs.writeFileSync(path.join(home, 'resume-up.bin'), half);
    fs.writeFileSync(path.join(local, 'resume-down.bin'), half);
    fs.writeFileSync(path.join(home, 'resume-down.bin'), big);
    const r = await lftp(url, 'alice', 'alice-pass', ['put -c big.bin -o resume-up.bin', 'get -c resume-down.bin'], PLAIN, local);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.readFileSync(path.join(home, 'resume-up.bin')).equals(big));
    assert.ok(fs.readFileSync(path.join(local, 'resume-down.bin')).equals(big));
  });

  test('mirror a tree both ways', async () => {
    const tree = path.join(local, 'tree');
    fs.mkdirSync(path.join(tree, 'a', 'b'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'top.txt'), 'top');
    fs.writeFileSync(path.join(tree, 'a', 'mid.txt'), 'mid');
    fs.writeFileSync(path.join(tree, 'a', 'b', 'deep.bin'), big.subarray(0, 200_000));
    const url = `ftp://127.0.0.1:${h.plainPort}`;
    const r = await lftp(url, 'alice', 'alice-pass', ['mirror -R tree remote-tree', 'mirror remote-tree tree-back'], PLAIN, local);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(path.join(home, 'remote-tree', 'a', 'mid.txt'), 'utf8'), 'mid');
    assert.ok(fs.readFileSync(path.join(local, 'tree-back', 'a', 'b', 'deep.bin')).equals(big.subarray(0, 200_000)));
    assert.equal(fs.readFileSync(path.join(local, 'tree-back', 'top.txt'), 'utf8'), 'top');
  });

  test('active mode (PORT to the client on 127.0.0.1)', async () => {
    const url = `ftp://127.0.0.1:${h.plainPort}`;
    const r = await lftp(url, 'alice', 'alice-pass', ['put big.bin -o active.bin', 'get active.bin -o active-back.bin', 'ls'],
      [...PLAIN, 'set ftp:passive-mode off', 'set ftp:port-range 40000-60000'], local);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.readFileSync(path.join(local, 'active-back.bin')).equals(big));
    assert.match(r.stdout, /active\.bin/);
  });

  test('ftp-srv style SIGTERM handlers are not installed', () => {
    assert.deepEqual(process.listeners('SIGTERM'), h.sigtermBefore);
  });
});
