/** Connection strings as SFTPGo users write them: libpq keyword/value and URI, Go MySQL DSN. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMysqlDsn, parsePgConnectionString } from '../../../src/dataprovider/sql/dsn';
import { mysqlPoolOptions, pgPoolConfig } from '../../../src/dataprovider/sql/options';
import { providerConfig } from './support';

test('libpq keyword/value: quotes, escapes, spaces around =', () => {
  const kv = parsePgConnectionString(`host=db.example port = 5433 dbname='my db' user=sftp password='it\\'s a \\\\secret' sslmode=verify-full`, 'cs');
  assert.deepEqual(Object.fromEntries(kv), {
    host: 'db.example', port: '5433', dbname: 'my db', user: 'sftp', password: "it's a \\secret", sslmode: 'verify-full',
  });
  assert.throws(() => parsePgConnectionString('host=x password', 'cs'), (e: Error) => /character 8/.test(e.message) && !e.message.includes('password'));
  assert.throws(() => parsePgConnectionString("host=x password='open", 'cs'), /unterminated quoted value for "password"/);
});

test('postgres URI: encoded password, query settings', () => {
  const kv = parsePgConnectionString('postgresql://sftp:p%40ss%2Fw@db.example:6432/sftpgo?sslmode=require&target_session_attrs=any', 'cs');
  assert.deepEqual(Object.fromEntries(kv), {
    host: 'db.example', port: '6432', user: 'sftp', password: 'p@ss/w', dbname: 'sftpgo', sslmode: 'require', target_session_attrs: 'any',
  });
  const cfg = pgPoolConfig(providerConfig({ driver: 'postgresql', connection_string: 'postgres://u:pw@h:6432/d?sslmode=require' }));
  assert.equal(cfg.port, 6432);
  assert.equal(cfg.database, 'd');
  assert.ok(typeof cfg.ssl === 'object' && cfg.ssl.rejectUnauthorized === false, 'require checks no certificate, as libpq');
  const full = pgPoolConfig(providerConfig({ driver: 'postgresql', name: 'd', host: 'h', sslmode: 3 }));
  assert.ok(typeof full.ssl === 'object' && full.ssl.rejectUnauthorized === true && full.ssl.checkServerIdentity === undefined);
});

test('Go MySQL DSN: an @ in the password, unix sockets, parameters', () => {
  const d = parseMysqlDsn('sftp:p@ss:word@tcp([::1]:3307)/sftpgo?collation=utf8mb4_unicode_ci&tls=skip-verify', 'cs');
  assert.deepEqual({ ...d, params: Object.fromEntries(d.params) }, {
    user: 'sftp', password: 'p@ss:word', net: 'tcp', address: '[::1]:3307', database: 'sftpgo',
    params: { collation: 'utf8mb4_unicode_ci', tls: 'skip-verify' },
  });
  const o = mysqlPoolOptions(providerConfig({ driver: 'mysql', connection_string: 'sftp:p@ss:word@tcp([::1]:3307)/sftpgo?tls=skip-verify' }));
  assert.deepEqual([o.host, o.port, o.user, o.password, o.database], ['::1', 3307, 'sftp', 'p@ss:word', 'sftpgo']);
  assert.ok(typeof o.ssl === 'object' && o.ssl.rejectUnauthorized === false);
  const sock = mysqlPoolOptions(providerConfig({ driver: 'mysql', connection_string: 'root@unix(/run/mysqld/mysqld.sock)/db' }));
  assert.equal(sock.socketPath, '/run/mysqld/mysqld.sock');
});
