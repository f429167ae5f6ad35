/**
 * tls_cipher_suites and tls_protocols of the HTTPS listeners are applied, not
 * stored and ignored: SFTPGo's (Go) suite names are mapped to OpenSSL's
 * (util/tls-suites.ts), so a WebDAV binding limited to one TLS 1.2 suite
 * refuses a curl offering another; an unknown suite or a protocol list
 * without http/1.1 (these listeners serve HTTP/1.1 only) stops start-up
 * naming the key. The mapping itself is unit-tested with telemetry's.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { removeDaemonDir, startDaemonListening, stopDaemon, type Daemon } from '../../support/daemon';
import { freePort } from '../../support/net';
import { makePki, type TestPki } from '../../support/tlscerts';
import { goSuitesToOpenssl, http11Alpn } from '../../../src/util/tls-suites';

const run = promisify(execFile);
let root: string;
let pki: TestPki;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'webdav-tls-suites-'));
  pki = await makePki(join(root, 'pki'), []);
});
after(async () => { await rm(root, { recursive: true, force: true }); });

/** curl's exit code (0: the TLS handshake and request went through) */
async function curlCode(args: string[]): Promise<number> {
  try {
    await run('curl', ['-sS', '-o', '/dev/null', '--max-time', '20', ...args]);
    return 0;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'number' ? code : -1;
  }
}

async function davDaemon(binding: Record<string, string>): Promise<{ d: Daemon; port: number }> {
  const files = { 'c.pem': await readFile(pki.caSignedServer.cert, 'utf8'), 'c.key': await readFile(pki.caSignedServer.key, 'utf8') };
  const port = await freePort();
  const env: Record<string, string> = {
    SFTPGO_WEBDAVD__BINDINGS__0__PORT: String(port), SFTPGO_WEBDAVD__BINDINGS__0__ADDRESS: '127.0.0.1',
    SFTPGO_WEBDAVD__BINDINGS__0__ENABLE_HTTPS: 'true', SFTPGO_WEBDAVD__CERTIFICATE_FILE: 'c.pem', SFTPGO_WEBDAVD__CERTIFICATE_KEY_FILE: 'c.key',
  };
  for (const [k, v] of Object.entries(binding)) env[`SFTPGO_WEBDAVD__BINDINGS__0__${k.toUpperCase()}`] = v;
  return { d: await startDaemonListening(root, files, env, port), port };
}

test('the mapping: Go names to OpenSSL names, unknown ones refused naming the key; HTTP/1.1-only ALPN', () => {
  assert.equal(goSuitesToOpenssl(['TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'], 'k'), 'ECDHE-ECDSA-AES256-GCM-SHA384');
  assert.throws(() => goSuitesToOpenssl(['NOPE'], 'webdavd.bindings[0].tls_cipher_suites'), /webdavd\.bindings\[0\]\.tls_cipher_suites: unsupported cipher suite "NOPE"/);
  assert.deepEqual(http11Alpn([], 'k'), { ALPNProtocols: ['http/1.1'], h2Dropped: false });
  assert.deepEqual(http11Alpn(['http/1.1', 'h2'], 'k'), { ALPNProtocols: ['http/1.1'], h2Dropped: true });
  assert.throws(() => http11Alpn(['h2'], 'httpd.bindings[0].tls_protocols'), /httpd\.bindings\[0\]\.tls_protocols: .*must include "http\/1\.1"/);
});

test('a WebDAV binding limited to one TLS 1.2 suite refuses a client offering another', async () => {
  const { d, port } = await davDaemon({ tls_cipher_suites: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384' });
  try {
    const base = ['--cacert', pki.caCert, '--tls-max', '1.2', `https://127.0.0.1:${port}/`];
    assert.equal(await curlCode(['--ciphers', 'ECDHE-ECDSA-AES256-GCM-SHA384', ...base]), 0, 'the configured suite is accepted');
    assert.notEqual(await curlCode(['--ciphers', 'ECDHE-ECDSA-AES128-GCM-SHA256', ...base]), 0, 'another suite is refused');
  } finally {
    await stopDaemon(d);
    removeDaemonDir(d);
  }
});

test('bad WebDAV TLS lists stop start-up naming the key', async () => {
  await assert.rejects(davDaemon({ tls_cipher_suites: 'TLS_RSA_WITH_RC4_128_SHA' }), /webdavd\.bindings\[0\]\.tls_cipher_suites: unsupported cipher suite/);
  await assert.rejects(davDaemon({ tls_protocols: 'h2' }), /webdavd\.bindings\[0\]\.tls_protocols/);
});
