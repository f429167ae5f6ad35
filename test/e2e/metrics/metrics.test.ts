/**
 * /metrics after real traffic: the whole app runs (SFTP, FTP, WebDAV, HTTP,
 * telemetry) and every counter must move by exactly what the clients did.
 * Assertions read the telemetry listener, whose own requests are not HTTP
 * metrics; the httpd binding must serve the same metric names.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { Client as SshClient } from 'ssh2';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Client as FtpClient } from 'basic-ftp';
import type { SFTPWrapper } from 'ssh2';
import { parseMetrics, scrape, sftpOf, sshConnect, sshEnd, sshExec, startFullApp, type FullEnv } from './env';

let env: FullEnv;
before(async () => { env = await startFullApp(); });
after(async () => { await env?.stop(); });

const telemetry = (): Promise<Map<string, number>> => scrape(`http://127.0.0.1:${env.ports.telemetry}/metrics`);

/** Server-side work can finish a moment after the client saw its reply: re-read (bounded) until it settles. */
async function settled(name: string, want: number, base: Map<string, number>): Promise<Map<string, number>> {
  let m = await telemetry();
  for (let i = 0; i < 200 && (m.get(name) ?? 0) - (base.get(name) ?? 0) !== want; i++) {
    await new Promise<void>((r) => setImmediate(r));
    m = await telemetry();
  }
  return m;
}

const delta = (a: Map<string, number>, b: Map<string, number>, name: string): number => (b.get(name) ?? 0) - (a.get(name) ?? 0);

function sftpCall<T>(fn: (cb: (err: Error | null | undefined, v?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v as T))));
}

async function addUser(username: string, password: string, extra: Record<string, unknown> = {}): Promise<string> {
  const home = join(env.dir, 'homes', username);
  const r = await env.api('POST', '/api/v2/users', { status: 1, username, password, home_dir: home, permissions: { '/': ['*'] }, ...extra });
  assert.equal(r.status, 201, r.text);
  return home;
}

test('both listeners serve SFTPGo metric names plus process metrics', async () => {
  for (const url of [`http://127.0.0.1:${env.ports.http}/metrics`, `http://127.0.0.1:${env.ports.telemetry}/metrics`]) {
    const res = await fetch(url);
    assert.equal(res.status, 200, url);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const m = parseMetrics(await res.text());
    for (const n of ['sftpgo_uploads_total', 'sftpgo_login_attempts_total', 'sftpgo_http_req_total', 'process_cpu_user_seconds_total', 'nodejs_heap_size_total_bytes']) {
      assert.ok(m.has(n), `${n} on ${url}`);
    }
    assert.equal(m.get('sftpgo_dataprovider_availability'), 1, url);
  }
});

