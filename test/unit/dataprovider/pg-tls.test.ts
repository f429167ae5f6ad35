/**
 * TLS to PostgreSQL with SFTPGo's data_provider keys, against a server of the
 * test's own (ssl=on, a certificate signed by a test CA, a `hostssl ... cert`
 * line for one user): sslmode 1 require, 2 verify-ca and 3 verify-full with
 * root_cert, client_cert/client_key for certificate auth. The server's own
 * view (pg_stat_ssl) proves the session is encrypted and which client
 * certificate it saw; a wrong CA, a name the certificate does not carry and a
 * missing or foreign client certificate are refused with clear errors.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { DataProviderConfig } from '../../../src/config/types';
import { openDataProvider } from '../../../src/dataprovider/index';
import { pgPoolConfig } from '../../../src/dataprovider/sql/options';
import { PrivatePostgres } from '../../support/private-postgres';
import { makePki, type TestPki } from '../../support/tlscerts';
import { providerConfig, RecordingLogger, tempDir, userInput } from './support';

const CERT_USER = 'certuser';

describe('PostgreSQL over TLS (a private server with ssl=on)', () => {
  let server: PrivatePostgres;
  let pki: TestPki;
  let workDir: string;

  before(async () => {
    workDir = mkdtempSync(path.join(tmpdir(), 'sftpgo-pgtls-'));
    pki = await makePki(path.join(workDir, 'pki'), [CERT_USER]);
    server = await PrivatePostgres.create({
      files: { 'server.crt': pki.caSignedServer.cert, 'server.key': pki.caSignedServer.key, 'ca.crt': pki.caCert },
      settings: { ssl: 'on', ssl_cert_file: "'../server.crt'", ssl_key_file: "'../server.key'", ssl_ca_file: "'../ca.crt'" },
      // certuser: TLS with a client certificate whose CN is the user name, nothing else
      hba: [`hostssl all ${CERT_USER} 127.0.0.1/32 cert`, `host all ${CERT_USER} 127.0.0.1/32 reject`],
    });
    await server.query('CREATE DATABASE sftpgo');
    await server.query(`CREATE ROLE ${CERT_USER} LOGIN`);
    await server.query(`GRANT ALL ON SCHEMA public TO ${CERT_USER}`, 'sftpgo');
  });
  after(async () => {
    await server?.destroy();
    rmSync(workDir, { recursive: true, force: true });
  });

  const cfg = (extra: Partial<DataProviderConfig>): DataProviderConfig => providerConfig({
    driver: 'postgresql', name: 'sftpgo', host: '127.0.0.1', port: server.port, username: 'postgres', password: '', ...extra,
  });

  /** Connects with the pool options the provider would use; returns what the server saw of the session. */
  async function session(c: DataProviderConfig): Promise<{ ssl: boolean; client_dn: string | null; user: string }> {
    const pool = new pg.Pool({ ...pgPoolConfig(c), max: 1 });
    pool.on('error', () => undefined);
    try {
      const r = await pool.query<{ ssl: boolean; client_dn: string | null; user: string }>(
        'SELECT s.ssl, s.client_dn, current_user AS user FROM pg_stat_ssl s WHERE s.pid = pg_backend_pid()');
      const row = r.rows[0];
      assert.ok(row);
      return row;
    } finally {
      await pool.end();
    }
  }

  test('sslmode 0 disable: a plain session', async () => {
    assert.equal((await session(cfg({ sslmode: 0 }))).ssl, false);
  });

  test('sslmode 1 require: encrypted, the certificate is not checked without root_cert', async () => {
    assert.equal((await session(cfg({ sslmode: 1 }))).ssl, true);
    // with a root_cert, require checks the chain (libpq does the same)
    await assert.rejects(session(cfg({ sslmode: 1, root_cert: pki.otherCaCert })), /self-signed certificate in certificate chain/);
  });

  test('sslmode 2 verify-ca: the chain is checked, the host name is not', async () => {
    assert.equal((await session(cfg({ sslmode: 2, root_cert: pki.caCert }))).ssl, true);
    assert.equal((await session(cfg({ sslmode: 2, root_cert: pki.caCert, host: 'localhost' }))).ssl, true, 'localhost is not in the certificate: verify-ca does not care');
    await assert.rejects(session(cfg({ sslmode: 2, root_cert: pki.otherCaCert })), /self-signed certificate in certificate chain/);
  });

  test('sslmode 3 verify-full: the chain and the host name are checked', async () => {
    assert.equal((await session(cfg({ sslmode: 3, root_cert: pki.caCert }))).ssl, true);
    await assert.rejects(session(cfg({ sslmode: 3, root_cert: pki.caCert, host: 'localhost' })), /Hostname\/IP does not match certificate's altnames: Host: localhost/);
    await assert.rejects(session(cfg({ sslmode: 3, root_cert: pki.otherCaCert })), /self-signed certificate in certificate chain/);
  });

  test('client_cert/client_key: certificate auth on a hostssl cert line; none or a foreign one is refused', async () => {
    const client = pki.clients[CERT_USER]!;
    const seen = await session(cfg({ sslmode: 3, root_cert: pki.caCert, username: CERT_USER, client_cert: client.cert, client_key: client.key }));
    assert.deepEqual(seen, { ssl: true, client_dn: `/CN=${CERT_USER}`, user: CERT_USER });
    await assert.rejects(session(cfg({ sslmode: 3, root_cert: pki.caCert, username: CERT_USER })), /connection requires a valid client certificate/);
    await assert.rejects(session(cfg({ sslmode: 3, root_cert: pki.caCert, username: CERT_USER, client_cert: pki.stranger.cert, client_key: pki.stranger.key })),
      /alert unknown ca/);
    await assert.rejects(session(cfg({ sslmode: 0, username: CERT_USER })), /pg_hba\.conf rejects connection for host "127\.0\.0\.1", user "certuser", database "sftpgo", no encryption/);
  });

  test('the data provider itself: migrations, a user saved and read back over verify-full with a client certificate', async (t) => {
    const client = pki.clients[CERT_USER]!;
    const dp = await openDataProvider({
      config: cfg({ sslmode: 3, root_cert: pki.caCert, username: CERT_USER, client_cert: client.cert, client_key: client.key }),
      configDir: tempDir(t), logger: new RecordingLogger(), migrate: true, env: {},
    });
    t.after(() => dp.close());
    await dp.addUser(userInput('tlsuser'));
    assert.equal((await dp.getUser('tlsuser'))?.username, 'tlsuser');
    await dp.checkUserAndPass('tlsuser', 'secret', { ip: '127.0.0.1', protocol: 'SSH' });
  });

  test('a wrong CA or a foreign client certificate stops the provider from opening, naming the keys to fix', async (t) => {
    const logger = new RecordingLogger();
    await assert.rejects(openDataProvider({
      config: cfg({ sslmode: 3, root_cert: pki.otherCaCert }), configDir: tempDir(t), logger, migrate: true, env: {},
    }), (e: unknown) => {
      assert.match((e as Error).message, /^data_provider: the database server's TLS certificate was refused \(self-signed certificate in certificate chain\): root_cert must be the CA/);
      return true;
    });
    // a foreign client certificate: the server ends the handshake, the message points at client_cert/client_key
    await assert.rejects(openDataProvider({
      config: cfg({ sslmode: 3, root_cert: pki.caCert, username: CERT_USER, client_cert: pki.stranger.cert, client_key: pki.stranger.key }),
      configDir: tempDir(t), logger, migrate: true, env: {},
    }), /^Error: data_provider: the database server ended the TLS handshake \(ERR_SSL_TLSV1_ALERT_UNKNOWN_CA\): check client_cert\/client_key/);
  });
});
