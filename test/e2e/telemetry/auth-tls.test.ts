/**
 * The telemetry listener of the real daemon with `auth_user_file` (htpasswd,
 * bcrypt and apr1 users) and TLS, driven with curl. /metrics needs basic
 * auth, /healthz does not (SFTPGo); HTTPS only on the TLS port; SIGHUP
 * reloads the certificate; bad settings stop start-up naming the key.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { removeDaemonDir, startDaemonListening, stopDaemon, until, type Daemon } from '../../support/daemon';
import { freePort } from '../../support/net';
import { makePki, type TestPki } from '../../support/tlscerts';

const run = promisify(execFile);

interface CurlResult { code: number; status: number; body: string; headers: string; httpVersion: string }

/** curl exits non-zero on transport errors (refused TLS, bad certificate); the HTTP status is in `status`. */
async function curl(args: string[]): Promise<CurlResult> {
  const marker = '\n@@curl@@';
  const full = ['-sS', '-D', '-', '--max-time', '20', '-w', `${marker}%{http_code} %{http_version}`, ...args];
  try {
    const { stdout } = await run('curl', full);
    const [text, tail] = stdout.split(marker) as [string, string];
    const [status, httpVersion] = tail.split(' ') as [string, string];
    const split = text.indexOf('\r\n\r\n');
    return { code: 0, status: Number(status), headers: text.slice(0, split), body: text.slice(split + 4), httpVersion };
  } catch (e) {
    const err = e as { code?: number };
    return { code: typeof err.code === 'number' ? err.code : -1, status: 0, body: '', headers: '', httpVersion: '' };
  }
}

let root: string;
let pki: TestPki;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'telemetry-auth-tls-'));
  pki = await makePki(join(root, 'pki'), []);
});
after(async () => { await rm(root, { recursive: true, force: true }); });

/** A daemon whose config dir already holds `files` (so relative paths in the settings resolve there). */
async function caSignedFiles(): Promise<Record<string, string>> {
  return { 'c.pem': await readFile(pki.caSignedServer.cert, 'utf8'), 'c.key': await readFile(pki.caSignedServer.key, 'utf8') };
}

async function daemonWith(files: Record<string, string>, telemetry: Record<string, string>): Promise<{ d: Daemon; port: number }> {
  const port = await freePort();
  const env: Record<string, string> = { SFTPGO_TELEMETRY__BIND_PORT: String(port), SFTPGO_TELEMETRY__BIND_ADDRESS: '127.0.0.1' };
  for (const [k, v] of Object.entries(telemetry)) env[`SFTPGO_TELEMETRY__${k.toUpperCase()}`] = v;
  // telemetry starts after the SFTP and HTTP listeners
  return { d: await startDaemonListening(root, files, env, port), port };
}

async function apr1(password: string): Promise<string> {
  return (await run('openssl', ['passwd', '-apr1', password])).stdout.trim();
}

async function htpasswdText(): Promise<string> {
  return [
    '# telemetry scrapers',
    `prom:${bcrypt.hashSync('prom-secret', 4)}`,
    `grafana:${await apr1('grafana-secret')}`,
    `legacy:${(await run('mkpasswd', ['-m', 'md5', 'legacy-secret'])).stdout.trim()}`,
    '',
  ].join('\n');
}

test('auth_user_file: /metrics needs a matching htpasswd user (bcrypt, apr1, md5 crypt); /healthz stays open', async () => {
  const { d, port } = await daemonWith({ 'users.htpasswd': await htpasswdText() }, { auth_user_file: 'users.htpasswd' });
  try {
    const url = `http://127.0.0.1:${port}/metrics`;
    const anonymous = await curl([url]);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers, /^www-authenticate: Basic realm="SFTPGo telemetry"/im);
    assert.doesNotMatch(anonymous.body, /sftpgo_/);
    assert.equal((await curl(['-u', 'prom:wrong', url])).status, 401);
    assert.equal((await curl(['-u', 'nobody:prom-secret', url])).status, 401);
    assert.equal((await curl(['-u', 'grafana:prom-secret', url])).status, 401, 'another user\'s password');
    for (const [user, pw] of [['prom', 'prom-secret'], ['grafana', 'grafana-secret'], ['legacy', 'legacy-secret']]) {
      const ok = await curl(['-u', `${user}:${pw}`, url]);
      assert.equal(ok.status, 200, user);
      assert.match(ok.body, /^sftpgo_login_attempts_total/m, user);
    }
    const health = await curl([`http://127.0.0.1:${port}/healthz`]);
    assert.equal(health.status, 200);
    assert.equal(health.body, 'ok');

    // the file is re-read when it changes (as SFTPGo does): a removed user is refused at once
    await writeFile(join(d.configDir, 'users.htpasswd'), `grafana:${await apr1('rotated')}\n`);
    assert.equal((await curl(['-u', 'prom:prom-secret', url])).status, 401);
    assert.equal((await curl(['-u', 'grafana:rotated', url])).status, 200);
    // an invalid file denies everyone instead of falling back to open access
    await writeFile(join(d.configDir, 'users.htpasswd'), 'grafana:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n');
    assert.equal((await curl(['-u', 'grafana:rotated', url])).status, 401);
  } finally {
    await stopDaemon(d);
    removeDaemonDir(d);
  }
});

