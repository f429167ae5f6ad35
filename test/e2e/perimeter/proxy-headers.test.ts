/**
 * Hand-written PROXY headers with spoofed sources: which address the server
 * believes in mode 1 (allowed / not allowed source), mode 2 (required,
 * refused), proxy_skipped, malformed and slow headers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { proxyV1, V2_SIGNATURE } from '../../../src/perimeter/proxy-header';
import { startPerimeterApp } from './env';
import { dial, sshLogin, waitClosed } from './peers';

const dst = { ip: '127.0.0.1', port: 22 };

function v2Tcp6(src: string, port: number): Buffer {
  const addr = Buffer.alloc(36);
  const groups = src.split(':');
  // 2001:db8::5 style only (test input)
  const head = groups.slice(0, groups.indexOf(''));
  head.forEach((g, i) => addr.writeUInt16BE(Number.parseInt(g, 16), i * 2));
  addr.writeUInt16BE(Number.parseInt(groups[groups.length - 1]!, 16), 14);
  addr[31] = 1;
  addr.writeUInt16BE(port, 32);
  addr.writeUInt16BE(22, 34);
  const h = Buffer.alloc(16);
  V2_SIGNATURE.copy(h);
  h[12] = 0x21;
  h[13] = 0x21;
  h.writeUInt16BE(addr.length, 14);
  return Buffer.concat([h, addr]);
}

/** Logs in over raw FTP after `header`; the 230/530 line. */
async function ftpLogin(port: number, user: string, pass: string, header?: Buffer, localAddress?: string): Promise<string> {
  const s = await dial(port, { header, localAddress });
  let got = '';
  const lines: string[] = [];
  return new Promise((resolve) => {
    const done = (r: string): void => { s.destroy(); resolve(r); };
    s.on('error', () => done('error'));
    s.on('close', () => done(lines.join('|') || 'closed'));
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      let nl: number;
      while ((nl = got.indexOf('\r\n')) >= 0) {
        const line = got.slice(0, nl);
        got = got.slice(nl + 2);
        lines.push(line);
        if (line.startsWith('220 ')) s.write(`USER ${user}\r\n`);
        else if (line.startsWith('331 ')) s.write(`PASS ${pass}\r\n`);
        else if (/^(230|530|421) /.test(line)) done(line);
      }
    });
  });
}

test('mode 1: a header from proxy_allowed is believed (logs, IP filters), from anyone else it is dropped', async (t) => {
  const env = await startPerimeterApp((c) => {
    c.common.proxy_protocol = 1;
    c.common.proxy_allowed = ['127.0.0.1'];
  });
  t.after(() => env.close());
  await env.addUser('doc', 'doc-pw', { filters: { allowed_ip: ['203.0.113.0/24', '2001:db8::/32'] } });
  await env.addUser('plain', 'plain-pw');

  const spoof = proxyV1({ ip: '203.0.113.5', port: 4000 }, dst);
  assert.equal(await sshLogin(env.ssh, 'doc', 'doc-pw', { header: spoof }), 'ok');
  assert.equal(await sshLogin(env.ssh, 'doc', 'doc-pw', { header: v2Tcp6('2001:db8::5', 4001) }), 'ok');
  assert.notEqual(await sshLogin(env.ssh, 'doc', 'doc-pw'), 'ok', 'without a header the client is 127.0.0.1: not allowed');
  // 127.0.0.3 is no trusted proxy: its header is read and dropped, the socket address stands
  assert.notEqual(await sshLogin(env.ssh, 'doc', 'doc-pw', { header: spoof, localAddress: '127.0.0.3' }), 'ok');
  assert.equal(await sshLogin(env.ssh, 'plain', 'plain-pw', { header: spoof, localAddress: '127.0.0.3' }), 'ok');
  assert.match(await ftpLogin(env.ftp, 'doc', 'doc-pw', proxyV1({ ip: '203.0.113.9', port: 5000 }, dst)), /^230 /);
  // an FTP client straight from an untrusted address gets its banner at once (no header wait)
  assert.match(await ftpLogin(env.ftp, 'plain', 'plain-pw', undefined, '127.0.0.3'), /^230 /);

  const logins = (await env.logLines()).filter((l) => l.sender === 'login').map((l) => `${String(l.protocol)} ${String(l.ip)} ${String(l.username)}`);
  assert.deepEqual(logins.sort(), ['FTP 127.0.0.3 plain', 'FTP 203.0.113.9 doc', 'SSH 127.0.0.3 plain', 'SSH 203.0.113.5 doc', 'SSH 2001:db8::5 doc'].sort());
});

test('mode 2: header required from proxy_allowed, others refused, proxy_skipped read as is, bad and slow headers closed', async (t) => {
  const env = await startPerimeterApp((c) => {
    c.common.proxy_protocol = 2;
    c.common.proxy_allowed = ['127.0.0.1'];
    c.common.proxy_skipped = ['127.0.0.4'];
  });
  t.after(() => env.close());
  await env.addUser('plain', 'plain-pw');
  const spoof = proxyV1({ ip: '198.51.100.3', port: 4000 }, dst);
  assert.equal(await sshLogin(env.ssh, 'plain', 'plain-pw', { header: spoof }), 'ok');
  assert.notEqual(await sshLogin(env.ssh, 'plain', 'plain-pw'), 'ok', 'no header from the proxy');
  assert.notEqual(await sshLogin(env.ssh, 'plain', 'plain-pw', { header: spoof, localAddress: '127.0.0.3' }), 'ok', 'header from a stranger');
  assert.equal(await sshLogin(env.ssh, 'plain', 'plain-pw', { localAddress: '127.0.0.4' }), 'ok', 'proxy_skipped: no header read');
  assert.match(await ftpLogin(env.ftp, 'plain', 'plain-pw', spoof), /^230 /);
  assert.equal(await ftpLogin(env.ftp, 'plain', 'plain-pw', spoof, '127.0.0.3'), 'closed');

  // malformed: closed without a banner
  const bad = await dial(env.ssh, { header: Buffer.from('PROXY TCP4 300.1.1.1 127.0.0.1 1 2\r\n') });
  assert.equal(await waitClosed(bad), '');
  const huge = await dial(env.ftp, { header: Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11, 0xff, 0xff])]) });
  assert.equal(await waitClosed(huge), '');
  // slow: half a header, then silence; closed after the header timeout (10 s), nothing sent
  const slow = await dial(env.ssh, { header: Buffer.from('PROXY TCP4 198.51') });
  assert.equal(await waitClosed(slow), '');

  const logins = (await env.logLines()).filter((l) => l.sender === 'login').map((l) => `${String(l.protocol)} ${String(l.ip)}`);
  assert.deepEqual(logins.sort(), ['FTP 198.51.100.3', 'SSH 127.0.0.4', 'SSH 198.51.100.3'].sort());
});
