/**
 * TLS client certificates as a WebDAV login (SFTPGo's getCredentialsAndLoginMethod),
 * driven by curl over HTTPS with a CA, CRL and client certificates made by
 * openssl: TLSCertificate (the username is the CommonName), TLSCertificate+password
 * (Basic credentials too), tls_certs matched by content, a user without TLS
 * verification checked on the password alone, revoked and untrusted
 * certificates refused, for client_auth_type 1 (required) and 2 (if given).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makePki, type TestPki } from '../../support/tlscerts';
import { startDav, type DavServer } from './harness';

interface CurlOut { status: number; exit: number }

function curl(url: string, cert?: { cert: string; key: string }, basic?: string): Promise<CurlOut> {
  const args = ['-s', '-k', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '30', '-X', 'PROPFIND', '-H', 'Depth: 0'];
  if (cert) args.push('--cert', cert.cert, '--key', cert.key);
  if (basic) args.push('-u', basic);
  return new Promise((resolve) => {
    const child = execFile('curl', [...args, `${url}/`], { timeout: 60_000 }, (err, stdout) => {
      const exit = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ status: Number(stdout.trim() || 0), exit });
    });
    child.on('error', () => undefined);
  });
}

let pki: TestPki;
let pkiDir: string;
before(async () => {
  pkiDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'sftpgo-pki-'));
  pki = await makePki(pkiDir, ['alice', 'bob', 'carol', 'erin', 'frank']);
});
after(async () => { await fsp.rm(pkiDir, { recursive: true, force: true }); });

for (const clientAuthType of [1, 2] as const) {
  describe(`WebDAV client certificates, client_auth_type ${clientAuthType}`, () => {
    let dav: DavServer;
    let url: string;
    const loginMethods = async (user: string) =>
      (await dav.readLog()).filter((l) => l.sender === 'login' && l.username === user).map((l) => l.method);

    before(async () => {
      dav = await startDav((c) => {
        c.webdavd.bindings = [{ ...c.webdavd.bindings[0]!, enable_https: true, client_auth_type: clientAuthType }];
        c.webdavd.certificate_file = pki.serverCert;
        c.webdavd.certificate_key_file = pki.serverKey;
        c.webdavd.ca_certificates = [pki.caCert];
        c.webdavd.ca_revocation_lists = [pki.crl];
      });
      url = `https://127.0.0.1:${dav.port}`;
      const erinPem = await fsp.readFile(pki.clients.erin!.cert, 'utf8');
      await dav.createUser({ username: 'alice', password: 'alice-pw', filters: { tls_username: 'CommonName' } });
      await dav.createUser({ username: 'bob', password: 'bob-pw', filters: { tls_username: 'CommonName', denied_login_methods: ['TLSCertificate'] } });
      await dav.createUser({ username: 'carol', password: 'carol-pw' });
      await dav.createUser({ username: 'erin', password: 'erin-pw', filters: { tls_certs: [erinPem] } });
      await dav.createUser({ username: 'frank', password: 'frank-pw', filters: { tls_certs: [erinPem] } });
    });
    after(async () => { await dav?.stop(); });

    test('TLSCertificate: the certificate alone logs in the user named by its CommonName', async () => {
      assert.equal((await curl(url, pki.clients.alice)).status, 207);
      assert.deepEqual(await loginMethods('alice'), ['TLSCertificate']);
    });

    test('TLSCertificate denied for the user: the password is needed too (TLSCertificate+password)', async () => {
      assert.equal((await curl(url, pki.clients.bob)).status, 401);
      assert.equal((await curl(url, pki.clients.bob, 'bob:wrong')).status, 401);
      assert.equal((await curl(url, pki.clients.bob, 'bob:bob-pw')).status, 207);
      assert.deepEqual(await loginMethods('bob'), ['TLSCertificate+password']);
    });

    test('a certificate for another name does not log in as this user', async () => {
      assert.equal((await curl(url, pki.clients.alice, 'bob:bob-pw')).status, 401);
      const failed = (await dav.readLog()).filter((l) => l.sender === 'connection_failed' && l.username === 'bob');
      assert.ok(failed.some((l) => /CN "alice" does not match username "bob"/.test(String(l.error))));
    });

    test('tls_certs: the listed certificate logs in, another one with the right name does not', async () => {
      assert.equal((await curl(url, pki.clients.erin)).status, 207);
      assert.equal((await curl(url, pki.clients.frank)).status, 401);
    });

    test('a user without TLS verification: the certificate alone is refused, the password decides (method password)', async () => {
      assert.equal((await curl(url, pki.clients.carol)).status, 401);
      assert.equal((await curl(url, pki.clients.carol, 'carol:carol-pw')).status, 207);
      assert.deepEqual(await loginMethods('carol'), ['password']);
    });

    test('revoked and untrusted certificates are refused', async () => {
      for (const cert of [pki.revoked, pki.stranger]) {
        const r = await curl(url, cert, 'alice:alice-pw');
        // type 1: the TLS handshake fails (no HTTP status); type 2: refused after the handshake
        assert.ok(r.status === 0 || r.status === 403, `got ${r.status}`);
      }
      assert.deepEqual(await loginMethods('alice'), ['TLSCertificate']);
    });

    test(`without a client certificate: ${clientAuthType === 1 ? 'the handshake fails' : 'Basic credentials still work'}`, async () => {
      const r = await curl(url, undefined, 'carol:carol-pw');
      if (clientAuthType === 1) assert.equal(r.status, 0);
      else assert.equal(r.status, 207);
    });
  });
}
