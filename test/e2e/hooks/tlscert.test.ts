/**
 * TLS certificate logins and the external auth hook (external_auth_scope bit
 * 8), as SFTPGo: the hook gets the client certificate as PEM (tls_cert in the
 * HTTP body, SFTPGO_AUTHD_TLS_CERT with literal "\n" for programs) and no
 * password; the account it returns is created and the built-in certificate
 * check (tls_username CommonName) still applies. Driven by lftp (FTP, program
 * hook) and curl (WebDAV over HTTPS, HTTP hook) with client certificates.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makePki, type TestPki } from '../../support/tlscerts';
import { hookServer, json, nodeScript } from '../../unit/hooks/support';
import { run } from '../sftpd/openssh';
import { startHooksEnv, type HooksEnv } from './env';

let pki: TestPki;
let pkiDir: string;
before(async () => {
  pkiDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'sftpgo-pki-'));
  pki = await makePki(pkiDir, ['alice', 'bob', 'carol']);
});
after(async () => { await fsp.rm(pkiDir, { recursive: true, force: true }); });

function withClientCerts(c: Parameters<Parameters<typeof startHooksEnv>[0]>[0]): void {
  c.ftpd.bindings = [{ ...c.ftpd.bindings[0]!, tls_mode: 0, client_auth_type: 1 }];
  c.ftpd.certificate_file = pki.serverCert;
  c.ftpd.certificate_key_file = pki.serverKey;
  c.ftpd.ca_certificates = [pki.caCert];
  c.webdavd.bindings = [{ ...c.webdavd.bindings[0]!, enable_https: true, client_auth_type: 1 }];
  c.webdavd.certificate_file = pki.serverCert;
  c.webdavd.certificate_key_file = pki.serverKey;
  c.webdavd.ca_certificates = [pki.caCert];
}

function lftpCert(env: HooksEnv, user: string, password: string, cert: { cert: string; key: string }) {
  return run('lftp', ['-c', [
    'set cmd:fail-exit yes', 'set net:max-retries 1', 'set net:timeout 20', 'set ftp:ssl-force yes', 'set ftp:ssl-protect-data yes',
    'set ssl:verify-certificate no', `set ssl:cert-file ${cert.cert}`, `set ssl:key-file ${cert.key}`,
    `open -u "${user}","${password}" -p ${env.ports.ftp} 127.0.0.1`, 'cls -1',
  ].join('; ')]);
}

async function davCert(env: HooksEnv, cert: { cert: string; key: string }, basic?: string): Promise<number> {
  const args = ['-s', '-k', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '30', '-X', 'PROPFIND', '-H', 'Depth: 0',
    '--cert', cert.cert, '--key', cert.key];
  if (basic) args.push('-u', basic);
  const r = await run('curl', [...args, `https://127.0.0.1:${env.ports.dav}/`]);
  return Number(r.stdout.trim() || 0);
}

const loginMethods = async (env: HooksEnv, user: string): Promise<string[]> =>
  (await env.logText()).split('\n').filter((l) => l.includes('"sender":"login"') && l.includes(`"username":"${user}"`))
    .map((l) => (JSON.parse(l) as { method: string }).method);

test('program hook, FTP: a certificate login asks the hook with the PEM and no password; the user it returns logs in', { timeout: 120_000 }, async (t) => {
  let calls = '';
  const env = await startHooksEnv((c, dir) => {
    withClientCerts(c);
    calls = path.join(dir, 'calls.jsonl');
    c.data_provider.external_auth_scope = 8;
    c.data_provider.external_auth_hook = nodeScript(dir, 'ext-auth.js', `
      const fs = require('fs');
      const e = process.env;
      fs.appendFileSync(${JSON.stringify(calls)}, JSON.stringify({ user: e.SFTPGO_AUTHD_USERNAME, cert: e.SFTPGO_AUTHD_TLS_CERT, password: e.SFTPGO_AUTHD_PASSWORD, protocol: e.SFTPGO_AUTHD_PROTOCOL }) + '\\n');
      if (!e.SFTPGO_AUTHD_TLS_CERT.startsWith('-----BEGIN CERTIFICATE-----\\\\n')) { process.stdout.write('{"username":""}'); process.exit(0); }
      process.stdout.write(JSON.stringify({ status: 1, username: e.SFTPGO_AUTHD_USERNAME, home_dir: ${JSON.stringify(dir)} + '/homes/' + e.SFTPGO_AUTHD_USERNAME,
        permissions: { '/': ['*'] }, filters: { tls_username: 'CommonName' } }));`);
  });
  t.after(() => env.stop());
  const r = await lftpCert(env, 'alice', 'anything', pki.clients.alice!);
  if (r.status !== 0) console.error((await env.logText()).split('\n').filter((l) => /hook|login|connection_failed|ftpd/.test(l)).slice(-15).join('\n'));
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(await loginMethods(env, 'alice'), ['TLSCertificate']);
  const seen = readFileSync(calls, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
  assert.ok(seen.length >= 1);
  const pem = readFileSync(pki.clients.alice!.cert, 'utf8').trim();
  for (const call of seen) {
    assert.equal(call.user, 'alice');
    assert.equal(call.password, '', 'no password with the certificate');
    assert.equal(call.protocol, 'FTP');
    assert.equal(call.cert?.replaceAll('\\n', '\n').trim(), pem, 'the client certificate, one line with literal \\n');
  }
  assert.equal((await env.app.ctx.provider.getUser('alice'))?.filters?.tls_username, 'CommonName', 'created from the answer');
  // the built-in check still applies to what the hook returned: bob's certificate is not alice's
  const wrong = await lftpCert(env, 'alice', 'anything', pki.clients.bob!);
  assert.notEqual(wrong.status, 0);
});

test('HTTP hook, WebDAV: tls_cert in the body (scope 8); TLSCertificate+password asks it about the password too (scope 9); scope 1 never sees the certificate', { timeout: 120_000 }, async (t) => {
  const srv = await hookServer(t, (req, res) => {
    const b = JSON.parse(req.body) as { username: string; tls_cert: string; password: string };
    if (b.username === 'carol') { json(res, 200, { username: '' }); return; }
    json(res, 200, { status: 1, username: b.username, password: b.password || undefined, home_dir: `/tmp/hooks-tls/${b.username}`, permissions: { '/': ['*'] },
      filters: { tls_username: 'CommonName', ...(b.username === 'bob' ? { denied_login_methods: ['TLSCertificate'] } : {}) } });
  });
  const withScope = async (scope: number): Promise<HooksEnv> => {
    const e = await startHooksEnv((c) => {
      withClientCerts(c);
      c.data_provider.external_auth_scope = scope;
      c.data_provider.external_auth_hook = `${srv.url}/auth`;
    });
    t.after(() => e.stop());
    return e;
  };
  const env = await withScope(8);
  assert.equal(await davCert(env, pki.clients.alice!), 207);
  const body = JSON.parse(srv.requests.at(-1)?.body ?? '{}') as Record<string, string>;
  assert.equal(body.username, 'alice');
  assert.equal(body.password, '');
  assert.equal(body.protocol, 'DAV');
  assert.equal(body.tls_cert?.trim(), readFileSync(pki.clients.alice!.cert, 'utf8').trim());
  assert.deepEqual(await loginMethods(env, 'alice'), ['TLSCertificate']);
  // an empty username from the hook refuses the certificate
  assert.notEqual(await davCert(env, pki.clients.carol!), 207);
  await env.stop();

  // scope 9: certificate first, then the password, each its own call (SFTPGo's CheckUserAndTLSCert, then CheckUserAndPass)
  const env9 = await withScope(9);
  srv.requests.length = 0;
  assert.equal(await davCert(env9, pki.clients.bob!, 'bob:bob-secret'), 207);
  const steps = srv.requests.map((x) => JSON.parse(x.body) as Record<string, string>).map((b) => [b.tls_cert !== '', b.password]);
  assert.deepEqual(steps, [[true, ''], [false, 'bob-secret']]);
  assert.deepEqual(await loginMethods(env9, 'bob'), ['TLSCertificate+password']);
  await env9.stop();

  // scope 1: the certificate step is not the hook's (the stored user decides)
  const env1 = await withScope(1);
  srv.requests.length = 0;
  await env1.app.ctx.provider.addUser({ status: 1, username: 'alice', password: 'x', home_dir: '/tmp/hooks-tls/alice', permissions: { '/': ['*'] }, filters: { tls_username: 'CommonName' } });
  assert.equal(await davCert(env1, pki.clients.alice!), 207);
  assert.equal(srv.requests.length, 0);
});
