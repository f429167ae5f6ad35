/**
 * TLS client certificates as an FTP login (SFTPGo's VerifyConnection), driven
 * by lftp with ssl:cert-file/ssl:key-file on the explicit TLS binding: a
 * verified certificate of a user with TLS verification logs in at USER
 * (TLSCertificate), or needs the password too when TLSCertificate is denied
 * (TLSCertificate+password); a certificate for another name is refused; a
 * revoked (CRL) or untrusted one never completes the handshake.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makePki, type TestPki } from '../../support/tlscerts';
import { addUser, lftp, startFtp, type FtpHarness } from './harness';
import { RawFtp } from './rawftp';

describe('FTP client certificates (client_auth_type 1)', () => {
  let h: FtpHarness;
  let pki: TestPki;
  let pkiDir: string;
  let url: string;
  const tls = (c: { cert: string; key: string }) => [
    'set ftp:ssl-force yes', 'set ftp:ssl-protect-data yes', 'set ftp:ssl-protect-list yes',
    `set ssl:cert-file ${c.cert}`, `set ssl:key-file ${c.key}`,
  ];
  const loginMethods = async (user: string) =>
    (await h.logLines()).filter((l) => l.sender === 'login' && l.username === user).map((l) => l.method);

  before(async () => {
    pkiDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'sftpgo-pki-'));
    pki = await makePki(pkiDir, ['alice', 'bob', 'carol']);
    h = await startFtp((c) => {
      c.ftpd.bindings[1] = { ...c.ftpd.bindings[1]!, client_auth_type: 1 };
      c.ftpd.certificate_file = pki.serverCert;
      c.ftpd.certificate_key_file = pki.serverKey;
      c.ftpd.ca_certificates = [pki.caCert];
      c.ftpd.ca_revocation_lists = [pki.crl];
    });
    url = `ftp://127.0.0.1:${h.explicitPort}`;
    await addUser(h, { username: 'alice', password: 'alice-pw', filters: { tls_username: 'CommonName' } });
    await addUser(h, { username: 'bob', password: 'bob-pw', filters: { tls_username: 'CommonName', denied_login_methods: ['TLSCertificate'] } });
    await addUser(h, { username: 'carol', password: 'carol-pw' });
  });
  after(async () => {
    await h?.close();
    await fsp.rm(pkiDir, { recursive: true, force: true });
  });

  test('TLSCertificate: USER with the certificate logs in, no password needed', async () => {
    const r = await lftp(url, 'alice', 'not-the-password', ['cls -1'], tls(pki.clients.alice!));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await loginMethods('alice'), ['TLSCertificate']);
  });

  test('TLSCertificate denied: certificate and password (TLSCertificate+password)', async () => {
    assert.notEqual((await lftp(url, 'bob', 'wrong', ['cls -1'], tls(pki.clients.bob!))).code, 0);
    const r = await lftp(url, 'bob', 'bob-pw', ['cls -1'], tls(pki.clients.bob!));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await loginMethods('bob'), ['TLSCertificate+password']);
  });

  test('a certificate with another CommonName is refused at USER, even with the right password', async () => {
    assert.notEqual((await lftp(url, 'bob', 'bob-pw', ['cls -1'], tls(pki.clients.alice!))).code, 0);
    const failed = (await h.logLines()).filter((l) => l.sender === 'connection_failed' && l.username === 'bob');
    assert.ok(failed.some((l) => /CN "alice" does not match username "bob"/.test(String(l.error))));
  });

  test('a user without TLS verification logs in with the password (method password)', async () => {
    const r = await lftp(url, 'carol', 'carol-pw', ['cls -1'], tls(pki.clients.carol!));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await loginMethods('carol'), ['password']);
  });

  test('revoked and untrusted certificates do not get in', async () => {
    for (const cert of [pki.revoked, pki.stranger]) {
      assert.notEqual((await lftp(url, 'alice', 'alice-pw', ['cls -1'], tls(cert))).code, 0);
    }
    assert.deepEqual(await loginMethods('alice'), ['TLSCertificate']);
  });
});

describe('FTP client certificates (client_auth_type 2: verified if given)', () => {
  let h: FtpHarness;
  let pki: TestPki;
  let pkiDir: string;
  let url: string;
  const FORCE = ['set ftp:ssl-force yes', 'set ftp:ssl-protect-data yes', 'set ftp:ssl-protect-list yes'];
  const withCert = (c: { cert: string; key: string }) => [...FORCE, `set ssl:cert-file ${c.cert}`, `set ssl:key-file ${c.key}`];

  before(async () => {
    pkiDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'sftpgo-pki-'));
    pki = await makePki(pkiDir, ['alice']);
    h = await startFtp((c) => {
      c.ftpd.bindings[1] = { ...c.ftpd.bindings[1]!, client_auth_type: 2 };
      c.ftpd.certificate_file = pki.serverCert;
      c.ftpd.certificate_key_file = pki.serverKey;
      c.ftpd.ca_certificates = [pki.caCert];
      c.ftpd.ca_revocation_lists = [pki.crl];
    });
    url = `ftp://127.0.0.1:${h.explicitPort}`;
    await addUser(h, { username: 'alice', password: 'alice-pw', filters: { tls_username: 'CommonName' } });
  });
  after(async () => {
    await h?.close();
    await fsp.rm(pkiDir, { recursive: true, force: true });
  });

  test('no certificate: the password logs in', async () => {
    const r = await lftp(url, 'alice', 'alice-pw', ['cls -1'], FORCE);
    assert.equal(r.code, 0, r.stderr);
  });

  test('a verified certificate logs in without the password', async () => {
    assert.equal((await lftp(url, 'alice', 'wrong', ['cls -1'], withCert(pki.clients.alice!))).code, 0);
  });

  test('a revoked certificate closes the session, even with the right password', async () => {
    assert.notEqual((await lftp(url, 'alice', 'alice-pw', ['cls -1'], withCert(pki.revoked))).code, 0);
    const lines = await h.logLines();
    assert.ok(lines.some((l) => l.sender === 'connection_failed' && l.login_type === 'TLSCertificate' && /invalid client certificate/.test(String(l.error))));
  });

  test('an untrusted certificate closes the session (raw client: GnuTLS would not offer it)', async () => {
    const r = await RawFtp.connect(h.explicitPort);
    try {
      // the server closes once the handshake is done: during startTls or before USER is answered
      const attempt = async (): Promise<void> => {
        await r.startTls({ cert: await fsp.readFile(pki.stranger.cert), key: await fsp.readFile(pki.stranger.key) });
        await r.cmd('USER alice');
      };
      await assert.rejects(attempt(), /closed/);
    } finally {
      r.close();
    }
  });
});