test('TLS: HTTPS with the configured certificate, basic auth over it, HTTP/2 by ALPN; plain HTTP refused; SIGHUP reloads the certificate', async () => {
  const { d, port } = await daemonWith({
    'users.htpasswd': await htpasswdText(), 'tls.pem': await readFile(pki.serverCert, 'utf8'), 'tls.key': await readFile(pki.serverKey, 'utf8'),
  }, { auth_user_file: 'users.htpasswd', certificate_file: 'tls.pem', certificate_key_file: 'tls.key' });
  try {
    const url = `https://127.0.0.1:${port}/metrics`;
    const ok = await curl(['--cacert', pki.serverCert, '-u', 'prom:prom-secret', url]);
    assert.equal(ok.code, 0);
    assert.equal(ok.status, 200);
    assert.match(ok.body, /^sftpgo_login_attempts_total/m);
    assert.equal(ok.httpVersion, '2', 'curl negotiates h2 (SFTPGo default protocols http/1.1, h2)');
    const h1 = await curl(['--http1.1', '--cacert', pki.serverCert, '-u', 'grafana:grafana-secret', url]);
    assert.equal(h1.status, 200);
    assert.equal(h1.httpVersion, '1.1');
    assert.equal((await curl(['--cacert', pki.serverCert, url])).status, 401);
    assert.equal((await curl(['--cacert', pki.serverCert, '-u', 'prom:bad', url])).status, 401);
    // an untrusted certificate and plain HTTP both fail at the transport level
    assert.notEqual((await curl(['--cacert', pki.caCert, '-u', 'prom:prom-secret', url])).code, 0);
    const plain = await curl(['-u', 'prom:prom-secret', `http://127.0.0.1:${port}/metrics`]);
    assert.notEqual(plain.code, 0);
    assert.equal(plain.status, 0);

    // SIGHUP: the CA-signed certificate replaces the self-signed one
    await writeFile(join(d.configDir, 'tls.pem'), await readFile(pki.caSignedServer.cert));
    await writeFile(join(d.configDir, 'tls.key'), await readFile(pki.caSignedServer.key));
    assert.notEqual((await curl(['--cacert', pki.caCert, '-u', 'prom:prom-secret', url])).code, 0, 'no reload before SIGHUP');
    d.proc.kill('SIGHUP');
    await until('the reloaded certificate', async () => (await curl(['--cacert', pki.caCert, '-u', 'prom:prom-secret', url])).status === 200);
  } finally {
    await stopDaemon(d);
    removeDaemonDir(d);
  }
});

test('TLS: min_tls_version 13 refuses TLS 1.2 clients; tls_cipher_suites limits TLS 1.2 suites', async () => {
  const v13 = await daemonWith(await caSignedFiles(), {
    certificate_file: 'c.pem', certificate_key_file: 'c.key', min_tls_version: '13',
  });
  try {
    const url = `https://127.0.0.1:${v13.port}/metrics`;
    assert.equal((await curl(['--cacert', pki.caCert, '--tlsv1.3', url])).status, 200);
    assert.notEqual((await curl(['--cacert', pki.caCert, '--tls-max', '1.2', url])).code, 0);
  } finally {
    await stopDaemon(v13.d);
    removeDaemonDir(v13.d);
  }
  const suites = await daemonWith(await caSignedFiles(), {
    certificate_file: 'c.pem', certificate_key_file: 'c.key', tls_cipher_suites: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  });
  try {
    const url = `https://127.0.0.1:${suites.port}/metrics`;
    const base = ['--cacert', pki.caCert, '--tls-max', '1.2'];
    assert.equal((await curl([...base, '--ciphers', 'ECDHE-ECDSA-AES256-GCM-SHA384', url])).status, 200);
    assert.notEqual((await curl([...base, '--ciphers', 'ECDHE-ECDSA-AES128-GCM-SHA256', url])).code, 0);
    // TLS 1.3 suites are not configurable (as in SFTPGo): a TLS 1.3 client still connects
    assert.equal((await curl(['--cacert', pki.caCert, '--tlsv1.3', url])).status, 200);
  } finally {
    await stopDaemon(suites.d);
    removeDaemonDir(suites.d);
  }
});

test('bad telemetry settings stop start-up naming the key', async () => {
  const cases: [Record<string, string>, Record<string, string>, RegExp][] = [
    [{}, { auth_user_file: 'missing.htpasswd' }, /telemetry\.auth_user_file .*missing\.htpasswd/],
    [{ 'u.htpasswd': 'viewer:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n' }, { auth_user_file: 'u.htpasswd' }, /telemetry\.auth_user_file .*line 1: user "viewer" has an unsupported hash format/],
    [{ 'u.htpasswd': 'no-colon-here\n' }, { auth_user_file: 'u.htpasswd' }, /telemetry\.auth_user_file .*line 1/],
    [{}, { certificate_file: pki.serverCert }, /telemetry\.certificate_file and telemetry\.certificate_key_file must be set together/],
    [{}, { certificate_file: 'nope.pem', certificate_key_file: pki.serverKey }, /telemetry\.certificate_file: .*nope\.pem/],
    [{}, { certificate_file: pki.serverCert, certificate_key_file: pki.serverKey, tls_cipher_suites: 'TLS_RSA_WITH_RC4_128_SHA' }, /telemetry\.tls_cipher_suites: unsupported cipher suite "TLS_RSA_WITH_RC4_128_SHA"/],
    [{}, { certificate_file: pki.serverCert, certificate_key_file: pki.serverKey, tls_protocols: 'spdy/3' }, /telemetry\.tls_protocols/],
  ];
  for (const [files, telemetry, expected] of cases) {
    await assert.rejects(daemonWith(files, telemetry), expected, JSON.stringify(telemetry));
  }
});
