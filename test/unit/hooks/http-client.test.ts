/** The hooks' HTTP client: headers, timeouts, size bound, go-retryablehttp's retry policy, CA/client certificates, skip_tls_verify. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { HookHttpClient } from '../../../src/hooks/http-client';
import { HookError } from '../../../src/hooks/types';
import { defaultConfig, hookServer, json, tempDir, type TestCtx } from './support';

function makeCert(dir: string, name: string): void {
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', path.join(dir, `${name}.key`), '-out', path.join(dir, `${name}.crt`), '-days', '1', '-subj', `/CN=${name}`,
    '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'ignore', timeout: 30_000 });
}

function client(edit: Parameters<typeof defaultConfig>[0], dir = '/', sleeps: number[] = []): HookHttpClient {
  return new HookHttpClient(defaultConfig(edit).http, dir, { sleep: async (ms) => { sleeps.push(ms); } });
}

test('headers are added when their url is empty or a prefix of the request URL', async (t) => {
  const srv = await hookServer(t, (_req, res) => json(res, 200, 'ok'));
  const c = client((cfg) => {
    cfg.http.headers = [
      { key: 'X-All', value: '1', url: '' },
      { key: 'X-Match', value: '2', url: `${srv.url}/api` },
      { key: 'X-Other', value: '3', url: 'http://elsewhere' },
      { key: 'X-Empty', value: '', url: '' },
    ];
  });
  const r = await c.send({ hook: 'pre_login', method: 'POST', url: `${srv.url}/api/x`, body: '{}', retry: false });
  assert.equal(r.status, 200);
  const h = srv.requests[0]?.headers ?? {};
  assert.equal(h['x-all'], '1');
  assert.equal(h['x-match'], '2');
  assert.equal(h['x-other'], undefined);
  assert.equal(h['x-empty'], undefined);
});

test('retry policy: 5xx and 429 retried with backoff (Retry-After honoured), 501 and 4xx are not, non-retrying calls never are', async (t) => {
  let n = 0;
  const srv = await hookServer(t, (req, res) => {
    n++;
    const mode = req.url.pathname;
    if (mode === '/flaky' && n < 3) { json(res, 502, ''); return; }
    if (mode === '/limited' && n < 2) { res.writeHead(429, { 'Retry-After': '7' }); res.end(); return; }
    if (mode === '/501') { json(res, 501, ''); return; }
    json(res, mode === '/404' ? 404 : 200, 'ok');
  });
  const sleeps: number[] = [];
  const c = client((cfg) => { cfg.http.retry_max = 3; cfg.http.retry_wait_min = 1; cfg.http.retry_wait_max = 3; }, '/', sleeps);
  assert.equal((await c.send({ hook: 'post_login', method: 'GET', url: `${srv.url}/flaky`, retry: true })).status, 200);
  assert.equal(n, 3);
  assert.deepEqual(sleeps, [1000, 2000]);
  n = 0; sleeps.length = 0;
  assert.equal((await c.send({ hook: 'post_login', method: 'GET', url: `${srv.url}/limited`, retry: true })).status, 200);
  assert.deepEqual(sleeps, [7000]);
  n = 0;
  assert.equal((await c.send({ hook: 'post_login', method: 'GET', url: `${srv.url}/501`, retry: true })).status, 501);
  assert.equal((await c.send({ hook: 'post_login', method: 'GET', url: `${srv.url}/404`, retry: true })).status, 404);
  assert.equal(n, 2);
  n = 0;
  assert.equal((await c.send({ hook: 'external_auth', method: 'POST', url: `${srv.url}/flaky`, body: '{}', retry: false })).status, 502);
  assert.equal(n, 1);
  n = -100;
  const err = await c.send({ hook: 'post_connect', method: 'GET', url: `${srv.url}/flaky`, retry: true }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof HookError && /giving up after 4 attempts/.test(err.message), String(err));
});

test('the timeout bounds the whole exchange; an oversized body is refused', async (t) => {
  const srv = await hookServer(t, (req, res) => {
    if (req.url.pathname === '/hang') { res.writeHead(200); res.write('{'); return; } // never ends
    res.writeHead(200);
    res.end(Buffer.alloc(1024 * 1024 + 10, 0x20));
  });
  const c = client((cfg) => { cfg.http.timeout = 0.3; });
  const e1 = await c.send({ hook: 'check_password', method: 'POST', url: `${srv.url}/hang`, body: '{}', retry: false }).then(() => undefined, (e: unknown) => e);
  assert.ok(e1 instanceof HookError && e1.failure === 'timeout', String(e1));
  const c2 = client(() => undefined);
  const e2 = await c2.send({ hook: 'check_password', method: 'POST', url: `${srv.url}/big`, body: '{}', retry: false }).then(() => undefined, (e: unknown) => e);
  assert.ok(e2 instanceof HookError && e2.failure === 'output-too-large', String(e2));
});

async function tlsServer(t: TestCtx, dir: string, requireClientCert: boolean): Promise<{ url: string; clientCN: string[] }> {
  const clientCN: string[] = [];
  const server = https.createServer({
    key: readFileSync(path.join(dir, 'server.key')), cert: readFileSync(path.join(dir, 'server.crt')),
    requestCert: requireClientCert, rejectUnauthorized: requireClientCert,
    ca: requireClientCert ? [readFileSync(path.join(dir, 'client.crt'))] : undefined,
  }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    if (peer?.subject?.CN) clientCN.push(String(peer.subject.CN));
    json(res, 200, 'ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, clientCN };
}

test('HTTPS: untrusted certificate refused (not retried), trusted via ca_certificates, accepted with skip_tls_verify, client certificate sent', async (t) => {
  const dir = tempDir(t);
  makeCert(dir, 'server');
  makeCert(dir, 'client');
  const plain = await tlsServer(t, dir, false);
  const sleeps: number[] = [];
  const untrusted = await client((c) => { c.http.retry_max = 3; }, dir, sleeps)
    .send({ hook: 'post_connect', method: 'GET', url: plain.url, retry: true }).then(() => undefined, (e: unknown) => e);
  assert.ok(untrusted instanceof HookError, String(untrusted));
  assert.deepEqual(sleeps, [], 'a certificate error is not retried');
  const trusted = client((c) => { c.http.ca_certificates = ['server.crt']; }, dir);
  assert.equal((await trusted.send({ hook: 'post_connect', method: 'GET', url: plain.url, retry: true })).status, 200);
  const skip = client((c) => { c.http.skip_tls_verify = true; }, dir);
  assert.equal((await skip.send({ hook: 'post_connect', method: 'GET', url: plain.url, retry: false })).status, 200);

  const mtls = await tlsServer(t, dir, true);
  const noCert = await trusted.send({ hook: 'pre_login', method: 'POST', url: mtls.url, body: '{}', retry: false }).then(() => undefined, (e: unknown) => e);
  assert.ok(noCert instanceof HookError, 'the server requires a client certificate');
  const withCert = client((c) => { c.http.ca_certificates = [path.join(dir, 'server.crt')]; c.http.certificates = [{ cert: 'client.crt', key: 'client.key' }]; }, dir);
  assert.equal((await withCert.send({ hook: 'pre_login', method: 'POST', url: mtls.url, body: '{}', retry: false })).status, 200);
  assert.deepEqual(mtls.clientCN, ['client']);
});

test('connections are kept alive and reused; a kept connection the peer reset is replaced, the call still succeeds', async (t) => {
  // a raw HTTP/1.1 peer: answers the first request of each connection with keep-alive; on the
  // second request of a connection it resets it without answering (a peer that dropped an idle connection)
  const connections: net.Socket[] = [];
  const server = net.createServer((sock) => {
    connections.push(sock);
    let requests = 0;
    let buffered = '';
    sock.on('data', (d: Buffer) => {
      buffered += d.toString('latin1');
      while (buffered.includes('\r\n\r\n')) {
        buffered = buffered.slice(buffered.indexOf('\r\n\r\n') + 4);
        requests++;
        if (requests === 2 && resetSecond) {
          sock.resetAndDestroy();
          return;
        }
        sock.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4\r\nConnection: keep-alive\r\n\r\n"ok"');
      }
    });
    sock.on('error', () => undefined);
  });
  let resetSecond = false;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => { for (const s of connections) s.destroy(); server.close(() => r()); }));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const c = client(() => undefined);
  t.after(() => c.close());
  for (let i = 0; i < 3; i++) assert.equal((await c.send({ hook: 'pre_login', method: 'GET', url, retry: false })).status, 200);
  assert.equal(connections.length, 1, 'three calls, one connection');
  resetSecond = true;
  const before = connections.length;
  // the kept connection now answers its next request with a reset: one new connection, no failure
  const c2 = client(() => undefined);
  t.after(() => c2.close());
  assert.equal((await c2.send({ hook: 'external_auth', method: 'POST', url, body: '{}', retry: false })).status, 200);
  assert.equal((await c2.send({ hook: 'external_auth', method: 'POST', url, body: '{}', retry: false })).status, 200);
  assert.equal(connections.length, before + 2, 'the reset connection was replaced by a new one');
});
