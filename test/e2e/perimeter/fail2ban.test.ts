/**
 * fail2ban/filter.d/sftpgo.conf checked with Debian's fail2ban-regex against
 * the log the server really wrote after failed and successful logins on
 * SSH, FTP, WebDAV and REST: every connection_failed line is matched with
 * its address, no successful login is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { startPerimeterApp, type PerimeterEnv } from './env';
import { basic, dial, httpGet, sshLogin } from './peers';

const FILTER = path.join(__dirname, '..', '..', '..', '..', 'fail2ban', 'filter.d', 'sftpgo.conf');

function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 120_000, maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

/** USER/PASS over raw FTP from `from`; the reply code to PASS. */
async function ftpLogin(env: PerimeterEnv, from: string, user: string, pass: string): Promise<string> {
  const s = await dial(env.ftp, { localAddress: from });
  let buf = '';
  return new Promise((resolve) => {
    s.on('error', () => undefined);
    s.on('close', () => resolve('closed'));
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let nl: number;
      while ((nl = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        if (line.startsWith('220 ')) s.write(`USER ${user}\r\n`);
        else if (line.startsWith('331 ')) s.write(`PASS ${pass}\r\n`);
        else if (/^\d{3} /.test(line)) { s.end('QUIT\r\n'); resolve(line.slice(0, 3)); }
      }
    });
  });
}

test('fail2ban-regex matches every failed login the server logged, with its address, and no success', async (t) => {
  const env = await startPerimeterApp();
  t.after(() => env.close());
  await env.addUser('alice', 'alice-pw');
  const failures: Record<string, string> = { SSH: '127.0.0.70', FTP: '127.0.0.71', DAV: '127.0.0.72', HTTP: '127.0.0.73' };
  const successes = ['127.0.0.80', '127.0.0.81', '127.0.0.82', '127.0.0.83'];

  assert.notEqual(await sshLogin(env.ssh, 'alice', 'wrong', { localAddress: failures.SSH }), 'ok');
  assert.notEqual(await sshLogin(env.ssh, 'mallory', 'guess', { localAddress: failures.SSH }), 'ok');
  assert.equal(await ftpLogin(env, failures.FTP!, 'alice', 'wrong'), '530');
  assert.equal(await ftpLogin(env, failures.FTP!, 'mallory', 'guess'), '530');
  assert.equal((await httpGet(env.dav, '/', { localAddress: failures.DAV, headers: { Authorization: basic('alice', 'wrong') } })).status, 401);
  assert.equal((await httpGet(env.http, '/api/v2/token', { localAddress: failures.HTTP, headers: { Authorization: basic('admin', 'wrong') } })).status, 401);

  assert.equal(await sshLogin(env.ssh, 'alice', 'alice-pw', { localAddress: successes[0] }), 'ok');
  assert.equal(await ftpLogin(env, successes[1]!, 'alice', 'alice-pw'), '230');
  assert.ok((await httpGet(env.dav, '/', { localAddress: successes[2], headers: { Authorization: basic('alice', 'alice-pw') } })).status !== 401);
  assert.equal((await httpGet(env.http, '/api/v2/token', { localAddress: successes[3], headers: { Authorization: basic('admin', 'adminpw') } })).status, 200);

  const lines = await env.logLines();
  const failed = lines.filter((l) => l.sender === 'connection_failed');
  // the log itself: one failure line per failed attempt, on the right protocol and address
  for (const [proto, ip] of Object.entries(failures)) {
    assert.ok(failed.some((l) => l.protocol === proto && l.client_ip === ip), `${proto} failure logged from ${ip}`);
  }
  assert.ok(lines.filter((l) => l.sender === 'login').length >= 3, 'successful logins were logged too');
  const logFile = path.join(env.dir, 'sftpgo.log');

  const ips = await run('fail2ban-regex', ['-o', 'ip', logFile, FILTER]);
  assert.equal(ips.code, 0, ips.out);
  const matched = ips.out.split('\n').map((l) => l.trim()).filter((l) => /^\d+\.\d+\.\d+\.\d+$/.test(l));
  assert.deepEqual([...matched].sort(), failed.map((l) => String(l.client_ip)).sort(), ips.out);
  for (const ip of successes) assert.ok(!matched.includes(ip), `success from ${ip} not matched`);

  const summary = await run('fail2ban-regex', [logFile, FILTER]);
  assert.equal(summary.code, 0, summary.out);
  const m = /Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed/.exec(summary.out);
  assert.ok(m, summary.out);
  assert.equal(Number(m[3]), failed.length, summary.out);
  assert.equal(Number(m[1]), lines.length, 'every line was read (dates recognised)');
});
