/**
 * A security setting the server cannot enforce is refused with a 400 naming
 * the field, on save (POST /api/v2/users) and on load (POST /api/v2/loaddata),
 * never stored and silently ignored: an unknown tls_username mode, a
 * tls_certs entry that is not a certificate, a two_factor_protocols entry
 * that cannot check a second factor. The enforced values are accepted.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, type TestServer } from './support';

let s: TestServer;
let token: string;
before(async () => {
  s = await startServer();
  token = await s.token();
});
after(async () => { await s.close(); });

const userBody = (username: string, filters: Record<string, unknown>) => ({
  status: 1, username, password: 'secret-pw-1', home_dir: join(s.dir, 'data', username), permissions: { '/': ['*'] }, filters,
});

const CASES: [string, Record<string, unknown>, RegExp][] = [
  ['san', { tls_username: 'SubjectAltName' }, /filters\.tls_username/],
  ['certs', { tls_certs: ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----'] }, /filters\.tls_certs\[0\]/],
  ['dav2fa', { two_factor_protocols: ['DAV'] }, /filters\.two_factor_protocols/],
];

test('POST /api/v2/users refuses each one with a 400 naming the field, nothing stored', async () => {
  for (const [name, filters, field] of CASES) {
    const r = await s.call('POST', '/api/v2/users', { token, body: userBody(name, filters) });
    assert.equal(r.status, 400, `${name}: ${r.text}`);
    assert.match(r.text, field);
    assert.equal((await s.call('GET', `/api/v2/users/${name}`, { token })).status, 404);
  }
  const none = await s.call('POST', '/api/v2/users', { token, body: userBody('none', { tls_username: 'None' }) });
  assert.equal(none.status, 201, none.text);
  const cn = await s.call('POST', '/api/v2/users', { token, body: userBody('cn', { tls_username: 'CommonName', two_factor_protocols: ['SSH', 'FTP', 'HTTP'] }) });
  assert.equal(cn.status, 201, cn.text);
});

test('POST /api/v2/loaddata refuses a dump carrying them', async () => {
  for (const [name, filters, field] of CASES) {
    const dump = { version: 17, users: [userBody(`dump${name}`, filters)], folders: [], admins: [] };
    const r = await s.call('POST', '/api/v2/loaddata', { token, body: dump });
    assert.equal(r.status, 400, `${name}: ${r.text}`);
    assert.match(r.text, field);
    assert.equal((await s.call('GET', `/api/v2/users/dump${name}`, { token })).status, 404);
  }
});
