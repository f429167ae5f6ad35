/**
 * PROXY protocol mode 1 behind Debian's haproxy (send-proxy and send-proxy-v2):
 * the address the client connected to haproxy from (a chosen 127.0.0.0/8
 * source) is the one the server logs and filters on, for SSH, FTP (control
 * and passive data, both through haproxy, PASV answering with the
 * passive_ip_overrides entry that matches the proxied client) and HTTP
 * (proxy_mode 1); WebDAV trusts X-Forwarded-For only from proxy_allowed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { freePort, freePortRange } from '../../support/net';
import { startPerimeterApp } from './env';
import { basic, httpGet, lftpRun, sshLogin, startHaproxy, type ProxyRoute } from './peers';

test('haproxy send-proxy / send-proxy-v2: the client address reaches SSH, FTP (passive through the proxy) and HTTP', async (t) => {
  const range = await freePortRange(4);
  const env = await startPerimeterApp((c) => {
    c.common.proxy_protocol = 1;
    c.common.proxy_allowed = ['127.0.0.1'];
    c.ftpd.passive_port_range = range;
    c.ftpd.bindings[0]!.passive_ip_overrides = [{ networks: ['127.0.0.9/32'], ip: '127.0.0.2' }];
    c.httpd.bindings[0]!.proxy_mode = 1;
    c.webdavd.bindings[0]!.client_ip_proxy_header = 'X-Forwarded-For';
    c.webdavd.bindings[0]!.proxy_allowed = ['127.0.0.1'];
  });
  t.after(() => env.close());
  await env.addUser('alice', 'alice-pw');
  await env.addUser('bob', 'bob-pw');
  // allowed only from the address haproxy speaks for: proves IP filters see the header's address
  await env.addUser('onlyseven', 'seven-pw', { filters: { allowed_ip: ['127.0.0.7/32'] } });
  const [sshV1, sshV2, ftpFront, httpFront] = [await freePort('127.0.0.2'), await freePort('127.0.0.2'), await freePort('127.0.0.2'), await freePort('127.0.0.2')];
  const proxy = await startHaproxy(env.dir, [
    { listen: `127.0.0.2:${sshV1}`, target: `127.0.0.1:${env.ssh}`, sendProxy: 'send-proxy' },
    { listen: `127.0.0.2:${sshV2}`, target: `127.0.0.1:${env.ssh}`, sendProxy: 'send-proxy-v2' },
    { listen: `127.0.0.2:${ftpFront}`, target: `127.0.0.1:${env.ftp}`, sendProxy: 'send-proxy-v2' },
    // passive data, one route per port, all through the proxy as the control connection
    ...[0, 1, 2, 3].map((i): ProxyRoute => ({ listen: `127.0.0.2:${range.start + i}`, target: `127.0.0.1:${range.start + i}`, sendProxy: 'send-proxy' })),
    { listen: `127.0.0.2:${httpFront}`, target: `127.0.0.1:${env.http}`, sendProxy: 'send-proxy' },
  ]);
  t.after(() => proxy.stop());

  assert.equal(await sshLogin(sshV1, 'alice', 'alice-pw', { host: '127.0.0.2', localAddress: '127.0.0.7' }), 'ok');
  assert.equal(await sshLogin(sshV2, 'alice', 'alice-pw', { host: '127.0.0.2', localAddress: '127.0.0.8' }), 'ok');
  assert.equal(await sshLogin(sshV1, 'onlyseven', 'seven-pw', { host: '127.0.0.2', localAddress: '127.0.0.7' }), 'ok');
  assert.notEqual(await sshLogin(sshV2, 'onlyseven', 'seven-pw', { host: '127.0.0.2', localAddress: '127.0.0.8' }), 'ok');
  // straight from the allowed proxy address without a header: the socket's 127.0.0.1 is the client
  assert.notEqual(await sshLogin(env.ssh, 'onlyseven', 'seven-pw'), 'ok');

  const work = await fsp.mkdtemp(path.join(env.dir, 'lftp-'));
  await fsp.writeFile(path.join(work, 'up.txt'), 'through the proxy\n');
  const ftp = await lftpRun('127.0.0.2', ftpFront, 'alice', 'alice-pw', '127.0.0.9',
    ['put up.txt -o remote.txt', 'get remote.txt -o back.txt', 'cls -1'], work);
  assert.equal(ftp.code, 0, ftp.out);
  assert.equal(await fsp.readFile(path.join(work, 'back.txt'), 'utf8'), 'through the proxy\n');
  assert.match(ftp.out, /remote\.txt/);

  const token = await httpGet(httpFront, '/api/v2/token', { host: '127.0.0.2', localAddress: '127.0.0.11', headers: { Authorization: basic('admin', 'adminpw') } });
  assert.equal(token.status, 200, token.body);

  const trusted = await httpGet(env.dav, '/', { headers: { Authorization: basic('alice', 'alice-pw'), 'X-Forwarded-For': '198.51.100.20' } });
  assert.ok(trusted.status !== 401 && trusted.status !== 403, `dav ${trusted.status}`);
  const untrusted = await httpGet(env.dav, '/', { localAddress: '127.0.0.5', headers: { Authorization: basic('bob', 'bob-pw'), 'X-Forwarded-For': '198.51.100.21' } });
  assert.ok(untrusted.status !== 401 && untrusted.status !== 403, `dav ${untrusted.status}`);

  const lines = await env.logLines();
  const logins = lines.filter((l) => l.sender === 'login').map((l) => `${String(l.protocol)} ${String(l.ip)} ${String(l.username)}`);
  assert.ok(logins.includes('SSH 127.0.0.7 alice'), logins.join('\n'));
  assert.ok(logins.includes('SSH 127.0.0.8 alice'), logins.join('\n'));
  assert.ok(logins.includes('SSH 127.0.0.7 onlyseven'), logins.join('\n'));
  assert.ok(logins.includes('FTP 127.0.0.9 alice'), logins.join('\n'));
  assert.ok(logins.includes('DAV 198.51.100.20 alice'), logins.join('\n'));
  assert.ok(logins.includes('DAV 127.0.0.5 bob'), logins.join('\n'));
  assert.ok(!logins.some((l) => l.includes('198.51.100.21')), 'an untrusted X-Forwarded-For is ignored');
  assert.ok(lines.some((l) => typeof l.remote_addr === 'string' && l.remote_addr.startsWith('127.0.0.11:')),
    'the HTTP access log shows the address haproxy spoke for');
  const transfers = lines.filter((l) => l.sender === 'Upload' || l.sender === 'Download');
  assert.ok(transfers.length >= 2 && transfers.every((l) => String(l.remote_address ?? l.ip ?? '').includes('127.0.0.9') || JSON.stringify(l).includes('127.0.0.9')),
    JSON.stringify(transfers));
});
