/**
 * TLS to MariaDB with SFTPGo's data_provider keys, against a `mariadbd` of the
 * test's own (ssl-ca/ssl-cert/ssl-key from a test CA, one account that
 * REQUIREs a client certificate with a given subject): sslmode 1 (verify,
 * with root_cert), 2 (skip-verify), client_cert/client_key. The server's
 * session status (Ssl_cipher) proves the session is encrypted; a wrong CA or
 * a missing client certificate is refused with a clear error.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import type { DataProviderConfig } from '../../../src/config/types';
import { openDataProvider } from '../../../src/dataprovider/index';
import { mysqlPoolOptions } from '../../../src/dataprovider/sql/options';
import { PrivateMariadb } from '../../support/private-mariadb';
import { makePki, type TestPki } from '../../support/tlscerts';
import { providerConfig, RecordingLogger, tempDir, userInput } from './support';

const CERT_USER = 'certuser';

describe('MariaDB over TLS (a private mariadbd with ssl-ca/ssl-cert/ssl-key)', () => {
  let server: PrivateMariadb;
  let pki: TestPki;
  let workDir: string;

  before(async () => {
    workDir = mkdtempSync(path.join(tmpdir(), 'sftpgo-mariatls-'));
    pki = await makePki(path.join(workDir, 'pki'), [CERT_USER]);
    server = await PrivateMariadb.create({
      files: { 'server.crt': pki.caSignedServer.cert, 'server.key': pki.caSignedServer.key, 'ca.crt': pki.caCert },
      settings: { 'ssl-cert': 'server.crt', 'ssl-key': 'server.key', 'ssl-ca': 'ca.crt' },
    });
    await server.query('CREATE DATABASE sftpgo');
    await server.query(`CREATE USER '${CERT_USER}'@'127.0.0.1' REQUIRE SUBJECT '/CN=${CERT_USER}' AND ISSUER '/CN=sftpgo-ts test CA'`);
    await server.query(`GRANT ALL PRIVILEGES ON sftpgo.* TO '${CERT_USER}'@'127.0.0.1'`);
  });
  after(async () => {
    await server?.destroy();
    rmSync(workDir, { recursive: true, force: true });
  });

  const cfg = (extra: Partial<DataProviderConfig>): DataProviderConfig => providerConfig({
    driver: 'mysql', name: 'sftpgo', host: '127.0.0.1', port: server.port, username: 'root', password: '', ...extra,
  });

  /** Connects with the pool options the provider would use; returns the session's cipher ('' = plain) and user. */
  async function session(c: DataProviderConfig): Promise<{ cipher: string; user: string }> {
    const pool = mysql.createPool({ ...mysqlPoolOptions(c), connectionLimit: 1 });
    try {
      const [status] = await pool.query("SHOW SESSION STATUS LIKE 'Ssl_cipher'");
      const [who] = await pool.query('SELECT CURRENT_USER() AS u');
      return { cipher: String((status as { Value: string }[])[0]?.Value ?? ''), user: String((who as { u: string }[])[0]?.u) };
    } finally {
      await pool.end();
    }
  }

  test('sslmode 0: a plain session', async () => {
    assert.equal((await session(cfg({ sslmode: 0 }))).cipher, '');
  });

  test('sslmode 1 verify: encrypted with root_cert; a wrong CA is refused', async () => {
    assert.notEqual((await session(cfg({ sslmode: 1, root_cert: pki.caCert }))).cipher, '');
    await assert.rejects(session(cfg({ sslmode: 1, root_cert: pki.otherCaCert })), /self-signed certificate in certificate chain/);
    // a host name is checked against the certificate too, as Go's driver does ("localhost" is not in it);
    // with an IP address (above) only the chain is checked: mysql2 cannot check an address (README)
    await assert.rejects(session(cfg({ sslmode: 1, root_cert: pki.caCert, host: 'localhost' })), /Hostname\/IP does not match certificate's altnames: Host: localhost/);
  });

  test('sslmode 2 skip-verify: encrypted, the certificate is not checked', async () => {
    assert.notEqual((await session(cfg({ sslmode: 2 }))).cipher, '');
    assert.notEqual((await session(cfg({ sslmode: 2, root_cert: pki.otherCaCert }))).cipher, '');
  });

  test('client_cert/client_key: an account that REQUIREs the certificate subject', async () => {
    const client = pki.clients[CERT_USER]!;
    const seen = await session(cfg({ sslmode: 1, root_cert: pki.caCert, username: CERT_USER, client_cert: client.cert, client_key: client.key }));
    assert.notEqual(seen.cipher, '');
    assert.equal(seen.user, `${CERT_USER}@127.0.0.1`);
    await assert.rejects(session(cfg({ sslmode: 1, root_cert: pki.caCert, username: CERT_USER })), /Access denied for user 'certuser'/);
    await assert.rejects(session(cfg({ sslmode: 0, username: CERT_USER })), /Access denied for user 'certuser'/);
  });

  test('the data provider itself over verify + client certificate; a wrong CA stops it naming root_cert', async (t) => {
    const client = pki.clients[CERT_USER]!;
    const dp = await openDataProvider({
      config: cfg({ sslmode: 1, root_cert: pki.caCert, username: CERT_USER, client_cert: client.cert, client_key: client.key }),
      configDir: tempDir(t), logger: new RecordingLogger(), migrate: true, env: {},
    });
    t.after(() => dp.close());
    await dp.addUser(userInput('tlsuser'));
    await dp.checkUserAndPass('tlsuser', 'secret', { ip: '127.0.0.1', protocol: 'SSH' });
    await assert.rejects(openDataProvider({
      config: cfg({ sslmode: 1, root_cert: pki.otherCaCert }), configDir: tempDir(t), logger: new RecordingLogger(), migrate: true, env: {},
    }), /^Error: data_provider: the database server's TLS certificate was refused \(self-signed certificate in certificate chain\): root_cert/);
  });
});
