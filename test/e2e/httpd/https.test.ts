/** HTTPS with a self-signed certificate made by openssl at test time; reload swaps it without dropping the listener. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type TestServer } from './support';

let certDir: string;
let s: TestServer;

function makeCert(dir: string, name: string): void {
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`), '-days', '1', '-subj', `/CN=${name}`,
    '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'ignore', timeout: 30_000 });
}

interface TlsResponse { status: number; body: string; fingerprint: string; cn: string }

function get(port: number, path: string, agent: Agent | false = false): Promise<TlsResponse & { socket: TLSSocket }> {
  return new Promise((resolve, reject) => {
    // a new connection each time (agent: false) so a reloaded certificate is seen
    const req = request({ host: '127.0.0.1', port, path, agent, rejectUnauthorized: false }, (res) => {
      const sock = res.socket as TLSSocket;
      const cert = sock.getPeerCertificate();
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, fingerprint: cert.fingerprint256, cn: String(cert.subject?.CN ?? ''), socket: sock }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  certDir = await mkdtemp(join(tmpdir(), 'httpd-certs-'));
  makeCert(certDir, 'first');
  makeCert(certDir, 'second');
  s = await startServer({
    binding: { enable_https: true, certificate_file: 'tls/server.crt', certificate_key_file: 'tls/server.key' },
    prepare: async (dir) => {
      await mkdir(join(dir, 'tls'));
      await copyFile(join(certDir, 'first.crt'), join(dir, 'tls', 'server.crt'));
      await copyFile(join(certDir, 'first.key'), join(dir, 'tls', 'server.key'));
    },
  });
});

after(async () => {
  await s?.close();
  await rm(certDir, { recursive: true, force: true });
});

test('HTTPS serves the configured certificate and reload swaps it', async () => {
  const port = s.svc.addresses()[0].port;
  // a client speaking plain text to the TLS port is dropped without harm
  await new Promise<void>((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.on('error', () => undefined);
    sock.on('close', () => resolve());
    sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  });
  const first = await get(port, '/healthz');
  assert.equal(first.status, 200);
  assert.equal(first.body, 'ok');
  assert.equal(first.cn, 'first');
  // the token flow works over TLS too
  const tok = await get(port, '/api/v2/version');
  assert.equal(tok.status, 401);

  // a kept-alive connection opened before the reload
  const agent = new Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
  const before = await get(port, '/healthz', agent);
  assert.equal(before.cn, 'first');

  await rename(join(certDir, 'second.crt'), join(s.dir, 'tls', 'server.crt'));
  await rename(join(certDir, 'second.key'), join(s.dir, 'tls', 'server.key'));
  await s.svc.reload?.();
  const second = await get(port, '/healthz');
  assert.equal(second.status, 200);
  assert.equal(second.cn, 'second');
  assert.notEqual(second.fingerprint, first.fingerprint);
  assert.equal(s.svc.addresses()[0].port, port, 'same listener');
  // the connection opened before the reload keeps being served, on its original handshake
  const kept = await get(port, '/healthz', agent);
  assert.equal(kept.status, 200);
  assert.equal(kept.socket, before.socket, 'same TLS connection');
  assert.equal(kept.cn, 'first');
  agent.destroy();

  // a broken certificate on reload keeps the previous one
  await writeFile(join(s.dir, 'tls', 'server.crt'), 'not a certificate');
  await s.svc.reload?.();
  const third = await get(port, '/healthz');
  assert.equal(third.cn, 'second');
  assert.ok(s.logs.some((l) => l.level === 'error' && /reload failed/.test(l.message)));
});
