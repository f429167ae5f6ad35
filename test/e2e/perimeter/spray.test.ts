/**
 * A password spray from one address is banned after the threshold on SSH,
 * FTP, WebDAV and HTTP (REST token) through the login pipeline; the ban shows
 * in /api/v2/defender/hosts; the banned address is refused before any
 * protocol work; an unban lets the right password in; other addresses are
 * never affected. Memory driver on every protocol, provider driver (SQLite)
 * on SSH and HTTP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { AppConfig } from '../../../src/config/types';
import { startPerimeterApp, type PerimeterEnv } from './env';
import { basic, dial, httpGet, lftpRun, sshLogin, waitClosed } from './peers';

function tune(driver: 'memory' | 'provider') {
  return (c: AppConfig): void => {
    Object.assign(c.common.defender, {
      enabled: true, driver, threshold: 5, score_valid: 1, score_invalid: 2, score_limit_exceeded: 3, score_no_auth: 0,
      ban_time: 30, ban_time_increment: 50, observation_time: 30, login_delay: { success: 0, password_failed: 0 },
    });
    if (driver === 'provider') {
      c.data_provider.driver = 'sqlite';
      // relative to the config dir (the test's temp dir)
      c.data_provider.name = 'sftpgo.db';
    }
  };
}

async function adminToken(env: PerimeterEnv): Promise<string> {
  const r = await httpGet(env.http, '/api/v2/token', { headers: { Authorization: basic('admin', 'adminpw') } });
  assert.equal(r.status, 200, r.body);
  return (JSON.parse(r.body) as { access_token: string }).access_token;
}

async function hosts(env: PerimeterEnv): Promise<{ id: string; ip: string; score?: number; ban_time?: string }[]> {
  const res = await fetch(`http://127.0.0.1:${env.http}/api/v2/defender/hosts`, { headers: { Authorization: `Bearer ${await adminToken(env)}` } });
  assert.equal(res.status, 200);
  return await res.json() as { id: string; ip: string; score?: number; ban_time?: string }[];
}

async function unban(env: PerimeterEnv, ip: string): Promise<void> {
  const id = Buffer.from(ip).toString('hex');
  const tk = await adminToken(env);
  const got = await fetch(`http://127.0.0.1:${env.http}/api/v2/defender/hosts/${id}`, { headers: { Authorization: `Bearer ${tk}` } });
  assert.equal(got.status, 200);
  const res = await fetch(`http://127.0.0.1:${env.http}/api/v2/defender/hosts/${id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${tk}` } });
  assert.equal(res.status, 200);
  const again = await fetch(`http://127.0.0.1:${env.http}/api/v2/defender/hosts/${id}`, { headers: { Authorization: `Bearer ${tk}` } });
  assert.equal(again.status, 404);
}

async function assertBanned(env: PerimeterEnv, ip: string): Promise<void> {
  const h = (await hosts(env)).find((x) => x.ip === ip);
  assert.ok(h?.ban_time && !Number.isNaN(Date.parse(h.ban_time)), `${ip} banned: ${JSON.stringify(h)}`);
  assert.equal(h.id, Buffer.from(ip).toString('hex'));
}

/** Raw FTP on one control connection: USER/PASS `tries` times; the reply codes in order. */
async function ftpSpray(env: PerimeterEnv, from: string, passwords: string[]): Promise<string[]> {
  const s = await dial(env.ftp, { localAddress: from });
  const codes: string[] = [];
  let buf = '';
  let next = 0;
  return new Promise((resolve) => {
    const finish = (): void => { s.destroy(); resolve(codes); };
    s.on('error', () => undefined);
    s.on('close', () => resolve(codes));
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let nl: number;
      while ((nl = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        if (/^\d{3}-/.test(line)) continue;
        const code = line.slice(0, 3);
        if (code === '331') { s.write(`PASS ${passwords[next - 1]}\r\n`); continue; }
        if (code !== '220') codes.push(code);
        if (next >= passwords.length || code === '421') { finish(); return; }
        s.write(`USER alice\r\n`);
        next++;
      }
    });
  });
}