async function keyPair(name: string): Promise<{ privateKey: string; publicKey: string }> {
  const file = join(env.dir, name);
  await promisify(execFile)('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file]);
  return { privateKey: await readFile(file, 'utf8'), publicKey: (await readFile(`${file}.pub`, 'utf8')).trim() };
}

function sshWithKey(username: string, privateKey: string): Promise<SshClient> {
  const c = new SshClient();
  return new Promise((resolve, reject) => {
    c.once('error', reject);
    c.once('ready', () => { c.on('error', () => undefined); resolve(c); });
    c.connect({ host: '127.0.0.1', port: env.ports.sftp, username, privateKey, readyTimeout: 30000 });
  });
}

test('counters move by exactly what SFTP, SSH commands, FTP and WebDAV clients did', async () => {
  const key = await keyPair('metro_key');
  const home = await addUser('metro', 'metro-pw', { public_keys: [key.publicKey] });
  const qhome = await addUser('quser', 'quser-pw', { quota_size: 6000 });
  await mkdir(home, { recursive: true });
  await mkdir(qhome, { recursive: true });
  const M = 777;
  await writeFile(join(home, 'down.bin'), randomBytes(M));
  const N = 12345;
  const F = 3210;
  const D = 2048;
  const s0 = await telemetry();

  // SFTP: one session, upload N, download M, then an SSH command on the same connection
  const ssh = await sshConnect(env.ports.sftp, 'metro', 'metro-pw');
  const sftp: SFTPWrapper = await sftpOf(ssh);
  const open = await settled('sftpgo_active_connections', 1, s0);
  assert.equal(delta(s0, open, 'sftpgo_active_connections'), 1, 'one SFTP session open');
  await sftpCall<void>((cb) => sftp.writeFile('up.bin', randomBytes(N), cb));
  const got = await sftpCall<Buffer>((cb) => sftp.readFile('down.bin', cb));
  assert.equal(got.length, M);
  const md5 = await sshExec(ssh, 'md5sum up.bin');
  assert.equal(md5.code, 0);
  assert.match(md5.stdout, /^[0-9a-f]{32} {2}\/up\.bin/);
  await sshEnd(ssh);
  const closed = await settled('sftpgo_active_connections', 0, s0);
  assert.equal(delta(s0, closed, 'sftpgo_active_connections'), 0, 'sessions closed');

  // a public key login
  await sshEnd(await sshWithKey('metro', key.privateKey));

  // a failed password login
  await assert.rejects(sshConnect(env.ports.sftp, 'metro', 'wrong-password'), /authentication/i);

  // an upload that runs out of quota mid-transfer: 4000 bytes accepted, the next write refused
  const q = await sshConnect(env.ports.sftp, 'quser', 'quser-pw');
  const qs = await sftpOf(q);
  const h = await sftpCall<Buffer>((cb) => qs.open('big.bin', 'w', cb));
  await sftpCall<void>((cb) => qs.write(h, randomBytes(4000), 0, 4000, 0, (e) => cb(e)));
  await assert.rejects(sftpCall<void>((cb) => qs.write(h, randomBytes(4000), 0, 4000, 4000, (e) => cb(e))));
  await sftpCall<void>((cb) => qs.close(h, (e) => cb(e))).catch(() => undefined);
  await sshEnd(q);

  // FTP upload
  const ftp = new FtpClient(10_000);
  try {
    await ftp.access({ host: '127.0.0.1', port: env.ports.ftp, user: 'metro', password: 'metro-pw' });
    await ftp.uploadFrom(Readable.from([randomBytes(F)]), 'ftp.bin');
  } finally {
    ftp.close();
  }

  // WebDAV PUT
  const put = await fetch(`http://127.0.0.1:${env.ports.dav}/dav.bin`, {
    method: 'PUT', body: randomBytes(D),
    headers: { authorization: `Basic ${Buffer.from('metro:metro-pw').toString('base64')}` },
  });
  assert.equal(put.status, 201);
  await put.arrayBuffer();
  // a second request within the login cache's lifetime is not a new login; a wrong password is a failed one
  const again = await fetch(`http://127.0.0.1:${env.ports.dav}/dav2.bin`, {
    method: 'PUT', body: randomBytes(D),
    headers: { authorization: `Basic ${Buffer.from('metro:metro-pw').toString('base64')}` },
  });
  assert.equal(again.status, 201);
  await again.arrayBuffer();
  const denied = await fetch(`http://127.0.0.1:${env.ports.dav}/dav3.bin`, {
    method: 'PUT', body: randomBytes(D),
    headers: { authorization: `Basic ${Buffer.from('metro:not-it').toString('base64')}` },
  });
  assert.equal(denied.status, 401);
  await denied.arrayBuffer();

  let s1 = await settled('sftpgo_uploads_total', 4, s0);
  s1 = await settled('sftpgo_active_connections', 0, s0);
  const d = (name: string): number => delta(s0, s1, name);
  assert.equal(d('sftpgo_uploads_total'), 4, 'SFTP + FTP + 2 WebDAV uploads');
  assert.equal(d('sftpgo_upload_errors_total'), 1, 'the quota-refused upload');
  assert.equal(d('sftpgo_upload_size'), N + F + 2 * D + 4000, 'partial uploads are included');
  assert.equal(d('sftpgo_downloads_total'), 1);
  assert.equal(d('sftpgo_download_errors_total'), 0);
  assert.equal(d('sftpgo_download_size'), M);
  assert.equal(d('sftpgo_ssh_commands_total'), 1);
  assert.equal(d('sftpgo_ssh_command_errors_total'), 0);
  // logins: SFTP metro (password and key), SFTP quser, FTP, WebDAV succeed; one SFTP and one WebDAV password fail
  assert.equal(d('sftpgo_login_attempts_total'), 7);
  assert.equal(d('sftpgo_login_ok_total'), 5);
  assert.equal(d('sftpgo_login_ko_total'), 2);
  assert.equal(d('sftpgo_password_login_attempts_total'), 6);
  assert.equal(d('sftpgo_password_login_ok_total'), 4);
  assert.equal(d('sftpgo_password_login_ko_total'), 2);
  assert.equal(d('sftpgo_public_key_login_attempts_total'), 1);
  assert.equal(d('sftpgo_public_key_login_ok_total'), 1);
  assert.equal(d('sftpgo_public_key_login_ko_total'), 0);
  assert.equal(d('sftpgo_keyboard_interactive_login_attempts_total'), 0);
  assert.equal(d('sftpgo_active_connections'), 0);
  assert.equal(s1.get('sftpgo_dataprovider_availability'), 1);
});

test('HTTP requests are counted by status class', async () => {
  const s0 = await telemetry();
  const ok = await env.api('GET', '/api/v2/version');
  assert.equal(ok.status, 200);
  const missing = await env.api('GET', '/api/v2/users/nobody-here');
  assert.equal(missing.status, 404);
  // the token request made by env.api the first time is already counted; 2 more requests now
  const s1 = await settled('sftpgo_http_req_total', 2, s0);
  assert.equal(delta(s0, s1, 'sftpgo_http_req_total'), 2);
  assert.equal(delta(s0, s1, 'sftpgo_http_req_ok_total'), 1);
  assert.equal(delta(s0, s1, 'sftpgo_http_client_errors_total'), 1);
  assert.equal(delta(s0, s1, 'sftpgo_http_server_errors_total'), 0);
});