for (const driver of ['memory', 'provider'] as const) {
  test(`password spray banned on every protocol (defender driver ${driver})`, async (t) => {
    const env = await startPerimeterApp(tune(driver));
    t.after(() => env.close());
    await env.addUser('alice', 'alice-pw');

    // SSH: five wrong passwords from 127.0.0.50, then refused before the handshake
    for (let i = 0; i < 5; i++) assert.notEqual(await sshLogin(env.ssh, 'alice', `wrong-${i}`, { localAddress: '127.0.0.50' }), 'ok');
    assert.equal(await waitClosed(await dial(env.ssh, { localAddress: '127.0.0.50' })), '', 'no SSH identification for a banned address');
    assert.notEqual(await sshLogin(env.ssh, 'alice', 'alice-pw', { localAddress: '127.0.0.50' }), 'ok', 'not even the right password');
    assert.equal(await sshLogin(env.ssh, 'alice', 'alice-pw', { localAddress: '127.0.0.60' }), 'ok', 'another address is not affected');
    await assertBanned(env, '127.0.0.50');
    await unban(env, '127.0.0.50');
    assert.equal(await sshLogin(env.ssh, 'alice', 'alice-pw', { localAddress: '127.0.0.50' }), 'ok');

    // HTTP (REST admin token): 401 × 3 for an unknown admin (score 2 each: banned at the third), then 403
    for (let i = 0; i < 3; i++) {
      assert.equal((await httpGet(env.http, '/api/v2/token', { localAddress: '127.0.0.53', headers: { Authorization: basic('nobody', 'x') } })).status, 401);
    }
    assert.equal((await httpGet(env.http, '/api/v2/token', { localAddress: '127.0.0.53', headers: { Authorization: basic('admin', 'adminpw') } })).status, 403);
    await assertBanned(env, '127.0.0.53');
    await unban(env, '127.0.0.53');
    assert.equal((await httpGet(env.http, '/api/v2/token', { localAddress: '127.0.0.53', headers: { Authorization: basic('admin', 'adminpw') } })).status, 200);
    if (driver === 'provider') return;

    // FTP: one control connection, wrong passwords until the pipeline refuses the address mid-connection
    const codes = await ftpSpray(env, '127.0.0.51', ['w1', 'w2', 'w3', 'w4', 'w5', 'alice-pw']);
    assert.deepEqual(codes.slice(0, 5), ['530', '530', '530', '530', '530'], codes.join(','));
    assert.notEqual(codes[5], '230', 'the right password is refused once banned');
    const banner = await dial(env.ftp, { localAddress: '127.0.0.51' });
    assert.equal(await waitClosed(banner), '', 'no FTP banner for a banned address');
    await assertBanned(env, '127.0.0.51');
    await unban(env, '127.0.0.51');
    const work = await fsp.mkdtemp(path.join(env.dir, 'ftp-'));
    const ok = await lftpRun('127.0.0.1', env.ftp, 'alice', 'alice-pw', '127.0.0.51', ['cls -1'], work);
    assert.equal(ok.code, 0, ok.out);

    // WebDAV: 401 × 5 then 403 before authentication
    for (let i = 0; i < 5; i++) {
      assert.equal((await httpGet(env.dav, '/', { localAddress: '127.0.0.52', headers: { Authorization: basic('alice', `bad${i}`) } })).status, 401);
    }
    assert.equal((await httpGet(env.dav, '/', { localAddress: '127.0.0.52', headers: { Authorization: basic('alice', 'alice-pw') } })).status, 403);
    await assertBanned(env, '127.0.0.52');
    await unban(env, '127.0.0.52');
    const dav = await httpGet(env.dav, '/', { localAddress: '127.0.0.52', headers: { Authorization: basic('alice', 'alice-pw') } });
    assert.ok(dav.status !== 401 && dav.status !== 403, String(dav.status));

    const lines = await env.logLines();
    for (const [ip, proto] of [['127.0.0.50', 'SSH'], ['127.0.0.51', 'FTP'], ['127.0.0.52', 'DAV'], ['127.0.0.53', 'HTTP']]) {
      assert.ok(lines.some((l) => l.sender === 'defender' && l.event === 'banned' && l.client_ip === ip && l.protocol === proto), `${proto} ban logged`);
    }
  });
}
